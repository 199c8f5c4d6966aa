"""The Square drawer's Catalog and Sales sections: locations, cutoffs, windows, validation."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from integrations.models import SyncJob
from providers.square.business_day import BusinessClock
from providers.square.sales import SalesLocation, sign_locations
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    square_config_fixture,  # noqa: F401
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _toast(response) -> dict:
    return json.loads(response["HX-Trigger"])["sous:toast"]


def test_the_drawer_offers_both_syncs_and_says_what_a_business_day_holds(
    owner_client, square_config
):
    html = owner_client.get("/integrations/square/manage/").content.decode()

    assert "Catalog sync" in html and ">Sync Catalog</button>" in html
    assert (
        "Sales sync" in html and ">Sync Today</button>" in html and ">Sync Range</button>" in html
    )
    assert 'type="date" id="sales-start" name="start"' in html
    assert "completed orders closed in it and the open and cancelled" in html
    assert "/integrations/square/lookup/locations/" in html


def test_a_redrawn_drawer_shows_the_last_minutes_health_check_without_a_spinner(
    owner_client, square_config
):
    first = owner_client.get("/integrations/square/manage/").content.decode()
    assert "Checking the connection…" in first  # nothing checked yet: asked for after render
    assert "Connection healthy" in owner_client.get("/integrations/square/health/").content.decode()

    # Drawn again (a job started or ended): the check just made, at once.
    again = owner_client.get("/integrations/square/manage/").content.decode()
    assert "Checking the connection…" not in again
    assert "Connection healthy" in again and "Check again" in again


def test_the_locations_picker_shows_zones_choices_and_the_exact_local_windows(
    owner_client, square_config, merchant
):
    locations = {loc["timezone"]: loc for loc in merchant["locations"]}
    new_york, los_angeles = locations["America/New_York"], locations["America/Los_Angeles"]

    response = owner_client.get(
        "/integrations/square/lookup/locations/",
        {"exclude": los_angeles["id"], f"cutoff.{new_york['id']}": "04:00"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    for location in merchant["locations"]:
        assert location["name"] in html and f"({location['timezone']})" in html
    ny_clock = BusinessClock("America/New_York", "04:00")
    la_clock = BusinessClock("America/Los_Angeles")
    now = datetime.now(UTC)
    assert ny_clock.describe(ny_clock.today(now)) in html
    assert la_clock.describe(la_clock.today(now)) in html
    assert f'name="cutoff.{new_york["id"]}" value="04:00"' in html
    assert f'value="{new_york["id"]}" checked' in html
    assert f'value="{los_angeles["id"]}" checked' not in html
    assert "04:00 →" in html


def _signed_locations(client) -> str:
    """The picker's signed list of the connection's locations, as the drawer's form holds it."""
    html = client.get("/integrations/square/lookup/locations/").content.decode()
    return re.search(r'name="locations" value="([^"]+)"', html).group(1)


def test_saving_locations_keeps_choices_cutoffs_and_zones(owner_client, square_config, merchant):
    ids = [loc["id"] for loc in merchant["locations"]]
    form = {
        "locations": _signed_locations(owner_client),
        "include": ids[:2],
        f"cutoff.{ids[0]}": "04:00",
        # Names and zones come from Square through the signed list, never from the form.
        f"timezone.{ids[1]}": "Mars/Olympus_Mons",
    }

    response = owner_client.post("/integrations/square/settings/", form, **HTMX)

    assert response.status_code == 204
    square_config.refresh_from_db()
    assert square_config.settings["excluded_locations"] == [ids[2]]
    assert square_config.settings["cutoffs"] == {ids[0]: "04:00"}
    assert square_config.settings["locations"] == {
        loc["id"]: {"name": loc["name"], "timezone": loc["timezone"]}
        for loc in merchant["locations"]
    }


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"include": []}, "Choose at least one location."),
        ({"include": ["FIRST"], "cutoff.FIRST": "25:00"}, "Cutoffs are times of day"),
        ({"include": ["L-INVENTED"]}, "Choose among the listed locations."),
        ({"include": ["FIRST"], "locations": "forged"}, "Choose among the listed locations."),
        ({"include": ["FIRST"], "locations": None}, "Choose among the listed locations."),
    ],
)
def test_bad_location_choices_are_refused(owner_client, square_config, merchant, form, message):
    first = merchant["locations"][0]["id"]
    form = {
        key.replace("FIRST", first): [first if v == "FIRST" else v for v in value]
        if isinstance(value, list)
        else value
        for key, value in form.items()
    }
    form.setdefault("locations", _signed_locations(owner_client))
    form = {key: value for key, value in form.items() if value is not None}

    response = owner_client.post("/integrations/square/settings/", form, **HTMX)

    assert response["HX-Reswap"] == "none"
    assert _toast(response)["level"] == "error"
    assert message in _toast(response)["message"]
    square_config.refresh_from_db()
    assert "excluded_locations" not in square_config.settings


def test_another_merchants_locations_or_an_unknown_zone_are_refused(
    owner_client, square_config, merchant
):
    theirs = sign_locations("ANOTHER-MERCHANT", [SalesLocation("L1", "Theirs", "UTC", "00:00")])
    invented = sign_locations(
        square_config.external_account_id, [SalesLocation("L1", "Ours", "Mars/Olympus", "00:00")]
    )
    for signed, message in [
        (theirs, "Choose among the listed locations."),
        (invented, "Ours has a time zone Sous does not know"),
    ]:
        form = {"locations": signed, "include": ["L1"]}
        response = owner_client.post("/integrations/square/settings/", form, **HTMX)
        assert message in _toast(response)["message"]
    square_config.refresh_from_db()
    assert "locations" not in square_config.settings


def _today_in(zone: str):
    return BusinessClock(zone).today(datetime.now(UTC))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("", "", "Choose both a start and an end date."),
        ("2024-03-01", "", "Choose both a start and an end date."),
        ("2024-03-01", "03/02/2024", "Dates look like 2024-11-01."),
        ("2024-03-05", "2024-03-01", "The start date must be on or before the end date."),
        ("today-3", "today+1", "The end date is in the future"),
        ("today-1096", "today", "A range can cover at most three years."),
        ("0001-01-01", "0001-01-31", "Square has no sales before 2009: start on 1 Jan 2009"),
        ("2008-12-31", "2009-01-31", "Square has no sales before 2009"),
    ],
)
def test_a_bad_range_is_refused_next_to_the_picker_and_no_job_starts(
    owner_client, square_config, merchant, start, end, message
):
    # The saved locations are in New York, Chicago and Los Angeles: "today" is theirs.
    square_config.settings = {
        "locations": {loc["id"]: {"timezone": loc["timezone"]} for loc in merchant["locations"]}
    }
    square_config.save()
    today = max(_today_in(loc["timezone"]) for loc in merchant["locations"])

    def day(text):
        if not text.startswith("today"):
            return text
        offset = int(text[5:] or 0)
        return str(today + timedelta(days=offset))

    response = owner_client.post(
        "/integrations/square/actions/sales/",
        {"mode": "range", "start": day(start), "end": day(end)},
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="form-error" role="alert">' + message in html
    assert 'id="sales-start"' in html  # the picker comes back with the message beside it
    assert f'value="{day(start)}"' in html
    assert not SyncJob.objects.exists()


def test_the_longest_range_and_today_as_its_end_are_accepted(owner_client, square_config, merchant):
    square_config.settings = {
        "locations": {loc["id"]: {"timezone": loc["timezone"]} for loc in merchant["locations"]}
    }
    square_config.save()
    today = max(_today_in(loc["timezone"]) for loc in merchant["locations"])
    first = today.replace(year=today.year - 3) + timedelta(days=1)

    data = {"mode": "range", "start": str(first), "end": str(today)}
    asked = owner_client.post("/integrations/square/actions/sales/", data, **HTMX)
    assert asked.status_code == 200 and "36 months × 3 locations" in asked.content.decode()
    assert not SyncJob.objects.exists()  # a range is confirmed first (its preview)

    response = owner_client.post(
        "/integrations/square/actions/sales/", {**data, "confirmed": "1"}, **HTMX
    )

    assert response.status_code == 202, response.content[:300]
    job = SyncJob.objects.get()
    assert job.params == {"mode": "range", "start": str(first), "end": str(today)}
    assert _toast(response)["message"] == "Sales sync started. We'll notify you when it's ready."


def test_sync_today_and_sync_catalog_start_jobs(owner_client, square_config):
    today = owner_client.post(
        "/integrations/square/actions/sales/", {"mode": "today", "start": "", "end": ""}, **HTMX
    )
    catalog = owner_client.post("/integrations/square/actions/catalog/", {}, **HTMX)
    again = owner_client.post("/integrations/square/actions/catalog/", {}, **HTMX)

    assert (today.status_code, catalog.status_code) == (202, 202)
    assert _toast(catalog)["message"] == "Catalog sync started. We'll notify you when it's ready."
    assert _toast(again)["message"] == (
        "Catalog sync already waiting to start: your request is part of it"
    )
    assert sorted(SyncJob.objects.values_list("kind", "params__mode")) == [
        ("square.catalog", None),
        ("square.sales", "today"),
    ]


def test_members_see_the_sections_without_the_buttons(client, member, square_config):
    client.force_login(member)
    html = client.get("/integrations/square/manage/").content.decode()

    assert "Sales sync" in html
    assert "Sync Today" not in html and "Sync Catalog" not in html
