"""Square's locations: location events ask for a refresh, every sync reads what Square lists,
and a location Sous has not met stays out of sales, marked "New", until staff include it (HTTP
mocked)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.http import QueryDict

from providers.base import AppCredentials, InvalidParams, JobRequest, SyncRequest
from providers.http import BACKGROUND
from providers.records.locations import LocationRecord
from providers.records.lookups import LookupData
from providers.records.sales import OrderRecord
from providers.square import webhooks
from providers.square.changed_orders import ChangedOrdersAction, ChangedOrdersCheckpoint
from providers.square.client import SquareClient
from providers.square.locations import LocationsAction
from providers.square.provider import SquareProvider
from providers.square.sales import (
    SalesAction,
    SalesCheckpoint,
    SalesLocation,
    clean_location_settings,
    sign_locations,
)

BASE = "https://connect.squareup.com"
NOW = datetime(2025, 3, 12, 18, 0, tzinfo=UTC)
MERCHANT = "MERCHANT-1"
LISTED = [
    {"id": "L1", "name": "Harbour", "timezone": "America/New_York", "status": "ACTIVE"},
    {"id": "L2", "name": "Market Hall", "timezone": "America/Chicago", "status": "ACTIVE"},
]
# A connection that knows L1 only: L2 was opened in Square since.
KNOWS_L1 = {"locations": {"L1": {"name": "Harbour", "timezone": "America/New_York"}}}


def _event(type_: str, location_id: str) -> bytes:
    body = {
        "merchant_id": MERCHANT,
        "location_id": location_id,
        "type": type_,
        "event_id": "b1f2d3c4-0000-4000-8000-000000000001",
        "created_at": "2025-03-12T18:00:00.123Z",
        "data": {"type": "location", "id": location_id},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _client() -> SquareClient:
    return SquareClient(BASE, "EAAA-token", BACKGROUND)


def _mock_locations():
    responses.get(f"{BASE}/v2/locations", json={"locations": LISTED})


# --- notifications ------------------------------------------------------------------------------


def test_a_created_location_asks_for_a_refresh_naming_it():
    notification = webhooks.read(_event("location.created", "L2"))

    assert notification.account_id == MERCHANT and notification.type == "location.created"
    assert notification.requests == (
        JobRequest("locations", {"created": ["L2"]}, "Location added in Square"),
    )


def test_a_changed_location_asks_for_a_refresh():
    notification = webhooks.read(_event("location.updated", "L1"))

    assert notification.requests == (JobRequest("locations", {}, "Location changed in Square"),)


def test_refreshes_asked_for_while_one_waits_join_it():
    action = LocationsAction()

    assert action.merge({"created": ["L2"]}, {"created": ["L3"]}) == {"created": ["L2", "L3"]}
    assert action.merge({}, {}) == {}
    assert action.overlaps({"created": ["L2"]}, {})
    assert not action.overlaps({}, {"created": ["L2"]})  # it must hold L2 out: merged instead


# --- the refresh --------------------------------------------------------------------------------


@responses.activate
def test_the_refresh_lists_the_locations_as_records():
    _mock_locations()
    request = SyncRequest(
        params={"created": ["L2"]},
        checkpoint=LocationsAction.Checkpoint(),
        cursor={},
        settings={},
        now=NOW,
    )

    (page,) = LocationsAction().pages(_client(), request)

    assert [r for r in page.records if isinstance(r, LocationRecord)] == [
        LocationRecord("L1", "Harbour", "America/New_York", "ACTIVE"),
        LocationRecord("L2", "Market Hall", "America/Chicago", "ACTIVE", announced=True),
    ]
    assert responses.calls[0].request.headers["Authorization"] == "Bearer EAAA-token"


# --- sales --------------------------------------------------------------------------------------


def _sales_request(settings: dict) -> SyncRequest:
    return SyncRequest(
        params={"mode": "range", "start": "2025-03-01", "end": "2025-03-01"},
        checkpoint=SalesCheckpoint(),
        cursor={},
        settings=settings,
        now=NOW,
    )


@responses.activate
def test_a_sales_sync_leaves_out_a_location_sous_has_not_met_and_reports_it():
    _mock_locations()
    responses.post(f"{BASE}/v2/orders/search", json={})

    pages = list(SalesAction().pages(_client(), _sales_request(KNOWS_L1)))

    queried = {tuple(json.loads(call.request.body)["location_ids"]) for call in responses.calls[1:]}
    assert queried == {("L1",)}
    plan = pages[-1].checkpoint.plan
    assert set(plan.locations) == {"L1"}
    # What Square lists goes with the first page, for the importer to record L2 as new.
    assert [r.external_id for r in pages[0].records if isinstance(r, LocationRecord)] == [
        "L1",
        "L2",
    ]
    assert all(not isinstance(r, LocationRecord) for page in pages[1:] for r in page.records)


@responses.activate
def test_a_connection_that_never_recorded_its_locations_syncs_them_all():
    _mock_locations()
    responses.post(f"{BASE}/v2/orders/search", json={})

    pages = list(SalesAction().pages(_client(), _sales_request({})))

    assert set(pages[-1].checkpoint.plan.locations) == {"L1", "L2"}


@responses.activate
def test_orders_of_a_location_sous_has_not_met_wait_until_it_is_included():
    _mock_locations()
    order = {
        "id": "O-2",
        "location_id": "L2",
        "state": "COMPLETED",
        "version": 1,
        "created_at": "2025-03-12T17:00:00Z",
        "updated_at": "2025-03-12T17:00:00Z",
        "closed_at": "2025-03-12T17:00:00Z",
        "total_money": {"amount": 500, "currency": "USD"},
    }
    responses.post(f"{BASE}/v2/orders/batch-retrieve", json={"orders": [order]})
    request = SyncRequest(
        params={"order_ids": ["O-2"]},
        checkpoint=ChangedOrdersCheckpoint(),
        cursor={},
        settings=KNOWS_L1,
        now=NOW,
    )

    (page,) = ChangedOrdersAction().pages(_client(), request)

    assert not [r for r in page.records if isinstance(r, OrderRecord)]
    assert {r.external_id for r in page.records if isinstance(r, LocationRecord)} == {"L1", "L2"}


# --- the picker ---------------------------------------------------------------------------------


def _provider() -> SquareProvider:
    credentials = AppCredentials(
        client_id="sq0idp-app", client_secret="secret", environment="production", local_base_url=""
    )
    return SquareProvider(credentials)


def _shown(params: QueryDict, now: datetime = NOW) -> dict:
    kept = {"locations": [{**loc, "currency": "USD"} for loc in LISTED]}
    return _provider().show_lookup("locations", kept, params, account_id=MERCHANT, now=now)


def test_the_picker_shows_a_location_sous_has_not_met_as_new_and_not_included():
    params = QueryDict(mutable=True)
    params.setlist("known", ["L1"])

    data = _shown(params)

    rows = {row["id"]: row for row in data["locations"]}
    assert (rows["L1"]["included"], rows["L1"]["new"]) == (True, False)
    assert (rows["L2"]["included"], rows["L2"]["new"]) == (False, True)


def test_the_picker_shows_a_recorded_new_location_as_new_until_staff_save():
    data = _shown(QueryDict("known=L1&known=L2&exclude=L2&new=L2"))

    rows = {row["id"]: row for row in data["locations"]}
    assert (rows["L2"]["included"], rows["L2"]["new"]) == (False, True)


@responses.activate
def test_the_kept_locations_are_what_square_lists_and_nothing_derived():
    responses.get(
        f"{BASE}/v2/locations",
        json={"locations": [{**LISTED[0], "business_email": "owner@harbour.example"}]},
        match=[responses.matchers.header_matcher({"Authorization": "Bearer EAAA-token"})],
    )

    kept = _provider().fetch_lookup("locations", "EAAA-token", settings=KNOWS_L1)

    assert kept == {
        "locations": [
            {
                "id": "L1",
                "name": "Harbour",
                "status": "ACTIVE",
                "timezone": "America/New_York",
                "currency": "",
            }
        ]
    }
    assert json.loads(json.dumps(kept)) == kept  # stored as JSON on the connection


def test_sync_today_windows_are_drawn_for_the_moment_shown_not_when_the_list_was_kept():
    params = QueryDict("known=L1&cutoff.L1=04:00")
    # 18:00 UTC on 12 Mar is 14:00 in New York: the business day that began at 04:00 today.
    today = _shown(params)["locations"][0]
    # The same kept list two days later (23:00 UTC on 14 Mar: 19:00 in New York).
    later = _shown(params, NOW + timedelta(days=2, hours=5))["locations"][0]

    assert today["window"].startswith("Wed 12 Mar 04:00 →")
    assert later["window"].startswith("Fri 14 Mar 04:00 →")
    assert today["cutoff"] == later["cutoff"] == "04:00"


def test_the_picker_signs_what_it_shows_for_the_connected_merchant_each_time():
    form = QueryDict(mutable=True)
    form["locations"] = _shown(QueryDict("known=L1"))["signed"]
    form.setlist("include", ["L1", "L2"])

    saved = clean_location_settings(form, KNOWS_L1, account_id=MERCHANT)

    assert set(saved["locations"]) == {"L1", "L2"}
    with pytest.raises(InvalidParams):
        clean_location_settings(form, KNOWS_L1, account_id="MERCHANT-2")


@responses.activate
def test_every_job_that_lists_the_locations_hands_them_on_for_the_drawer():
    _mock_locations()
    request = SyncRequest(
        params={},
        checkpoint=LocationsAction.Checkpoint(),
        cursor={},
        settings={},
        now=NOW,
        account_id=MERCHANT,
    )

    (page,) = LocationsAction().pages(_client(), request)

    (kept,) = [r for r in page.records if isinstance(r, LookupData)]
    assert (kept.name, kept.account_id) == ("locations", MERCHANT)
    assert [loc["id"] for loc in kept.data["locations"]] == ["L1", "L2"]


def test_saving_the_picker_clears_new_for_the_listed_locations_only():
    shown = [SalesLocation("L1", "Harbour", "America/New_York", "00:00")]
    current = {
        "locations": {
            "L1": {"name": "Harbour", "timezone": "America/New_York"},
            # Met after the picker was drawn: not the staff's choice yet.
            "L2": {"name": "Market Hall", "timezone": "America/Chicago"},
        },
        "excluded_locations": ["L2"],
        "new_locations": ["L2"],
    }
    form = QueryDict(mutable=True)
    form["locations"] = sign_locations(MERCHANT, shown)
    form.setlist("include", ["L1"])

    saved = clean_location_settings(form, current, account_id=MERCHANT)

    assert set(saved["locations"]) == {"L1", "L2"}
    assert saved["excluded_locations"] == ["L2"] and saved["new_locations"] == ["L2"]

    shown.append(SalesLocation("L2", "Market Hall", "America/Chicago", "00:00"))
    form["locations"] = sign_locations(MERCHANT, shown)
    form.setlist("include", ["L1", "L2"])
    saved = clean_location_settings(form, saved, account_id=MERCHANT)

    assert saved["excluded_locations"] == [] and "new_locations" not in saved
