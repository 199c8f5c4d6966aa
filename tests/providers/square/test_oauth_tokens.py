"""ObtainToken, RetrieveTokenStatus and RevokeToken (README §4.2, §4.3), by plain HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .support import CALLBACK, SOUS_SCOPES, error_of, pkce_pair


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_full_code_flow_round_trip(square, first_merchant, sandbox):
    # Consent, Allow, back with a code.
    page = square.consent(scope=" ".join(SOUS_SCOPES), state="st4te", redirect_uri=CALLBACK)
    assert first_merchant["business_name"] in page.text
    params = square.authorize(state="st4te", redirect_uri=CALLBACK)
    assert params["state"] == "st4te"

    # Code for tokens.
    answer = square.exchange(params["code"], redirect_uri=CALLBACK)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["merchant_id"] == first_merchant["id"]
    assert tokens["short_lived"] is False
    assert "refresh_token_expires_at" not in tokens  # code flow: it never expires
    assert tokens["access_token"].startswith("EAAA") and len(tokens["access_token"]) >= 40
    assert tokens["refresh_token"].startswith("EQAA") and len(tokens["refresh_token"]) >= 40
    lifetime = _at(tokens["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)

    # A data call with the access token.
    me = square.get(tokens["access_token"], "/v2/merchants/me")
    assert me.status_code == 200
    assert me.json()["merchant"]["id"] == first_merchant["id"]

    # Refresh: a new access token, the same refresh token; both access tokens work.
    refreshed = square.refresh(tokens["refresh_token"]).json()
    assert refreshed["refresh_token"] == tokens["refresh_token"]
    assert refreshed["access_token"] != tokens["access_token"]
    assert square.get(refreshed["access_token"], "/v2/locations").status_code == 200
    assert square.get(tokens["access_token"], "/v2/locations").status_code == 200
    # And again: a code-flow refresh token is multi-use.
    assert square.refresh(tokens["refresh_token"]).status_code == 200

    # Revoke, then the refresh fails and the data calls are refused.
    revoked = square.revoke(access_token=refreshed["access_token"])
    assert revoked.status_code == 200
    assert revoked.json() == {"success": True}
    failed = square.refresh(tokens["refresh_token"])
    assert failed.status_code == 401
    assert error_of(failed)["code"] == "ACCESS_TOKEN_REVOKED"
    denied = square.get(tokens["access_token"], "/v2/locations")
    assert denied.status_code == 401
    assert error_of(denied)["code"] == "ACCESS_TOKEN_REVOKED"

    issued = sandbox.issued_tokens()
    assert {tokens["access_token"], refreshed["access_token"], tokens["refresh_token"]} <= set(
        issued
    )
    counters = sandbox.counters()
    assert counters["square.oauth.token.authorization_code"] == 1
    assert counters["square.oauth.token.refresh_token"] == 3
    assert counters["square.oauth.revoke"] == 1


def test_a_full_pkce_round_trip(square):
    verifier, challenge = pkce_pair()
    params = square.authorize(code_challenge=challenge, code_challenge_method="S256", state="p")

    answer = square.http.post(
        f"{square.url}/oauth2/token",
        json={
            "client_id": square.client_id,
            "grant_type": "authorization_code",
            "code": params["code"],
            "code_verifier": verifier,
        },
    )
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    refresh_life = _at(tokens["refresh_token_expires_at"]) - datetime.now(UTC)
    assert timedelta(days=89, hours=23) < refresh_life <= timedelta(days=90)
    assert square.get(tokens["access_token"], "/v2/locations").status_code == 200

    # PKCE refresh tokens are single-use: each refresh hands out a new one.
    body = {"client_id": square.client_id, "grant_type": "refresh_token"}
    first = square.http.post(
        f"{square.url}/oauth2/token", json={**body, "refresh_token": tokens["refresh_token"]}
    )
    assert first.status_code == 200
    assert first.json()["refresh_token"] != tokens["refresh_token"]
    assert "refresh_token_expires_at" in first.json()
    again = square.http.post(
        f"{square.url}/oauth2/token", json={**body, "refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 401
    assert error_of(again)["code"] == "UNAUTHORIZED"


def test_pkce_refresh_tokens_expire_after_90_days(square):
    tokens = square.tokens(pkce=True)

    square.control("POST", "oauth/clock", json={"advance_seconds": 90 * 86_400 + 1})
    answer = square.http.post(
        f"{square.url}/oauth2/token",
        json={
            "client_id": square.client_id,
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
        },
    )

    assert answer.status_code == 401


def test_a_wrong_code_verifier_is_refused(square):
    _, challenge = pkce_pair()
    params = square.authorize(code_challenge=challenge, code_challenge_method="S256")

    answer = square.http.post(
        f"{square.url}/oauth2/token",
        json={
            "client_id": square.client_id,
            "grant_type": "authorization_code",
            "code": params["code"],
            "code_verifier": "not-the-verifier-" + "x" * 40,
        },
    )

    assert answer.status_code == 401
    assert error_of(answer)["category"] == "AUTHENTICATION_ERROR"


def test_a_code_cannot_be_used_twice(square):
    code = square.authorize()["code"]
    assert square.exchange(code).status_code == 200

    again = square.exchange(code)

    assert again.status_code == 401
    assert error_of(again) == {
        "category": "AUTHENTICATION_ERROR",
        "code": "UNAUTHORIZED",
        "detail": "Authorization code is already redeemed.",
    }


def test_a_code_expires_after_five_minutes(square):
    code = square.authorize()["code"]

    square.control("POST", "oauth/clock", json={"advance_seconds": 5 * 60 + 1})
    answer = square.exchange(code)

    assert answer.status_code == 401
    assert "expired" in error_of(answer)["detail"]


def test_a_code_is_still_good_just_under_five_minutes(square):
    code = square.authorize()["code"]

    square.control("POST", "oauth/clock", json={"advance_seconds": 4 * 60 + 50})

    assert square.exchange(code).status_code == 200


def test_the_redirect_uri_sent_to_authorize_must_be_sent_again(square):
    code = square.authorize(redirect_uri=CALLBACK)["code"]

    missing = square.exchange(code)
    other = square.exchange(code, redirect_uri="http://127.0.0.1:8000/integrations/callback/square")

    assert missing.status_code == 400
    assert error_of(missing)["field"] == "redirect_uri"
    assert other.status_code == 400
    assert square.exchange(code, redirect_uri=CALLBACK).status_code == 200


def test_the_code_flow_needs_the_client_secret(square):
    code = square.authorize()["code"]

    missing = square.exchange(code, client_secret=None)
    wrong = square.exchange(code, client_secret="sq0csp-wrong")

    assert missing.status_code == 400
    assert error_of(missing)["code"] == "MISSING_REQUIRED_PARAMETER"
    assert wrong.status_code == 401


def test_unknown_grant_types_and_bodies_are_refused_in_square_format(square):
    bad_grant = square.http.post(
        f"{square.url}/oauth2/token",
        json={"client_id": square.client_id, "grant_type": "client_credentials"},
    )
    not_json = square.http.post(f"{square.url}/oauth2/token", data="grant_type=refresh_token")

    assert bad_grant.status_code == 400
    assert error_of(bad_grant)["field"] == "grant_type"
    assert not_json.status_code == 400
    assert error_of(not_json)["code"] == "EXPECTED_JSON_BODY"


def test_short_lived_tokens_last_a_day(square):
    code = square.authorize()["code"]

    tokens = square.exchange(code, short_lived=True).json()

    assert tokens["short_lived"] is True
    lifetime = _at(tokens["expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(hours=24)


def test_a_refresh_can_narrow_the_scopes(square):
    tokens = square.tokens()

    narrowed = square.refresh(tokens["refresh_token"], scopes=["ORDERS_READ", "TIMECARDS_READ"])
    status = square.post(narrowed.json()["access_token"], "/oauth2/token/status").json()

    assert status["scopes"] == ["ORDERS_READ"]


def test_token_status_describes_the_token(square, first_merchant):
    tokens = square.tokens()

    answer = square.post(tokens["access_token"], "/oauth2/token/status")

    assert answer.status_code == 200
    body = answer.json()
    assert body["merchant_id"] == first_merchant["id"]
    assert body["client_id"] == square.client_id
    assert body["expires_at"] == tokens["expires_at"]
    assert set(body["scopes"]) == set(SOUS_SCOPES)
    assert sandbox_count(square, "square.token.status") == 1


def sandbox_count(square, name: str) -> int:
    return square.sandbox.counters().get(name, 0)


def test_token_status_of_a_bad_token_is_unauthorized(square):
    answer = square.post("EAAAnot-a-token", "/oauth2/token/status")

    assert answer.status_code == 401
    assert error_of(answer)["code"] == "UNAUTHORIZED"


def test_revoking_only_the_access_token_keeps_the_grant(square):
    tokens = square.tokens()

    answer = square.revoke(access_token=tokens["access_token"], revoke_only_access_token=True)

    assert answer.json() == {"success": True}
    assert square.get(tokens["access_token"], "/v2/locations").status_code == 401
    assert square.refresh(tokens["refresh_token"]).status_code == 200


def test_revoking_by_merchant_id_ends_every_token_of_the_app(square, first_merchant):
    one, two = square.tokens(), square.tokens()

    assert square.revoke(merchant_id=first_merchant["id"]).status_code == 200

    for tokens in (one, two):
        assert square.get(tokens["access_token"], "/v2/locations").status_code == 401
        assert square.refresh(tokens["refresh_token"]).status_code == 401


def test_revoking_leaves_other_merchants_alone(square):
    first, second = (m["id"] for m in square.merchants()[:2])
    theirs = square.tokens(merchant_id=second)

    square.revoke(merchant_id=first)

    assert square.get(theirs["access_token"], "/v2/locations").status_code == 200


def test_revoke_needs_the_client_secret_in_the_authorization_header(square):
    tokens = square.tokens()

    wrong = square.revoke(secret="sq0csp-wrong", access_token=tokens["access_token"])
    bearer = square.http.post(
        f"{square.url}/oauth2/revoke",
        json={"client_id": square.client_id, "access_token": tokens["access_token"]},
        headers={"Authorization": f"Bearer {square.client_secret}"},
    )

    assert wrong.status_code == 401
    assert bearer.status_code == 401
    assert square.get(tokens["access_token"], "/v2/locations").status_code == 200


def test_a_new_authorization_after_a_revoke_works_again(square, first_merchant):
    square.tokens()
    square.revoke(merchant_id=first_merchant["id"])

    tokens = square.exchange(square.authorize()["code"]).json()

    assert square.get(tokens["access_token"], "/v2/locations").status_code == 200
