"""What can go wrong talking to a provider, in words the rest of the product understands.

Clients raise these; services translate them into connection state, job state and a message
for staff. `permanent` tells a caller that retrying the same call cannot help.
Messages carry a status and a short excerpt, never tokens, headers or whole bodies.
"""

from __future__ import annotations


class ProviderError(Exception):
    permanent = False

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.provider = provider


class Unavailable(ProviderError):
    """Timeout, connection failure or 5xx: transient, retried with backoff."""


class ApiError(ProviderError):
    """The provider answered with an error we do not classify further."""

    permanent = True

    def __init__(
        self, message: str, *, provider: str = "", status: int = 0, code: str = "", field: str = ""
    ):
        super().__init__(message, provider=provider)
        self.status = status
        self.code = code
        self.field = field  # the request field the provider named as the problem, if any


class RateLimited(ApiError):
    """429: wait `retry_after` seconds, then try again."""

    permanent = False

    def __init__(self, message: str, *, provider: str = "", retry_after: float = 1.0, **kw):
        super().__init__(message, provider=provider, status=429, **kw)
        self.retry_after = retry_after


class Unauthorized(ApiError):
    """The access token is not accepted (expired, revoked, unknown, or lacks a scope).

    `expired`: the refusal may mean only that the token lapsed, so one refresh (single-flight,
    integrations.services.tokens.call) is tried before the connection is ever put in Error.
    """

    def __init__(self, message: str, *, provider: str = "", expired: bool = False, **kw):
        super().__init__(message, provider=provider, **kw)
        self.expired = expired


class GrantRefused(Unauthorized):
    """The grant itself is gone (refresh refused, revoked, invalid_grant): staff must reconnect."""


class NotFound(ApiError):
    """The object asked for does not exist, or this account cannot see it."""


class CursorExpired(ProviderError):
    """The provider refused the position the last successful sync left (`Page.cursor`) as
    expired or no longer valid, so only a full sync can go on. Actions raise it; the job
    engine forgets that cursor and runs the job again from the start, once."""

    permanent = True


def excerpt(text: str, limit: int = 160) -> str:
    """A short, single-line slice of a provider's error text for logs and internal detail."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
