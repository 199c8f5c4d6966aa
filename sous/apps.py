from django.apps import AppConfig


class SousConfig(AppConfig):
    """Project-wide pieces: system checks, the health endpoint, bootstrap commands."""

    name = "sous"
    verbose_name = "Sous"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
