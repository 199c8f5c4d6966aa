"""System checks for the integrations: every registered provider has OAuth credentials."""

from django.core.checks import Warning, register

from providers import registry

from .services import apps


@register()
def check_provider_credentials(app_configs, **kwargs):
    problems = []
    for key in registry.provider_keys():
        missing = apps.missing_settings(key)
        if missing:
            name = registry.provider_class(key).name
            problems.append(
                Warning(
                    f"{name} has no OAuth client credentials: its card shows 'Not configured'.",
                    hint=f"Set {' and '.join(missing)} (see .env.example).",
                    id=f"integrations.W{key}",
                    obj=key,
                )
            )
    return problems
