"""The realism knobs as Google shows them: latency, 429, 5xx, expired tokens, revoked grants."""

from __future__ import annotations

import time


def test_latency_is_added_to_google_requests(google, access_token, sandbox):
    sandbox.knobs(latency_ms=200)
    started = time.monotonic()
    assert google.drive(access_token, "files", pageSize=1).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_a_429_is_drives_rate_limit_error_with_retry_after(google, access_token, sandbox):
    sandbox.knobs(rate_429=1.0, retry_after=7)
    response = google.drive(access_token, "files")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    error = response.json()["error"]
    assert error["code"] == 429
    assert error["errors"][0]["reason"] == "rateLimitExceeded"
    assert error["errors"][0]["domain"] == "usageLimits"
    # The control API is never throttled.
    assert google.control("GET", "accounts")["accounts"]
    assert sandbox.counters()["google.injected.429"] == 1


def test_5xx_are_backend_errors(google, access_token, sandbox):
    sandbox.knobs(rate_5xx=1.0)
    statuses = set()
    for _ in range(8):
        response = google.drive(access_token, "about", fields="user")
        statuses.add(response.status_code)
        assert response.json()["error"]["errors"][0]["reason"] == "backendError"
    assert statuses <= {500, 503} and statuses
    sandbox.knobs(rate_5xx=0.0)
    assert google.drive(access_token, "about", fields="user").status_code == 200


def test_expired_tokens_get_401_and_a_refresh_fixes_it(google, tokens, sandbox):
    sandbox.control("POST", "tokens/expire")
    expired = google.drive(tokens["access_token"], "files")
    assert expired.status_code == 401
    error = expired.json()["error"]
    assert error["errors"][0] == {
        "domain": "global",
        "reason": "authError",
        "message": "Invalid Credentials",
        "location": "Authorization",
        "locationType": "header",
    }
    assert expired.headers["www-authenticate"].startswith("Bearer")
    fresh = google.refresh(tokens["refresh_token"]).json()["access_token"]
    assert google.drive(fresh, "files").status_code == 200


def test_tokens_expire_when_the_clock_passes_expires_in(google, tokens):
    google.control("POST", "clock", json={"advance": tokens["expires_in"]})
    assert google.drive(tokens["access_token"], "files").status_code == 401
    assert google.refresh(tokens["refresh_token"]).status_code == 200


def test_a_revoked_grant_fails_everywhere(google, tokens):
    revoked = google.control("POST", "grants/revoke", json={"account": "maria@acmebistro.example"})
    assert revoked == {"revoked": 1}
    assert google.drive(tokens["access_token"], "files").status_code == 401
    refresh = google.refresh(tokens["refresh_token"])
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    grants = google.control("GET", "grants")["grants"]
    assert grants and all(g["revoked"] for g in grants)


def test_missing_or_unknown_tokens_get_the_same_401(google):
    for headers in ({}, {"Authorization": "Bearer ya29.made-up"}, {"Authorization": "Basic x"}):
        response = google.http.get(f"{google.base}/drive/v3/files", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["errors"][0]["reason"] == "authError"


def test_issued_tokens_lists_what_was_handed_out(google, tokens, sandbox):
    refreshed = google.refresh(tokens["refresh_token"]).json()
    issued = sandbox.issued_tokens()
    for token in (tokens["access_token"], tokens["refresh_token"], refreshed["access_token"]):
        assert token in issued
    assert sandbox.half("google").issued_tokens() == sandbox.control("GET", "tokens")["google"]
