"""Square's locations against the local Square over HTTP: a location opened in Square is
recorded as new and left out of sales until staff include it, whether Sous hears of it from
Square's events or first meets it in a sales sync; a rename or a move to another time zone is
taken over."""

from __future__ import annotations

import re

import pytest

from integrations.jobs import triggers
from integrations.models import IntegrationEvent, SyncJob, WebhookEvent
from sous.sales.models import Order
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _refresh(config, params: dict | None = None) -> SyncJob:
    job, _ = triggers.request(config, "locations", params or {}, trigger=SyncJob.Trigger.WEBHOOK)
    return run_inline(job)


def _events_feed(config) -> SyncJob:
    """What Square's events feed holds, processed as delivered notifications would be."""
    job, _ = triggers.request(config, "events", {}, trigger=SyncJob.Trigger.SCHEDULE)
    return run_inline(job)


def _opened(sandbox, merchant) -> dict:
    """A location the seller opens now (Square publishes location.created)."""
    before = {loc["id"] for loc in merchant["locations"]}
    resize(sandbox, locations=len(before) + 1)
    after = sandbox.control("GET", "square/merchants")["merchants"][0]["locations"]
    (opened,) = [loc for loc in after if loc["id"] not in before]
    return opened


def _activity(config) -> list[str]:
    return list(IntegrationEvent.objects.filter(config=config).values_list("message", flat=True))


def test_a_location_opened_in_square_is_new_and_left_out_of_sales(
    product_on_sandbox, square_config, merchant
):
    assert _refresh(square_config).status == SyncJob.Status.SUCCEEDED  # Sous's first look
    square_config.refresh_from_db()
    assert set(square_config.settings["locations"]) == {loc["id"] for loc in merchant["locations"]}
    assert "new_locations" not in square_config.settings

    opened = _opened(product_on_sandbox, merchant)
    _events_feed(square_config)

    event = WebhookEvent.objects.get(event_type="location.created")
    assert event.state == WebhookEvent.State.PROCESSED
    job = SyncJob.objects.get(kind="square.locations", status=SyncJob.Status.QUEUED)
    assert job.params == {"created": [opened["id"]]}
    assert run_inline(job).summary == "Locations refreshed: 4 locations, 1 new"
    square_config.refresh_from_db()
    assert square_config.settings["new_locations"] == [opened["id"]]
    assert square_config.settings["excluded_locations"] == [opened["id"]]
    assert (
        f"New location in Square: {opened['name']}, excluded from sales until you include it"
        in _activity(square_config)
    )

    sales = run_inline(start(square_config, "sales", {"mode": "today"}))

    assert sales.status == SyncJob.Status.SUCCEEDED
    square_config.refresh_from_db()
    synced = square_config.cursors["square.sales"]["locations"]
    assert opened["id"] not in synced and len(synced) == len(merchant["locations"])
    assert not Order.objects.filter(location_external_id=opened["id"]).exists()


def test_a_renamed_location_moved_to_another_zone_is_taken_over(
    product_on_sandbox, square_config, merchant
):
    _refresh(square_config)
    location = merchant["locations"][0]
    product_on_sandbox.control(
        "PATCH",
        f"square/locations/{location['id']}",
        json={"name": "Harbour Room", "timezone": "Pacific/Auckland"},
    )

    _events_feed(square_config)
    job = SyncJob.objects.get(kind="square.locations", status=SyncJob.Status.QUEUED)
    assert job.params == {}
    run_inline(job)

    square_config.refresh_from_db()
    assert square_config.settings["locations"][location["id"]] == {
        "name": "Harbour Room",
        "timezone": "Pacific/Auckland",
    }
    assert "new_locations" not in square_config.settings
    assert "Location changed in Square: Harbour Room (Pacific/Auckland)" in _activity(square_config)
    # The next sync plans with Square's zone of now.
    run_inline(start(square_config, "sales", {"mode": "today"}))
    square_config.refresh_from_db()
    assert square_config.cursors["square.sales"]["locations"][location["id"]] == {
        "name": "Harbour Room",
        "timezone": "Pacific/Auckland",
    }


def test_a_location_first_met_in_a_sales_sync_waits_for_staff_to_include_it(
    product_on_sandbox, square_config, merchant, owner_client
):
    run_inline(start(square_config, "sales", {"mode": "today"}))  # webhooks off: the first look
    square_config.refresh_from_db()
    assert len(square_config.settings["locations"]) == len(merchant["locations"])

    opened = _opened(product_on_sandbox, merchant)
    run_inline(start(square_config, "sales", {"mode": "today"}))

    square_config.refresh_from_db()
    assert square_config.settings["new_locations"] == [opened["id"]]
    assert opened["id"] not in square_config.cursors["square.sales"]["locations"]
    assert f"New location in Square: {opened['name']}" in " ".join(_activity(square_config))

    # The drawer's picker marks it "New", unticked; staff include it.
    drawer = owner_client.get("/integrations/square/manage/").content.decode()
    lookup = re.search(r'hx-get="(/integrations/square/lookup/locations/[^"]*)"', drawer).group(1)
    html = owner_client.get(lookup.replace("&amp;", "&")).content.decode()
    row = re.search(rf'<li data-location="{opened["id"]}">.*?</li>', html, re.S).group(0)
    assert ">New</span>" in row and "checked" not in row
    signed = re.search(r'name="locations" value="([^"]+)"', html).group(1)
    everyone = [loc["id"] for loc in merchant["locations"]] + [opened["id"]]
    form = {"locations": signed, "include": everyone}
    assert owner_client.post("/integrations/square/settings/", form, **HTMX).status_code == 204

    square_config.refresh_from_db()
    assert "new_locations" not in square_config.settings
    assert square_config.settings["excluded_locations"] == []
    run_inline(start(square_config, "sales", {"mode": "today"}))
    square_config.refresh_from_db()
    assert opened["id"] in square_config.cursors["square.sales"]["locations"]
