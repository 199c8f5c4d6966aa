from django.apps import AppConfig


class SousConfig(AppConfig):
    """Project-wide pieces: system checks, the health endpoint, bootstrap commands."""

    name = "sous"
    verbose_name = "Sous"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from . import (
            checks,  # noqa: F401  (registers the checks)
            request_id,
        )

        request_finished.connect(request_id.request_finished, dispatch_uid="sous.request_id")
