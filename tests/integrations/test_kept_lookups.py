"""Provider lookups that rarely change are kept on the connection, against the local providers
over HTTP: opening the drawer asks Square for the locations once, ever; syncs, location
events and Drive scans refresh what is kept; Refresh asks again, for any member of the
organisation and nobody else; and what was kept for one account never shows for another."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.test import Client

from integrations.models import IntegrationConfig
from integrations.services import callback, lookups
from integrations.webhooks import process
from providers.base import Identity
from providers.oauth import TokenSet
from providers.square import webhooks
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    scan,
    watch,
)
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
LISTED = "square.locations.list"
WEBHOOK_URL = "https://sous.example/integrations/webhooks/square"
WEBHOOK_KEY = "sig-key-current"


def _locations_calls(sandbox) -> int:
    return sandbox.counters().get(LISTED, 0)


def _lookup_url(drawer: str, name: str, key: str = "square") -> str:
    found = re.search(rf'hx-get="(/integrations/{key}/lookup/{name}/[^"]*)"', drawer)
    return found.group(1).replace("&amp;", "&")


def _open_drawer(client, key: str = "square", name: str = "locations") -> str:
    """The drawer, then the lookup fragment it asks for on load: what staff see."""
    drawer = client.get(f"/integrations/{key}/manage/").content.decode()
    response = client.get(_lookup_url(drawer, name, key), **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def _refresh_url(fragment: str) -> str:
    return re.search(r'hx-post="([^"]*/refresh/[^"]*)"', fragment).group(1).replace("&amp;", "&")


def _shown_locations(fragment: str) -> set[str]:
    return set(re.findall(r'<li data-location="([^"]+)">', fragment))


def _open_location(sandbox, merchant) -> dict:
    """A location the seller opens in Square now."""
    before = {loc["id"] for loc in merchant["locations"]}
    resize(sandbox, locations=len(before) + 1)
    after = sandbox.control("GET", "square/merchants")["merchants"][0]["locations"]
    (opened,) = [loc for loc in after if loc["id"] not in before]
    return opened


def test_opening_the_drawer_twice_asks_square_for_the_locations_once(
    owner_client, square_config, merchant, product_on_sandbox
):
    before = _locations_calls(product_on_sandbox)

    first = _open_drawer(owner_client)
    again = _open_drawer(owner_client)

    assert _locations_calls(product_on_sandbox) == before + 1
    ids = {loc["id"] for loc in merchant["locations"]}
    assert _shown_locations(first) == _shown_locations(again) == ids
    assert "Locations updated" in again and ">Refresh<" in again


def test_locations_kept_in_a_shape_this_release_cannot_read_are_fetched_again(
    owner_client, square_config, merchant, product_on_sandbox
):
    lookups.store(
        square_config.organization_id,
        "square",
        "locations",
        {"locations": [{"name": "kept by an older release, without an id"}]},
        account_id=square_config.external_account_id,
    )
    before = _locations_calls(product_on_sandbox)

    fragment = _open_drawer(owner_client)

    assert _locations_calls(product_on_sandbox) == before + 1
    assert _shown_locations(fragment) == {loc["id"] for loc in merchant["locations"]}


def test_a_location_added_in_square_shows_after_sync_today_without_refresh(
    owner_client, square_config, merchant, product_on_sandbox
):
    _open_drawer(owner_client)
    opened = _open_location(product_on_sandbox, merchant)
    assert opened["id"] not in _shown_locations(_open_drawer(owner_client))  # kept, not asked

    run_inline(start(square_config, "sales", {"mode": "today"}))
    calls = _locations_calls(product_on_sandbox)
    fragment = _open_drawer(owner_client)

    assert opened["id"] in _shown_locations(fragment)
    assert _locations_calls(product_on_sandbox) == calls  # what the sync listed, kept


def test_a_location_event_refreshes_the_kept_locations(
    owner_client, square_config, merchant, product_on_sandbox, settings
):
    settings.SQUARE_WEBHOOK_SIGNATURE_KEYS = [WEBHOOK_KEY]
    settings.SQUARE_WEBHOOK_URL = WEBHOOK_URL
    _open_drawer(owner_client)
    opened = _open_location(product_on_sandbox, merchant)
    body = json.dumps(
        {
            "merchant_id": merchant["id"],
            "location_id": opened["id"],
            "type": "location.created",
            "event_id": str(uuid.uuid4()),
            "created_at": "2026-12-01T12:03:00Z",
            "data": {"type": "location", "id": opened["id"]},
        }
    ).encode()
    signature = webhooks.signature(WEBHOOK_KEY, WEBHOOK_URL, body)
    response = owner_client.post(
        "/integrations/webhooks/square",
        body,
        content_type="application/json",
        headers={"x-square-hmacsha256-signature": signature},
    )
    assert response.status_code == 200
    process.drain()
    (job,) = square_config.jobs.filter(kind="square.locations")
    run_inline(job)
    calls = _locations_calls(product_on_sandbox)

    assert opened["id"] in _shown_locations(_open_drawer(owner_client))
    assert _locations_calls(product_on_sandbox) == calls


def test_refresh_asks_square_again_for_any_member(
    client, member, square_config, merchant, product_on_sandbox
):
    client.force_login(member)
    fragment = _open_drawer(client)
    opened = _open_location(product_on_sandbox, merchant)
    calls = _locations_calls(product_on_sandbox)

    response = client.post(_refresh_url(fragment), **HTMX)

    assert response.status_code == 200
    refreshed = response.content.decode()
    assert opened["id"] in _shown_locations(refreshed)
    assert _locations_calls(product_on_sandbox) == calls + 1
    assert re.search(r"Locations updated <time [^>]*>(now|\d+.seconds? ago)</time>", refreshed)
    assert "autofocus" in refreshed  # keyboard focus stays on the control just used
    assert opened["id"] in _shown_locations(_open_drawer(client))  # and it is what is kept


def test_a_failed_refresh_keeps_the_locations_and_says_why(
    owner_client, square_config, merchant, product_on_sandbox
):
    fragment = _open_drawer(owner_client)
    product_on_sandbox.knobs(rate_5xx=1.0)

    refreshed = owner_client.post(_refresh_url(fragment), **HTMX).content.decode()

    assert _shown_locations(refreshed) == {loc["id"] for loc in merchant["locations"]}
    assert 'role="alert">Could not refresh: Square is not answering' in refreshed
    assert "Showing the locations from" in refreshed


def test_refresh_is_a_404_to_another_organisation_and_needs_the_csrf_token(
    client, outsider, owner, square_config, product_on_sandbox
):
    url = "/integrations/square/lookup/locations/refresh/"
    client.force_login(outsider)
    assert client.post(url, **HTMX).status_code == 404

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    calls = _locations_calls(product_on_sandbox)
    assert strict.post(url, **HTMX).status_code == 403
    assert strict.get(url).status_code == 405
    assert _locations_calls(product_on_sandbox) == calls


def test_another_merchants_connection_never_shows_the_first_ones_locations(
    owner_client, square_config, merchant, product_on_sandbox, org
):
    first = _shown_locations(_open_drawer(owner_client))
    other = product_on_sandbox.control("GET", "square/merchants")["merchants"][1]
    grant = product_on_sandbox.control("POST", "square/tokens", json={"merchant_id": other["id"]})
    tokens = TokenSet(grant["access_token"], grant["refresh_token"], expires_at=None)
    callback.save_connection(
        org, "square", tokens, Identity(other["id"], other["business_name"]), actor=None
    )
    # A page of the first merchant's sync that ends after the switch keeps nothing.
    assert not lookups.store(
        org.pk, "square", "locations", {"locations": []}, account_id=merchant["id"]
    )

    shown = _shown_locations(_open_drawer(owner_client))

    assert shown == {loc["id"] for loc in other["locations"]}
    assert not shown & first
    kept = IntegrationConfig.objects.get(pk=square_config.pk).lookups["locations"]
    assert kept["account"] == other["id"]


def test_a_scan_keeps_the_watched_folders_drive_changes_then_show(
    owner_client, google_config, drive, sandbox
):
    recipes = watch(google_config, drive, "recipe", "Kitchen/Recipes")
    scan(google_config)  # the full crawl resolves the watched folder and keeps it
    gets = sandbox.counters().get("google.files.get", 0)
    fragment = _open_drawer(owner_client, "google", "watched")
    assert "My Drive / Kitchen / Recipes" in fragment and "Available" in fragment
    assert sandbox.counters().get("google.files.get", 0) == gets  # nothing asked of Drive

    # Renamed above it in Drive: the next scan (as Drive's push asks for) follows.
    kitchen = drive.find("Kitchen")
    drive.control("POST", f"files/{kitchen['id']}/modify", json={"name": "Back of house"})
    assert "My Drive / Kitchen / Recipes" in _open_drawer(owner_client, "google", "watched")
    scan(google_config)

    fragment = _open_drawer(owner_client, "google", "watched")
    assert "My Drive / Back of house / Recipes" in fragment

    drive.control("POST", f"files/{recipes['id']}/trash")
    refreshed = owner_client.post(_refresh_url(fragment), **HTMX).content.decode()
    assert "Folder no longer available, pick another" in refreshed
    assert "in the Drive trash" in refreshed


def test_a_folder_chosen_since_the_last_look_is_looked_at(owner_client, google_config, drive):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    _open_drawer(owner_client, "google", "watched")
    watch(google_config, drive, "invoice", "Accounting/Invoices")

    fragment = _open_drawer(owner_client, "google", "watched")

    assert "My Drive / Accounting / Invoices" in fragment
    assert fragment.count("Available") == 2
