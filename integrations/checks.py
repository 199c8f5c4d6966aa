"""System checks for the integrations: every registered provider has OAuth credentials and,
outside DEBUG, talks to the real provider; a sync task's slice fits well inside the broker's
redelivery window."""

from django.conf import settings
from django.core.checks import Error, Warning, register

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


@register()
def check_provider_environments(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    problems = []
    for key in registry.provider_keys():
        if apps.credentials(key).environment != "local":
            continue
        provider = registry.provider_class(key)
        problems.append(
            Error(
                f"{provider.settings_prefix}_ENVIRONMENT is local while DEBUG is off: "
                f"{provider.name} connections would go to the development sandbox.",
                hint=f"Set {provider.settings_prefix}_ENVIRONMENT=production (see .env.example).",
                id="integrations.E001",
                obj=key,
            )
        )
    return problems


@register()
def check_task_slices_fit_the_visibility_timeout(app_configs, **kwargs):
    window = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    slice_seconds = settings.INTEGRATIONS_TASK_SLICE_SECONDS
    if window >= 2 * slice_seconds:
        return []
    return [
        Warning(
            f"CELERY_VISIBILITY_TIMEOUT ({window} s) is less than twice "
            f"INTEGRATIONS_TASK_SLICE_SECONDS ({slice_seconds} s): Redis will hand a running "
            "sync to a second worker before the first has finished its slice.",
            hint="Raise CELERY_VISIBILITY_TIMEOUT or lower INTEGRATIONS_TASK_SLICE_SECONDS.",
            id="integrations.W001",
        )
    ]
