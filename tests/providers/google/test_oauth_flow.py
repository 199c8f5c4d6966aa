"""Google's OAuth web-server flow over plain HTTP (reference README §1)."""

from __future__ import annotations

import base64
import json

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    DRIVE_READONLY,
    MARIA,
    REDIRECT_URI,
    SAM,
    SCOPES,
    pkce_pair,
    query_of,
)


def test_a_full_round_trip_ends_with_the_refresh_token_refused_after_revoke(google, sandbox):
    verifier, challenge = pkce_pair()
    page = google.consent_page(
        state="s-123",
        access_type="offline",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert MARIA in page.text and "Maria Lopez" in page.text
    assert "See and download all your Google Drive files" in page.text
    assert ">Allow</button>" in page.text and ">Deny</button>" in page.text

    redirect = google.answer(page, "allow")
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    params = query_of(location)
    assert params["state"] == "s-123"
    assert params["code"].startswith("4/")
    assert DRIVE_READONLY in params["scope"].split()

    # Client authentication with HTTP Basic this time (client_secret_basic).
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    exchange = requests.post(
        f"{google.base}/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    assert exchange.status_code == 200, exchange.text
    tokens = exchange.json()
    # README §1.2's fields, exactly.
    assert set(tokens) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "scope",
        "token_type",
        "id_token",
    }
    assert tokens["access_token"].startswith("ya29.")
    assert tokens["refresh_token"].startswith("1//")
    assert tokens["expires_in"] == 3599
    assert tokens["token_type"] == "Bearer"
    assert set(tokens["scope"].split()) == {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
        DRIVE_READONLY,
    }
    assert exchange.headers["cache-control"] == "no-store"

    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = requests.get(f"{google.base}/oauth2/v3/userinfo", headers=bearer)
    assert me.status_code == 200
    claims = me.json()
    assert claims["email"] == MARIA and claims["email_verified"] is True
    assert claims["name"] == "Maria Lopez"
    assert claims["sub"].isdigit() and claims["picture"].startswith("https://")

    refreshed = google.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert "refresh_token" not in body  # README §1.3
    assert {"access_token", "expires_in", "scope", "token_type"} <= set(body)
    assert body["access_token"] != tokens["access_token"]

    revoked = requests.post(f"{google.base}/revoke", params={"token": tokens["refresh_token"]})
    assert revoked.status_code == 200

    again = google.refresh(tokens["refresh_token"])
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    assert requests.get(f"{google.base}/oauth2/v3/userinfo", headers=bearer).status_code == 401

    counters = sandbox.counters()
    assert counters["google.oauth.token.authorization_code"] == 1
    assert counters["google.oauth.token.refresh_token"] == 2
    assert counters["google.oauth.revoke"] == 1
    assert counters["google.userinfo"] == 2
    issued = sandbox.issued_tokens()
    assert tokens["access_token"] in issued and tokens["refresh_token"] in issued
    assert body["access_token"] in issued


def test_deny_sends_access_denied_with_the_state(google):
    page = google.consent_page(state="keep-me")
    redirect = google.answer(page, "deny")
    assert redirect.status_code == 302
    assert query_of(redirect.headers["location"]) == {"error": "access_denied", "state": "keep-me"}


def test_a_consent_page_answers_only_once(google):
    page = google.consent_page()
    assert google.answer(page, "allow").status_code == 302
    second = google.answer(page, "allow")
    assert second.status_code == 400 and "location" not in second.headers


def test_a_wrong_pkce_verifier_is_refused(google):
    _, redirect = google.authorize_code(access_type="offline")
    wrong, _ = pkce_pair()
    response = google.exchange(redirect["code"], wrong)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_missing_pkce_verifier_is_refused(google):
    _, redirect = google.authorize_code()
    response = google.exchange(redirect["code"], None)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Missing code verifier.",
    }


def test_a_code_works_only_once(google):
    verifier, redirect = google.authorize_code()
    assert google.exchange(redirect["code"], verifier).status_code == 200
    reused = google.exchange(redirect["code"], verifier)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(google):
    verifier, redirect = google.authorize_code()
    google.control("POST", "clock", json={"advance": 601})  # codes live 600 s by default
    response = google.exchange(redirect["code"], verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_the_exchange_needs_the_same_redirect_uri(google):
    verifier, redirect = google.authorize_code()
    other = "http://127.0.0.1:8000/integrations/callback/google"
    response = google.exchange(redirect["code"], verifier, redirect_uri=other)
    assert response.status_code == 400
    assert response.json()["error"] == "redirect_uri_mismatch"


def test_a_wrong_client_secret_is_invalid_client(google):
    verifier, redirect = google.authorize_code()
    response = google.exchange(redirect["code"], verifier, client_secret="nope")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_an_unknown_client_gets_an_error_page_and_no_redirect(google):
    page = google.consent_page(client_id="someone-else.apps.googleusercontent.com")
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "invalid_client" in page.text


def test_an_unregistered_redirect_uri_gets_an_error_page_until_it_is_registered(google):
    uri = "http://127.0.0.1:54321/integrations/callback/google"
    page = google.consent_page(redirect_uri=uri)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "redirect_uri_mismatch" in page.text

    registered = google.control("POST", "redirect-uris", json={"uri": uri})
    assert uri in registered["redirect_uris"]
    page = google.consent_page(redirect_uri=uri, state="x")
    assert page.status_code == 200
    redirect = google.answer(page)
    assert redirect.headers["location"].startswith(uri + "?")
    google.control("DELETE", "redirect-uris", json={"uri": uri})


def test_a_trailing_slash_is_a_different_redirect_uri(google):
    page = google.consent_page(redirect_uri=REDIRECT_URI + "/")
    assert page.status_code == 400 and "redirect_uri_mismatch" in page.text


def test_online_access_gets_no_refresh_token(google):
    verifier, redirect = google.authorize_code()  # access_type defaults to online
    body = google.exchange(redirect["code"], verifier).json()
    assert "access_token" in body and "refresh_token" not in body


def test_a_repeat_consent_gets_a_refresh_token_only_with_prompt_consent(google):
    first = google.connect()
    assert "refresh_token" in first
    repeat = google.connect()
    assert "refresh_token" not in repeat
    forced = google.connect(prompt="consent")
    assert forced["refresh_token"] not in (None, first["refresh_token"])
    # Both refresh tokens still work: a new one does not replace the old.
    assert google.refresh(first["refresh_token"]).status_code == 200


def test_after_a_revoke_the_next_consent_is_a_first_consent_again(google):
    first = google.connect()
    assert google.http.post(f"{google.base}/revoke", data={"token": first["access_token"]}).ok
    again = google.connect()
    assert "refresh_token" in again


def test_the_account_chooser_signs_in_as_the_second_account(google):
    verifier, challenge = pkce_pair()
    page = google.consent_page(code_challenge=challenge, code_challenge_method="S256")
    assert '<select id="account-select" name="account">' in page.text
    accounts = google.control("GET", "accounts")["accounts"]
    sam = next(a for a in accounts if a["email"] == SAM)
    redirect = google.answer(page, account=sam["sub"])
    tokens = google.exchange(query_of(redirect.headers["location"])["code"], verifier).json()
    me = google.http.get(
        f"{google.base}/oauth2/v3/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).json()
    assert me["email"] == SAM


def test_login_hint_preselects_an_account(google):
    page = google.consent_page(login_hint=SAM)
    assert f'<span class="email">{SAM}</span>' in page.text


def test_an_unticked_scope_is_not_granted_and_drive_says_insufficient_scopes(google):
    verifier, redirect = google.authorize_code(
        answer={"scopes_shown": "1"}  # the browser sends only the boxes left ticked: none
    )
    assert DRIVE_READONLY not in redirect["scope"].split()
    tokens = google.exchange(redirect["code"], verifier).json()
    assert DRIVE_READONLY not in tokens["scope"].split()
    response = google.drive(tokens["access_token"], "files")
    assert response.status_code == 403
    assert response.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"


def test_include_granted_scopes_adds_earlier_grants(google):
    google.connect(scope="openid email")
    tokens = google.connect(scope=DRIVE_READONLY, include_granted_scopes="true")
    assert {"openid", DRIVE_READONLY} <= set(tokens["scope"].split())


def test_prompt_none_succeeds_silently_only_after_consent(google):
    refused = google.consent_page(prompt="none", state="q")
    assert refused.status_code == 302
    assert query_of(refused.headers["location"]) == {"error": "consent_required", "state": "q"}
    google.connect()
    silent = google.consent_page(prompt="none")
    assert silent.status_code == 302 and "code" in query_of(silent.headers["location"])


def test_bad_authorization_requests_get_error_pages(google):
    for params, error in (
        ({"response_type": "token"}, "invalid_request"),
        ({"scope": ""}, "invalid_request"),
        ({"scope": "openid https://example.com/not-a-scope"}, "invalid_scope"),
        ({"prompt": "none consent"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ):
        page = google.consent_page(**params)
        assert page.status_code == 400, params
        assert error in page.text and "location" not in page.headers


def test_the_id_token_is_signed_with_the_published_key(google):
    tokens = google.connect(nonce="n-1")
    header, payload, signature = tokens["id_token"].split(".")

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    claims = json.loads(decode(payload))
    assert claims["iss"] == "https://accounts.google.com"
    assert claims["aud"] == CLIENT_ID and claims["email"] == MARIA and claims["nonce"] == "n-1"
    discovery = google.http.get(f"{google.base}/.well-known/openid-configuration").json()
    assert discovery["token_endpoint"] == f"{google.base}/token"
    jwks = google.http.get(discovery["jwks_uri"]).json()
    key = next(k for k in jwks["keys"] if k["kid"] == json.loads(decode(header))["kid"])
    public = rsa.RSAPublicNumbers(
        int.from_bytes(decode(key["e"]), "big"), int.from_bytes(decode(key["n"]), "big")
    ).public_key()
    public.verify(
        decode(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_userinfo_without_a_valid_token_is_401(google):
    for headers in ({}, {"Authorization": "Bearer ya29.not-a-token"}):
        response = google.http.get(f"{google.base}/oauth2/v3/userinfo", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_revoking_an_unknown_token_is_400(google):
    response = google.http.post(f"{google.base}/revoke", data={"token": "1//unknown"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_token"


def test_the_scope_words_cover_what_was_asked(google):
    page = google.consent_page(scope=SCOPES)
    for words in (
        "See your primary Google Account email address",
        "Associate you with your personal info on Google",
    ):
        assert words in page.text
