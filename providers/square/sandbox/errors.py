"""Square's error format (README §2) and the responses that carry it.

Every failure of the emulated API, the OAuth endpoints included, answers
`{"errors": [{"category", "code", "detail", "field"?}]}`. For ObtainToken that is a choice:
older Square OAuth answered `{"message", "type"}`, but the spec's `ObtainTokenResponse` carries
`errors[]` like every v2 response (README §4.2, [A]), and the reference pack outranks forum
memories (README trust order), so the emulator uses `errors[]` everywhere.

Status per code is UNCONFIRMED in the spec; we follow README §2's suggested mapping.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

# error code -> category, from the spec's ErrorCode `x-enum-elements` (README §2).
CATEGORY = {
    "UNAUTHORIZED": "AUTHENTICATION_ERROR",
    "ACCESS_TOKEN_EXPIRED": "AUTHENTICATION_ERROR",
    "ACCESS_TOKEN_REVOKED": "AUTHENTICATION_ERROR",
    "FORBIDDEN": "AUTHENTICATION_ERROR",
    "INSUFFICIENT_SCOPES": "AUTHENTICATION_ERROR",
    "BAD_REQUEST": "INVALID_REQUEST_ERROR",
    "MISSING_REQUIRED_PARAMETER": "INVALID_REQUEST_ERROR",
    "INVALID_VALUE": "INVALID_REQUEST_ERROR",
    "INVALID_ENUM_VALUE": "INVALID_REQUEST_ERROR",
    "INVALID_TIME": "INVALID_REQUEST_ERROR",
    "INVALID_TIME_RANGE": "INVALID_REQUEST_ERROR",
    "INVALID_CURSOR": "INVALID_REQUEST_ERROR",
    "INVALID_SORT_ORDER": "INVALID_REQUEST_ERROR",
    "CONFLICTING_PARAMETERS": "INVALID_REQUEST_ERROR",
    "EXPECTED_JSON_BODY": "INVALID_REQUEST_ERROR",
    "EXPECTED_INTEGER": "INVALID_REQUEST_ERROR",
    "EXPECTED_BOOLEAN": "INVALID_REQUEST_ERROR",
    "EXPECTED_STRING": "INVALID_REQUEST_ERROR",
    "EXPECTED_ARRAY": "INVALID_REQUEST_ERROR",
    "EXPECTED_OBJECT": "INVALID_REQUEST_ERROR",
    "ARRAY_LENGTH_TOO_LONG": "INVALID_REQUEST_ERROR",
    "ARRAY_LENGTH_TOO_SHORT": "INVALID_REQUEST_ERROR",
    "VALUE_TOO_LOW": "INVALID_REQUEST_ERROR",
    "INVALID_SQUARE_VERSION_FORMAT": "INVALID_REQUEST_ERROR",
    "NOT_FOUND": "INVALID_REQUEST_ERROR",
    "RATE_LIMITED": "RATE_LIMIT_ERROR",
    "INTERNAL_SERVER_ERROR": "API_ERROR",
    "SERVICE_UNAVAILABLE": "API_ERROR",
}


class SquareError(Exception):
    """Raised anywhere in the half; the routes turn it into Square's error response."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field

    def body(self) -> dict:
        error = {"category": CATEGORY[self.code], "code": self.code, "detail": self.detail}
        if self.field:
            error["field"] = self.field
        return {"errors": [error]}

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def bad_request(code: str, detail: str, field: str | None = None) -> SquareError:
    return SquareError(400, code, detail, field)


def unauthorized(detail: str = "This request could not be authorized.") -> SquareError:
    # README §2 example body, verbatim detail.
    return SquareError(401, "UNAUTHORIZED", detail)


def fault(status: int, retry_after: int) -> JSONResponse:
    """An injected failure (README §9 for the 429 body; §2 for 5xx codes)."""
    if status == 429:
        error = SquareError(
            429, "RATE_LIMITED", "This request was rate limited. Please retry later."
        )
        # README §9: no Square source confirms Retry-After; clients must not require it, but the
        # sandbox sends it so the product's honouring of it can be tested.
        return error.response({"Retry-After": str(retry_after)})
    if status == 503:
        return SquareError(503, "SERVICE_UNAVAILABLE", "Service Unavailable").response()
    return SquareError(status, "INTERNAL_SERVER_ERROR", "An internal error has occurred").response()
