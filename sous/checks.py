"""System checks for deployment settings, each with an id and a hint that says what to do."""

import base64
import binascii
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security)
def check_secret_key(app_configs, **kwargs):
    if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the built-in development key while DEBUG is off.",
                hint='Set SECRET_KEY to a long random value, e.g. python -c "import secrets; '
                'print(secrets.token_urlsafe(50))".',
                id="sous.E001",
            )
        ]
    return []


@register(Tags.security)
def check_public_base_url(app_configs, **kwargs):
    url = urlsplit(settings.PUBLIC_BASE_URL)
    if not url.scheme or not url.netloc:
        return [
            Error(
                f"PUBLIC_BASE_URL {settings.PUBLIC_BASE_URL!r} is not an absolute URL.",
                hint="Set PUBLIC_BASE_URL to this deployment's origin, e.g. https://api.sous.tools.",
                id="sous.E002",
            )
        ]
    if not settings.DEBUG and url.scheme != "https":
        return [
            Error(
                "PUBLIC_BASE_URL is not https while DEBUG is off: OAuth redirect URIs built "
                "from it would be refused by Square and Google.",
                hint="Set PUBLIC_BASE_URL to the https origin, e.g. https://api.sous.tools.",
                id="sous.E003",
            )
        ]
    return []


@register(Tags.security)
def check_trusted_proxies(app_configs, **kwargs):
    # The web process (Procfile) speaks plain http: an https deployment has a TLS proxy in front.
    if settings.DEBUG or settings.TRUSTED_PROXY_COUNT:
        return []
    if urlsplit(settings.PUBLIC_BASE_URL).scheme != "https":
        return []
    return [
        Warning(
            "TRUSTED_PROXY_COUNT is 0 although PUBLIC_BASE_URL is https: behind the TLS proxy, "
            "login rate limits would count an address that a client can forge.",
            hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front of Sous, usually 1.",
            id="sous.W002",
        )
    ]


@register(Tags.security)
def check_encryption_keys(app_configs, **kwargs):
    keys = settings.INTEGRATIONS_ENCRYPTION_KEYS
    hint = (
        "Set INTEGRATIONS_ENCRYPTION_KEYS to one or more comma-separated base64 32-byte keys, "
        'e.g. python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())".'
    )
    if not keys:
        return [Error("INTEGRATIONS_ENCRYPTION_KEYS is empty.", hint=hint, id="sous.E004")]
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            problems.append(
                Error(
                    f"INTEGRATIONS_ENCRYPTION_KEYS entry {position} is not a base64 32-byte key.",
                    hint=hint,
                    id="sous.E005",
                )
            )
    return problems


@register(Tags.compatibility)
def check_email(app_configs, **kwargs):
    if not settings.DEBUG and not settings.EMAIL_URL_SET:
        return [
            Warning(
                "EMAIL_URL is not set: notifications and password resets go to an SMTP server "
                "on localhost:25.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587.",
                id="sous.W001",
            )
        ]
    return []
