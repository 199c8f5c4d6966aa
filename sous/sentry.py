"""Error reporting through Sentry, on only when SENTRY_DSN is set (settings call `init`).

Nothing secret may leave for Sentry. The SDK sends no personal data: send_default_pii is left
unset, which means off (setting it is deprecated in sentry-sdk 2.x, and its successor,
`data_collection`, would switch the EventScrubber off). Its EventScrubber filters secret-named
keys everywhere it looks (request data, headers, cookies, frames' local variables, extra,
breadcrumbs) with our denylist added, and `before_send` then walks the whole event once more
for secret-named keys and token-shaped strings (an exception message or a URL that carries one).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

from sous import logs

# OAuth's own parameter names (RFC 6749) and ours, beside Sentry's defaults (token, secret,
# password, authorization, cookie…, which EventScrubber matches exactly, lower-cased).
DENYLIST = [
    *DEFAULT_DENYLIST,
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "state",
    "access",
    "refresh",
    "signature",
    "x-square-hmacsha256-signature",
    "x_square_hmacsha256_signature",
    "x-goog-channel-token",
    "x_goog_channel_token",
    "encryption_keys",
    "integrations_encryption_keys",
    "secret_key",
]


def init(
    dsn: str,
    *,
    environment: str,
    release: str | None = None,
) -> bool:
    """Start reporting errors to `dsn`; False (and nothing started) when `dsn` is empty."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        event_scrubber=EventScrubber(denylist=DENYLIST, recursive=True),
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True


def before_send(event: dict, hint: dict) -> dict:
    request = event.get("request")
    if isinstance(request, dict) and isinstance(request.get("query_string"), str):
        # The OAuth callback's ?code=…&state=… arrives as one string, not as keys to match.
        request["query_string"] = urlencode(
            [
                (name, logs.REDACTED if _secret(name) else value)
                for name, value in parse_qsl(request["query_string"], keep_blank_values=True)
            ],
            safe="[]",
        )
    return _scrub(event)


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    return _scrub(crumb)


def _secret(name: str) -> bool:
    return bool(logs.SECRET_KEY_PATTERN.search(name)) or name.lower() in DENYLIST


def _scrub(value: Any, key: str = "") -> Any:
    if key and _secret(key):
        return logs.REDACTED
    if isinstance(value, str):
        return logs.redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value
