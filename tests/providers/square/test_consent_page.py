"""The authorize page (README §4.1): consent, Allow/Deny, refusals without redirects."""

from __future__ import annotations

from .support import CALLBACK, SOUS_SCOPES, parse_consent, query_of


def test_it_shows_the_merchant_the_scopes_and_both_buttons(square, first_merchant):
    page = square.consent(scope=" ".join(SOUS_SCOPES), state="s1", redirect_uri=CALLBACK)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert first_merchant["business_name"] in page.text
    assert "Read your orders" in page.text
    assert "Read your item library" in page.text
    form = parse_consent(page.text)
    assert set(form.buttons) == {"Allow", "Deny"}
    assert form.fields["state"] == "s1"
    assert form.fields["scope"] == " ".join(SOUS_SCOPES)
    assert "<script" not in page.text


def test_it_offers_a_merchant_chooser_defaulting_to_the_first(square):
    merchants = square.merchants()
    form = parse_consent(square.consent(scope="ORDERS_READ").text)

    assert [value for value, _ in form.merchants] == [m["id"] for m in merchants]
    assert form.selected_merchant == merchants[0]["id"]


def test_it_omits_the_chooser_when_there_is_one_merchant(square):
    square.resize(merchants=1)

    page = square.consent(scope="ORDERS_READ")

    assert '<select name="merchant"' not in page.text
    assert parse_consent(page.text).fields["merchant"] == square.merchants()[0]["id"]


def test_allow_redirects_with_code_response_type_and_state(square):
    params = square.authorize(state="xyz", redirect_uri=CALLBACK)

    assert params["code"].startswith("sq0cgb-")
    assert params["response_type"] == "code"
    assert params["state"] == "xyz"


def test_allow_can_come_back_as_another_merchant(square):
    second = square.merchants()[1]["id"]

    params = square.authorize(merchant=second, state="s")
    tokens = square.exchange(params["code"]).json()

    assert tokens["merchant_id"] == second


def test_deny_redirects_with_access_denied_and_state(square):
    page = square.consent(scope="ORDERS_READ", state="abc", redirect_uri=CALLBACK)

    answer = square.decide(page, "Deny")

    assert answer.status_code == 302
    assert answer.headers["location"].startswith(CALLBACK + "?")
    assert query_of(answer.headers["location"]) == {
        "error": "access_denied",
        "error_description": "user_denied",
        "state": "abc",
    }


def test_without_a_redirect_uri_it_uses_the_first_registered_one(square):
    page = square.consent(scope="ORDERS_READ", state="s")

    answer = square.decide(page, "Allow")

    assert answer.headers["location"].startswith(CALLBACK + "?")


def test_it_refuses_an_unknown_client_with_an_error_page(square):
    page = square.consent(client_id="sq0idp-nobody", redirect_uri=CALLBACK, state="s")

    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "sq0idp-nobody" in page.text
    assert "<form" not in page.text
    assert page.history == []  # no redirect happened


def test_it_refuses_an_unregistered_redirect_uri_without_redirecting(square):
    page = square.consent(redirect_uri="https://evil.example/callback", state="s")

    assert page.status_code == 400
    assert "not registered" in page.text
    assert "evil.example/callback?" not in page.text
    assert page.history == []


def test_it_refuses_a_forged_form_post_for_an_unregistered_redirect(square):
    page = square.consent(scope="ORDERS_READ", state="s")
    form = parse_consent(page.text)
    data = {**form.fields, "redirect_uri": "https://evil.example/cb", "decision": "allow"}

    answer = square.http.post(f"{square.url}/oauth2/authorize", data=data, allow_redirects=False)

    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_it_refuses_unknown_scopes(square):
    page = square.consent(scope="ORDERS_READ MAKE_COFFEE")

    assert page.status_code == 400
    assert "MAKE_COFFEE" in page.text


def test_a_redirect_uri_registered_at_run_time_is_accepted(square):
    uri = "http://127.0.0.1:51234/integrations/callback/square"
    assert square.consent(redirect_uri=uri).status_code == 400

    listed = square.control("POST", "redirect-uris", json={"uri": uri})["redirect_uris"]
    params = square.authorize(redirect_uri=uri, state="late")

    assert uri in listed
    assert params["state"] == "late"


def test_registered_redirect_uris_are_forgotten_on_reset(square, sandbox):
    uri = "http://127.0.0.1:51235/cb"
    square.control("POST", "redirect-uris", json={"uri": uri})

    sandbox.reset()

    assert uri not in square.control("GET", "redirect-uris")["redirect_uris"]
