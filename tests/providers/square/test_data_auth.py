"""Every data call checks the bearer token and its scope, and echoes Square-Version."""

from __future__ import annotations

import pytest

from .support import error_of

DATA_CALLS = [
    ("GET", "/v2/merchants/me", None, "MERCHANT_PROFILE_READ"),
    ("GET", "/v2/locations", None, "MERCHANT_PROFILE_READ"),
    ("GET", "/v2/catalog/list", None, "ITEMS_READ"),
    ("POST", "/v2/catalog/search", {}, "ITEMS_READ"),
    ("POST", "/v2/orders/search", {"location_ids": ["L0"]}, "ORDERS_READ"),
    ("GET", "/v2/payments", None, "PAYMENTS_READ"),
]


def _call(square, token, method, path, body):
    if method == "GET":
        return square.get(token, path)
    return square.post(token, path, body)


@pytest.mark.parametrize(("method", "path", "body", "scope"), DATA_CALLS)
def test_a_missing_or_unknown_token_is_unauthorized(square, method, path, body, scope):
    for token in (None, "EAAAthis-token-was-never-issued"):
        answer = _call(square, token, method, path, body)

        assert answer.status_code == 401
        assert error_of(answer) == {
            "category": "AUTHENTICATION_ERROR",
            "code": "UNAUTHORIZED",
            "detail": "This request could not be authorized.",
        }


@pytest.mark.parametrize(("method", "path", "body", "scope"), DATA_CALLS)
def test_a_token_without_the_scope_is_forbidden(square, method, path, body, scope):
    others = [s for s in ("MERCHANT_PROFILE_READ", "ITEMS_READ", "ORDERS_READ") if s != scope]
    narrow = square.tokens(scopes=others)["access_token"]

    answer = _call(square, narrow, method, path, body)

    assert answer.status_code == 403
    assert error_of(answer)["code"] == "INSUFFICIENT_SCOPES"
    assert scope in error_of(answer)["detail"]


def test_expired_tokens_get_access_token_expired_and_refresh_still_works(square, sandbox):
    tokens = square.tokens()

    sandbox.control("POST", "tokens/expire")
    answer = square.get(tokens["access_token"], "/v2/locations")
    refreshed = square.refresh(tokens["refresh_token"])

    assert answer.status_code == 401
    assert error_of(answer)["code"] == "ACCESS_TOKEN_EXPIRED"
    assert refreshed.status_code == 200
    assert square.get(refreshed.json()["access_token"], "/v2/locations").status_code == 200


def test_expire_all_tokens_is_also_available_in_process(square):
    tokens = square.tokens()

    square.half.expire_all_tokens()

    assert error_of(square.get(tokens["access_token"], "/v2/locations"))["code"] == (
        "ACCESS_TOKEN_EXPIRED"
    )


def test_access_tokens_expire_after_thirty_days(square):
    tokens = square.tokens()

    square.control("POST", "oauth/clock", json={"advance_seconds": 30 * 86_400})

    assert error_of(square.get(tokens["access_token"], "/v2/locations"))["code"] == (
        "ACCESS_TOKEN_EXPIRED"
    )


def test_revoked_grants_get_access_token_revoked_and_refresh_fails(square, first_merchant):
    tokens = square.tokens()

    square.control("POST", f"merchants/{first_merchant['id']}/revoke")
    answer = square.get(tokens["access_token"], "/v2/locations")
    refresh = square.refresh(tokens["refresh_token"])

    assert answer.status_code == 401
    assert error_of(answer)["code"] == "ACCESS_TOKEN_REVOKED"
    assert refresh.status_code == 401
    assert error_of(refresh) == {
        "category": "AUTHENTICATION_ERROR",
        "code": "ACCESS_TOKEN_REVOKED",
        "detail": "The refresh token has been revoked.",
    }


def test_square_version_is_echoed_on_success(square, token):
    answer = square.api(token).get(
        f"{square.url}/v2/locations", headers={"Square-Version": "2026-01-22"}
    )

    assert answer.headers["Square-Version"] == "2026-01-22"


def test_without_square_version_the_pinned_version_answers(square, token):
    session = square.api(token)
    del session.headers["Square-Version"]

    answer = session.get(f"{square.url}/v2/locations")

    assert answer.status_code == 200
    assert answer.headers["Square-Version"] == "2025-08-20"


def test_a_malformed_square_version_is_refused(square, token):
    answer = square.api(token).get(
        f"{square.url}/v2/locations", headers={"Square-Version": "latest"}
    )

    assert answer.status_code == 400
    assert error_of(answer)["code"] == "INVALID_SQUARE_VERSION_FORMAT"


def test_unknown_paths_answer_a_square_not_found(square, token):
    answer = square.get(token, "/v2/teleport")

    assert answer.status_code == 404
    assert error_of(answer)["code"] == "NOT_FOUND"
