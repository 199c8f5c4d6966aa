"""The Sales action on its own: business days, chunks, overlaps, resuming pages (HTTP mocked)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
import responses

from providers.base import InvalidParams, SyncRequest
from providers.http import BACKGROUND
from providers.records.sales import OrderRecord
from providers.records.tally import Tally
from providers.square.business_day import BusinessClock, parse_cutoff
from providers.square.client import SquareClient
from providers.square.prefetch import ahead
from providers.square.sales import SalesAction, SalesCheckpoint
from tests.conftest import wait_for

BASE = "https://connect.squareup.com"
NOW = datetime(2025, 3, 12, 18, 0, tzinfo=UTC)
action = SalesAction()


# --- business days -----------------------------------------------------------------------------


def test_a_late_dinner_in_los_angeles_stays_on_its_local_day():
    clock = BusinessClock("America/Los_Angeles")
    dinner = datetime(2024, 5, 4, 6, 30, tzinfo=UTC)  # 23:30 on 3 May in Los Angeles

    assert clock.date_of(dinner) == date(2024, 5, 3)
    assert clock.window(date(2024, 5, 3)) == (
        datetime(2024, 5, 3, 7, 0, tzinfo=UTC),
        datetime(2024, 5, 4, 7, 0, tzinfo=UTC),
    )


def test_a_four_o_clock_cutoff_keeps_a_bar_s_friday_until_saturday_morning():
    clock = BusinessClock("America/New_York", "04:00")

    assert clock.date_of(datetime(2024, 11, 2, 5, 30, tzinfo=UTC)) == date(2024, 11, 1)  # 01:30
    assert clock.date_of(datetime(2024, 11, 2, 7, 59, tzinfo=UTC)) == date(2024, 11, 1)  # 03:59
    assert clock.date_of(datetime(2024, 11, 2, 8, 0, tzinfo=UTC)) == date(2024, 11, 2)  # 04:00
    assert clock.describe(date(2024, 11, 1)) == (
        "Fri 1 Nov 04:00 → Sat 2 Nov 04:00, America/New_York"
    )


@pytest.mark.parametrize("cutoff", ["00:00", "01:30", "02:30", "04:00"])
def test_business_days_stay_contiguous_across_daylight_saving_changes(cutoff):
    clock = BusinessClock("America/New_York", cutoff)
    for first in (date(2024, 3, 9), date(2024, 11, 2)):
        for offset in range(3):
            day = first + timedelta(days=offset)
            start, end = clock.window(day)
            assert end == clock.start(day + timedelta(days=1))
            assert clock.date_of(start) == day
            assert clock.date_of(end - timedelta(microseconds=1)) == day
            # Every minute of the day maps back onto it, in order.
            moment = start
            while moment < end:
                assert clock.date_of(moment) == day
                moment += timedelta(minutes=7)


@pytest.mark.parametrize("text", ["4:00", "24:00", "04:60", "", "noon", "04:00:00"])
def test_a_cutoff_is_hh_mm(text):
    with pytest.raises(ValueError):
        parse_cutoff(text)


# --- requests ----------------------------------------------------------------------------------


def test_a_range_splits_into_calendar_months():
    params = {"mode": "range", "start": "2023-01-15", "end": "2023-03-02"}

    assert action.plan(params, settings={}, now=NOW) == [
        {"mode": "range", "start": "2023-01-15", "end": "2023-01-31"},
        {"mode": "range", "start": "2023-02-01", "end": "2023-02-28"},
        {"mode": "range", "start": "2023-03-01", "end": "2023-03-02"},
    ]
    two_years = {"mode": "range", "start": "2023-03-01", "end": "2025-02-28"}
    assert len(action.plan(two_years, settings={}, now=NOW)) == 24
    within = {"mode": "range", "start": "2025-03-01", "end": "2025-03-10"}
    assert action.plan(within, settings={}, now=NOW) == [within]
    assert action.plan({"mode": "today"}, settings={}, now=NOW) == [{"mode": "today"}]


def test_an_active_job_answers_only_requests_it_covers():
    march = {"mode": "range", "start": "2025-03-01", "end": "2025-03-31"}

    assert action.overlaps(march, {"mode": "range", "start": "2025-03-05", "end": "2025-03-06"})
    assert not action.overlaps(march, {"mode": "range", "start": "2025-02-27", "end": "2025-03-06"})
    assert not action.overlaps(march, {"mode": "today"})
    assert action.overlaps({"mode": "today"}, {"mode": "today"})


def test_without_known_zones_the_end_may_be_any_day_begun_somewhere_on_earth():
    # 18:00 UTC on 12 March is already 13 March at UTC+14, and not yet 14 March anywhere.
    assert action.validate({"start": "2025-03-01", "end": "2025-03-13"}, settings={}, now=NOW)
    with pytest.raises(InvalidParams, match="in the future"):
        action.validate({"start": "2025-03-01", "end": "2025-03-14"}, settings={}, now=NOW)


def test_with_known_zones_a_cutoff_keeps_yesterday_as_today():
    settings = {
        "locations": {"NY": {"timezone": "America/New_York"}},
        "cutoffs": {"NY": "04:00"},
    }
    early = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)  # 02:00 in New York: still the 11th
    assert action.validate(
        {"start": "2025-03-01", "end": "2025-03-11"}, settings=settings, now=early
    )
    with pytest.raises(InvalidParams, match="in the future"):
        action.validate({"start": "2025-03-01", "end": "2025-03-12"}, settings=settings, now=early)


def test_the_summary_names_new_and_changed_orders():
    assert action.summary(Tally(orders=212310, orders_new=212000, orders_changed=310)) == (
        "Sales synced: 212,310 orders (212,000 new, 310 changed)"
    )
    assert (
        action.summary(Tally(orders=1, orders_new=1)) == "Sales synced: 1 order (1 new, 0 changed)"
    )
    assert action.summary(Tally()) == "Sales synced: 0 orders (0 new, 0 changed)"


# --- pages: resuming exactly where a checkpoint says -------------------------------------------


def _order(n: int, closed: str) -> dict:
    return {
        "id": f"O{n}",
        "location_id": "L1",
        "state": "COMPLETED",
        "version": 4,
        "created_at": closed,
        "updated_at": closed,
        "closed_at": closed,
        "total_money": {"amount": 100 * n, "currency": "USD"},
    }


def _mock_locations():
    responses.get(
        f"{BASE}/v2/locations",
        json={"locations": [{"id": "L1", "name": "Main", "timezone": "UTC", "status": "ACTIVE"}]},
    )


def _request(checkpoint: SalesCheckpoint | None = None) -> SyncRequest:
    # As the engine hands it back: stored as JSON, then read as the action's Checkpoint.
    saved = json.loads(json.dumps(msgspec.to_builtins(checkpoint or SalesCheckpoint())))
    return SyncRequest(
        params={"mode": "range", "start": "2025-03-01", "end": "2025-03-01"},
        checkpoint=msgspec.convert(saved, SalesCheckpoint),
        cursor={},
        settings={},
        now=NOW,
    )


def _client() -> SquareClient:
    return SquareClient(BASE, "EAAA-token", BACKGROUND)


def _orders(page) -> list[OrderRecord]:
    return [r for r in page.records if isinstance(r, OrderRecord)]


def _sent(call) -> dict:
    return json.loads(call.request.body)


@responses.activate
def test_pages_resume_from_the_checkpoint_with_the_same_query_and_cursor():
    _mock_locations()
    search = f"{BASE}/v2/orders/search"
    responses.post(search, json={})  # created step: no open or cancelled orders
    responses.post(search, json={"orders": [_order(1, "2025-03-01T10:00:00Z")], "cursor": "c1"})
    responses.post(search, json={"orders": [_order(2, "2025-03-01T12:00:00Z")]})

    pages = list(action.pages(_client(), _request()))

    # The first page also carries what ListLocations said (for the locations importer).
    assert [len(_orders(p)) for p in pages] == [0, 1, 1]
    created, closed, last = (_sent(c) for c in responses.calls[1:])
    assert created["query"]["filter"]["state_filter"]["states"] == ["OPEN", "CANCELED"]
    assert created["query"]["sort"] == {"sort_field": "CREATED_AT", "sort_order": "ASC"}
    assert closed["query"]["filter"]["date_time_filter"] == {
        "closed_at": {"start_at": "2025-03-01T00:00:00.000Z", "end_at": "2025-03-01T23:59:59.999Z"}
    }
    assert closed["query"]["sort"]["sort_field"] == "CLOSED_AT" and closed["limit"] == 1000
    assert last["cursor"] == "c1" and last["query"] == closed["query"]
    assert pages[-1].progress.done == pages[-1].progress.total == 2
    # The bar moves through the empty created step (a ninth: open and cancelled orders are
    # few), then with the time the closed orders have reached (10:00 of the day).
    assert [p.progress.fraction for p in pages] == pytest.approx([1 / 9, (1 + 8 * 10 / 24) / 9, 1])
    assert pages[0].progress.total is None  # no order yet: nothing to estimate a total from
    assert pages[-1].cursor is None  # a range never moves the incremental cursor

    # A task that died after the second page resumes with its cursor, and only that.
    responses.calls.reset()
    responses.replace(responses.POST, search, json={"orders": [_order(2, "2025-03-01T12:00:00Z")]})
    again = list(action.pages(_client(), _request(pages[1].checkpoint)))
    assert [r.external_id for p in again for r in _orders(p)] == ["O2"]
    assert len(responses.calls) == 1  # no ListLocations: the plan travels in the checkpoint
    assert _sent(responses.calls[0])["cursor"] == "c1"


@responses.activate
def test_an_expired_cursor_restarts_the_query_from_the_last_order_seen():
    _mock_locations()
    search = f"{BASE}/v2/orders/search"
    responses.post(search, json={})
    responses.post(search, json={"orders": [_order(1, "2025-03-01T10:00:00Z")], "cursor": "c1"})
    threads = threading.active_count()
    first_two = []
    pages = action.pages(_client(), _request())
    for page in pages:
        first_two.append(page)
        if len(first_two) == 2:
            break
    pages.close()  # the task stops here; its prefetching threads wind down
    wait_for(lambda: threading.active_count() <= threads, timeout=5, message="threads linger")
    responses.calls.reset()
    responses.replace(
        responses.POST,
        search,
        status=400,
        json={"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "INVALID_CURSOR"}]},
    )
    responses.post(
        search,
        json={"orders": [_order(1, "2025-03-01T10:00:00Z"), _order(2, "2025-03-01T12:00:00Z")]},
    )

    pages = list(action.pages(_client(), _request(first_two[1].checkpoint)))

    retry = _sent(responses.calls[1])
    assert "cursor" not in retry
    assert retry["query"]["filter"]["date_time_filter"]["closed_at"]["start_at"] == (
        "2025-03-01T10:00:00.000Z"
    )
    assert [r.external_id for p in pages for r in _orders(p)] == ["O1", "O2"]


@responses.activate
def test_orders_outside_their_own_location_s_days_are_left_to_their_neighbours():
    responses.get(
        f"{BASE}/v2/locations",
        json={
            "locations": [
                {"id": "L1", "name": "New York", "timezone": "America/New_York"},
                {"id": "L2", "name": "Los Angeles", "timezone": "America/Los_Angeles"},
            ]
        },
    )
    search = f"{BASE}/v2/orders/search"
    responses.post(search, json={})
    # 04:30 UTC on 2 March: 23:30 on 1 March in New York, 20:30 in Los Angeles. And
    # 07:30 UTC on 2 March: 02:30 on 2 March in New York, 23:30 on 1 March in Los Angeles.
    orders = [
        {**_order(1, "2025-03-02T04:30:00Z"), "location_id": "L1"},
        {**_order(2, "2025-03-02T07:30:00Z"), "location_id": "L1"},
        {**_order(3, "2025-03-02T07:30:00Z"), "location_id": "L2"},
        {**_order(4, "2025-03-01T06:00:00Z"), "location_id": "L2"},  # 28 Feb in Los Angeles
    ]
    responses.post(search, json={"orders": orders})

    pages = list(action.pages(_client(), _request()))

    kept = {r.external_id: r.business_date for p in pages for r in _orders(p)}
    assert kept == {"O1": date(2025, 3, 1), "O3": date(2025, 3, 1)}
    window = _sent(responses.calls[2])["query"]["filter"]["date_time_filter"]["closed_at"]
    # One query for both locations: the union of their two windows.
    assert window == {"start_at": "2025-03-01T05:00:00.000Z", "end_at": "2025-03-02T07:59:59.999Z"}


# --- prefetching -------------------------------------------------------------------------------


def test_prefetch_keeps_order_passes_failures_after_earlier_pages_and_stops_when_left():
    produced = []

    def pages():
        for n in range(3):
            produced.append(n)
            yield n
        raise RuntimeError("boom")

    iterator = ahead(pages())
    assert [next(iterator), next(iterator), next(iterator)] == [0, 1, 2]
    with pytest.raises(RuntimeError, match="boom"):
        next(iterator)

    started = threading.Event()

    def endless():
        n = 0
        while True:
            started.set()
            yield n
            n += 1

    before = threading.active_count()
    iterator = ahead(endless())
    assert next(iterator) == 0
    iterator.close()
    wait_for(lambda: threading.active_count() <= before, timeout=5, message="thread kept running")
