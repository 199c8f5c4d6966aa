"""Google's error bodies: Drive's JSON error envelope and the OAuth endpoints' RFC 6749 bodies.

Drive (README §2.5):
    {"error": {"code": 403, "message": "...",
               "errors": [{"domain": "...", "reason": "...", "message": "...",
                           "location": "...", "locationType": "..."}]}}
"""

from __future__ import annotations

from starlette.responses import JSONResponse

# WWW-Authenticate on 401s, as Google's APIs send it.
BEARER_CHALLENGE = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'


class DriveError(Exception):
    """Raised inside a Drive handler; the endpoint wrapper turns it into Google's JSON body."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        headers: dict[str, str] | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.headers = dict(headers or {})
        if detail:
            # Drive's own message is often just "Invalid Value"; say what the sandbox disliked
            # in a header, so the body keeps Google's exact shape.
            self.headers["X-Sandbox-Detail"] = detail[:300]

    def response(self) -> JSONResponse:
        item = {"domain": self.domain, "reason": self.reason, "message": self.message}
        if self.location:
            item["location"] = self.location
            item["locationType"] = self.location_type or "parameter"
        body = {"error": {"code": self.status, "message": self.message, "errors": [item]}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def invalid_parameter(name: str, message: str = "Invalid Value", detail: str | None = None):
    return DriveError(400, "invalid", message, location=name, detail=detail)


def required_parameter(name: str, message: str | None = None) -> DriveError:
    return DriveError(400, "required", message or f"Required parameter: {name}", location=name)


def invalid_credentials() -> DriveError:
    # The 401 `authError` for missing, expired and revoked tokens (README §2.5).
    return DriveError(
        401,
        "authError",
        "Invalid Credentials",
        location="Authorization",
        location_type="header",
        headers={"WWW-Authenticate": BEARER_CHALLENGE},
    )


def insufficient_scopes() -> DriveError:
    # What Drive answers when the token was granted without a scope this method accepts.
    return DriveError(
        403, "insufficientPermissions", "Request had insufficient authentication scopes."
    )


def file_not_found(file_id: str) -> DriveError:
    # 404 notFound "File not found: {fileId}" (README §2.5); also for shared-drive files asked
    # for without supportsAllDrives=true (README §2.1).
    return DriveError(404, "notFound", f"File not found: {file_id}.", location="fileId")


def fault(status: int, retry_after: int) -> JSONResponse:
    """The injected 429/5xx of the fault knobs, in Drive's envelope (README §2.5)."""
    if status == 429:
        error = DriveError(
            429,
            "rateLimitExceeded",
            "Rate Limit Exceeded",
            domain="usageLimits",
            headers={"Retry-After": str(retry_after)},
        )
    elif status == 503:
        error = DriveError(503, "backendError", "The service is currently unavailable.")
    else:
        error = DriveError(status, "backendError", "Backend Error")
    return error.response()


def oauth_error(status: int, error: str, description: str, headers: dict | None = None):
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers=headers,
    )
