"""Google's HTTP APIs we call: OpenID userinfo and Drive v3. Errors classified once.

Docs: https://developers.google.com/drive/api/reference/rest/v3
(contract: shared/reference/google/).
"""

from __future__ import annotations

import requests

from providers.errors import ApiError, NotFound, RateLimited, Unauthorized, Unavailable, excerpt
from providers.http import INTERACTIVE, Profile, session_for

from . import schemas

# Google's documented "retry with backoff" reasons (reference README §2.5), even when sent as 403.
RATE_LIMIT_REASONS = {"userRateLimitExceeded", "rateLimitExceeded", "sharingRateLimitExceeded"}


def raise_for_response(response: requests.Response) -> None:
    """Google's error body: {"error": {"code", "message", "errors": [{"reason", ...}]}}."""
    status = response.status_code
    if status < 400:
        return
    reason, message = "", ""
    try:
        error = response.json().get("error") or {}
        if isinstance(error, dict):
            message = str(error.get("message", ""))
            reason = str(((error.get("errors") or [{}])[0]).get("reason", ""))
        else:  # the OAuth endpoints answer {"error": "invalid_token", ...}
            reason = str(error)
    except (ValueError, AttributeError):
        message = excerpt(response.text)
    if status == 429 or reason in RATE_LIMIT_REASONS:
        retry_after = float(response.headers.get("Retry-After") or 1)
        raise RateLimited(
            "Google asked us to slow down.", provider="google", retry_after=retry_after, code=reason
        )
    if status >= 500:
        raise Unavailable(f"Google is not answering (HTTP {status}).", provider="google")
    if status == 401 or (status == 403 and reason in {"insufficientPermissions", "authError"}):
        raise Unauthorized(
            f"Google refused the access token ({reason or status}).",
            provider="google",
            status=status,
            code=reason,
            expired=status == 401,
        )
    if status == 404:
        raise NotFound(f"Google: {excerpt(message) or 'not found'}.", provider="google", status=404)
    raise ApiError(
        f"Google rejected the request: {excerpt(message) or reason}.",
        provider="google",
        status=status,
        code=reason,
    )


class GoogleClient:
    """Calls made with one access token; built per use, never stored."""

    def __init__(
        self,
        *,
        userinfo_url: str,
        drive_url: str,
        access_token: str,
        profile: Profile = INTERACTIVE,
    ) -> None:
        self.userinfo_url = userinfo_url
        self.drive_url = drive_url.rstrip("/")
        self.http = session_for("google", profile)
        self.http.headers.update(
            {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        )

    def __repr__(self) -> str:
        return f"<GoogleClient {self.drive_url}>"

    def _get(self, url: str, **params) -> dict:
        response = self.http.get(url, params=params or None)
        raise_for_response(response)
        return response.json()

    def userinfo(self) -> schemas.UserInfo:
        return schemas.UserInfo.model_validate(self._get(self.userinfo_url))
