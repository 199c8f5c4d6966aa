"""The grid: a card per provider, in every state, built from the registry without network calls."""

import re

import pytest

pytestmark = pytest.mark.django_db


def card_html(page: str, key: str) -> str:
    match = re.search(rf'<article class="card[^"]*" id="card-{key}".*?</article>', page, re.S)
    assert match, f"no card for {key}"
    return match.group(0)


def test_the_grid_shows_square_google_and_coming_soon_cards(owner_client):
    page = owner_client.get("/admin/integrations/").content.decode()
    square, google = card_html(page, "square"), card_html(page, "google")
    assert "Point of Sale &amp; Catalog" in square and "Connect" in square
    assert "Drive — Recipes &amp; Invoices" in google and "Connect" in google
    for key in ("toast", "quickbooks"):
        soon = card_html(page, key)
        assert "Coming soon" in soon
        assert "<a " not in soon and "<button" not in soon
    assert "/static/providers/square.svg" in square


def test_a_connected_provider_shows_active_connected_as_and_manage(
    owner_client, org, make_connection
):
    make_connection(org, "square", name="Acme Bistro", email="owner@acme.example")
    square = card_html(owner_client.get("/admin/integrations/").content.decode(), "square")
    assert 'data-state="connected"' in square
    assert "Active" in square
    assert "Acme Bistro (owner@acme.example)" in square
    assert "Manage" in square
    assert "Last synced never" in " ".join(square.split())


def test_a_connection_in_error_shows_the_reason_reconnect_and_manage(
    owner_client, org, make_connection
):
    from integrations.services import status

    config = make_connection(org, "google")
    status.mark_error(config, "Re-auth required: Google refused the grant", kind="refresh_refused")
    google = card_html(owner_client.get("/admin/integrations/").content.decode(), "google")
    assert "Re-auth required" in google
    assert "Google refused the grant" in google
    assert "Reconnect" in google and "Manage" in google


def test_a_provider_without_credentials_is_not_configured_and_has_no_button(owner_client, settings):
    settings.SQUARE_CLIENT_ID = ""
    square = card_html(owner_client.get("/admin/integrations/").content.decode(), "square")
    assert "Not configured in this environment" in square
    assert "SQUARE_CLIENT_ID" in square
    assert "Connect" not in square.replace("Not configured", "")


def test_members_see_the_grid_read_only(client, member, org, make_connection):
    make_connection(org, "square")
    client.force_login(member)
    page = client.get("/admin/integrations/").content.decode()
    assert "Only owners and admins can connect" in page
    assert "data-connect" not in page
    assert "Disconnect" not in client.get("/integrations/square/manage/").content.decode()


def test_the_card_partial_of_an_unknown_provider_is_404(owner_client):
    assert owner_client.get("/integrations/toastx/card/").status_code == 404


def test_another_organisations_connection_is_invisible_and_404(
    client, org, outsider, make_connection
):
    make_connection(org, "square", name="Acme Bistro")
    client.force_login(outsider)
    page = client.get("/admin/integrations/").content.decode()
    assert "Acme Bistro" not in page
    assert client.get("/integrations/square/manage/").status_code == 404
    assert client.get("/integrations/square/health/").status_code == 404
    assert client.post("/integrations/square/disconnect/").status_code == 404
