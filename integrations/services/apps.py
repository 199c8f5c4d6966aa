"""This deployment's OAuth app per provider, read from settings at call time."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse

from providers import registry
from providers.base import AppCredentials, Provider


def credentials(key: str) -> AppCredentials:
    prefix = registry.provider_class(key).settings_prefix
    return AppCredentials(
        client_id=getattr(settings, f"{prefix}_CLIENT_ID", ""),
        client_secret=getattr(settings, f"{prefix}_CLIENT_SECRET", ""),
        environment=getattr(settings, f"{prefix}_ENVIRONMENT", "production"),
        local_base_url=settings.PROVIDER_SANDBOX_URL,
        app_token=getattr(settings, f"{prefix}_APP_ACCESS_TOKEN", ""),
    )


def provider(key: str) -> Provider:
    """The provider for `key`; unknown keys raise registry.UnknownProvider."""
    return registry.get(key, credentials(key))


def provider_or_404(key: str) -> Provider:
    try:
        return provider(key)
    except registry.UnknownProvider:
        raise Http404("No such integration") from None


def missing_settings(key: str) -> list[str]:
    prefix = registry.provider_class(key).settings_prefix
    return [
        name
        for name in (f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET")
        if not getattr(settings, name, "")
    ]


def webhook_keys(key: str) -> list[str]:
    """The signature keys of the provider's webhook subscription (current first); none: its
    notifications are not expected (the schedules alone keep data current)."""
    prefix = registry.provider_class(key).settings_prefix
    return [k for k in getattr(settings, f"{prefix}_WEBHOOK_SIGNATURE_KEYS", []) if k]


def webhook_url(key: str) -> str:
    """The notification URL as registered with the provider (signatures cover it)."""
    prefix = registry.provider_class(key).settings_prefix
    return getattr(settings, f"{prefix}_WEBHOOK_URL", "")


def redirect_uri(key: str) -> str:
    """Built from PUBLIC_BASE_URL, never from the request's Host header (DESIGN: Connect)."""
    return settings.PUBLIC_BASE_URL + reverse("integrations:callback", args=[key])
