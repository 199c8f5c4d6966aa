"""The Square drawer's completeness calendar and the Sync Range preview, over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from integrations.models import SyncJob
from tests.integrations.square_sync import (
    local_date_days_ago,
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SALES = "/integrations/square/actions/sales/"


@pytest.fixture(name="pulled")
def pulled_fixture(square_config, product_on_sandbox):
    resize(product_on_sandbox, orders_per_day=6)
    day = local_date_days_ago(9)
    run_inline(start(square_config, "sales", {"start": day.isoformat(), "end": day.isoformat()}))
    square_config.refresh_from_db()
    return day


def test_the_calendar_shows_13_weeks_a_location_each_day_a_named_button(
    owner_client, pulled, merchant
):
    html = owner_client.get("/integrations/square/ledger/", **HTMX).content.decode()

    for location in merchant["locations"]:
        assert f"{location['name']}: business days of the last 13 weeks" in html
    labels = re.findall(
        r'<button type="button" class="ledger-day state-(\w+)"\s+aria-label="([^"]+)"', html
    )
    assert 85 * len(merchant["locations"]) <= len(labels) <= 91 * len(merchant["locations"])
    name = merchant["locations"][0]["name"]
    day_words = f"{pulled:%a} {pulled.day} {pulled:%b}, {name}: complete, "
    assert any(state == "complete" and label.startswith(day_words) for state, label in labels)
    assert any(state == "never" and label.endswith(": never pulled") for state, label in labels)
    assert "Changed after close" in html and "In the late window" in html  # the legend


def test_a_day_shows_its_figures_and_re_pull_for_staff_who_manage(
    owner_client, pulled, merchant, member, client_factory
):
    location = merchant["locations"][0]
    url = f"/integrations/square/ledger/day/?location={location['id']}&day={pulled.isoformat()}"
    html = owner_client.get(url, **HTMX).content.decode()
    assert "Net sales" in html and "Total collected" in html and "Complete" in html
    assert ">Re-pull this day</button>" in html
    assert f'name="location" value="{location["id"]}"' in html

    viewer = client_factory()
    viewer.force_login(member)
    seen = viewer.get(url, **HTMX)
    assert seen.status_code == 200 and "Net sales" in seen.content.decode()
    assert "Re-pull this day" not in seen.content.decode()
    data = {"mode": "range", "start": pulled.isoformat(), "end": pulled.isoformat()}
    refused = viewer.post(SALES, {**data, "location": location["id"], "confirmed": "1"}, **HTMX)
    assert refused.status_code == 403
    assert not SyncJob.objects.filter(params__locations=[location["id"]]).exists()


def test_re_pull_this_day_starts_one_day_of_one_location(owner_client, pulled, merchant):
    location = merchant["locations"][1]
    day = pulled.isoformat()
    response = owner_client.post(
        SALES,
        {"mode": "range", "start": day, "end": day, "location": location["id"], "confirmed": "1"},
        **HTMX,
    )
    assert response.status_code == 202
    job = SyncJob.objects.filter(parent__isnull=True).order_by("-created_at").first()
    assert job.params == {"mode": "range", "start": day, "end": day, "locations": [location["id"]]}


def test_another_organisation_s_calendar_is_not_found(pulled, merchant, outsider, client_factory):
    stranger = client_factory()
    stranger.force_login(outsider)
    location = merchant["locations"][0]["id"]
    assert stranger.get("/integrations/square/ledger/", **HTMX).status_code == 404
    day_url = f"/integrations/square/ledger/day/?location={location}&day={pulled.isoformat()}"
    assert stranger.get(day_url, **HTMX).status_code == 404


def test_an_unknown_location_or_day_is_not_found(owner_client, pulled):
    base = "/integrations/square/ledger/day/"
    assert owner_client.get(f"{base}?location=NOPE&day={pulled}", **HTMX).status_code == 404
    assert owner_client.get(f"{base}?location=NOPE&day=soon", **HTMX).status_code == 404


def test_sync_range_asks_first_then_starts_on_start_and_cancel_returns_to_the_form(
    owner_client, pulled, merchant
):
    first, last = pulled - timedelta(days=40), pulled
    data = {"mode": "range", "start": first.isoformat(), "end": last.isoformat()}

    asked = owner_client.post(SALES, data, **HTMX)
    html = asked.content.decode()
    assert asked.status_code == 200 and not SyncJob.objects.filter(params__start=data["start"])
    n = len(merchant["locations"])
    assert f"41 days × {n} locations ≈ " in html and "API calls, ≈ " in html
    assert ">Start</button>" in html and ">Cancel</a>" in html
    assert 'name="confirmed" value="1"' in html

    back = owner_client.get(
        f"/integrations/square/actions/sales/form/?start={data['start']}&end={data['end']}"
        "&returned=1",
        **HTMX,
    ).content.decode()
    assert ">Start</button>" not in back
    assert f'value="{data["start"]}"' in back and f'value="{data["end"]}"' in back

    started = owner_client.post(SALES, {**data, "confirmed": "1"}, **HTMX)
    assert started.status_code == 202
    assert SyncJob.objects.filter(params__start=data["start"], parent__isnull=True).count() == 1


def test_a_bad_range_keeps_its_inline_error_and_sync_today_asks_nothing(owner_client, pulled):
    bad = owner_client.post(
        SALES, {"mode": "range", "start": "2025-02-01", "end": "2025-01-01"}, **HTMX
    ).content.decode()
    assert "The start date must be on or before the end date." in bad and "≈" not in bad

    today = owner_client.post(SALES, {"mode": "today"}, **HTMX)
    assert today.status_code == 202
