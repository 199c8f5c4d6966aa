"""The order generator on its own: a pure function of (location, day, index) and "now"."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from providers.square.sandbox.config import Sizes
from providers.square.sandbox.orders import MAX_CLOSE_DELAY_MS, local_ordinal
from providers.square.sandbox.state import dataset
from providers.square.sandbox.timeline import Overlay, Window, walk

SIZES = Sizes(orders_per_day=30, days=60)


@pytest.fixture(scope="module")
def data():
    return dataset(42, SIZES)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_the_same_coordinates_give_the_same_order(data):
    gen = data.generator
    loc = data.merchants[0].locations[0]
    day = date(2026, 3, 3).toordinal()
    now = _ms(datetime(2026, 6, 1, tzinfo=UTC))

    first = gen.build(loc, day, 5, now)
    again = dataset(42, SIZES).generator.build(loc, day, 5, now)
    other_seed = dataset(43, SIZES).generator

    assert first == again
    assert gen.locate(first["id"]) == (loc, day, 5)
    assert other_seed.locate(first["id"]) is None
    assert gen.locate("CAISENgvlJ6jLWAzERDzjyHVybY") is None


def test_an_order_is_open_until_it_closes_then_completes(data):
    gen = data.generator
    loc = data.merchants[0].locations[0]
    day = date(2026, 3, 3).toordinal()
    keys = gen.day_keys(loc.key, day)
    index = next(i for i, flag in enumerate(keys.canceled) if not flag)
    created, closed = keys.created[index], keys.closed[index]

    during = gen.build(loc, day, index, created + 1)
    after = gen.build(loc, day, index, closed)

    assert during["state"] == "OPEN"
    assert "closed_at" not in during and "tenders" not in during
    assert during["net_amount_due_money"] == during["total_money"]
    assert after["state"] == "COMPLETED"
    assert after["tenders"][0]["payment_id"]
    assert (
        during["line_items"][0]["catalog_object_id"] == after["line_items"][0]["catalog_object_id"]
    )


def test_open_orders_only_exist_for_the_last_hour_or_so(data):
    gen = data.generator
    loc = next(x for x in data.merchants[0].locations if x.timezone == "America/New_York")
    now = _ms(datetime(2026, 5, 2, 17, 30, tzinfo=UTC))  # lunchtime in New York
    window = Window("created_at", None, None, frozenset({"OPEN"}), desc=True)

    open_keys = list(walk(gen, [loc], window, None, now, Overlay({})))

    assert open_keys, "a lunch rush leaves some tables open"
    assert all(now - MAX_CLOSE_DELAY_MS <= key[0] <= now for key in open_keys)


def test_business_days_never_overlap_even_across_dst_changes(data):
    gen = data.generator
    for loc in data.merchants[0].locations:
        # 2026-03-08 and 2026-11-01 are the US DST changes.
        for day in range(date(2026, 3, 1).toordinal(), date(2026, 3, 15).toordinal()):
            today, tomorrow = gen.day_keys(loc.key, day), gen.day_keys(loc.key, day + 1)
            assert max(today.closed) < min(tomorrow.created), (loc.name, date.fromordinal(day))
            assert list(today.created) == sorted(set(today.created))
        for day in range(date(2026, 10, 25).toordinal(), date(2026, 11, 8).toordinal()):
            today, tomorrow = gen.day_keys(loc.key, day), gen.day_keys(loc.key, day + 1)
            assert max(today.closed) < min(tomorrow.created)


def test_history_ends_today_in_each_time_zone(data):
    gen = data.generator
    now = _ms(datetime(2026, 5, 2, 3, 0, tzinfo=UTC))  # 2 May in UTC, still 1 May out west
    by_zone = {loc.timezone: loc for loc in data.merchants[0].locations}

    first, last = gen.history(by_zone["America/Los_Angeles"], now)

    assert date.fromordinal(last) == date(2026, 5, 1)
    assert last - first + 1 == SIZES.days
    assert local_ordinal(now, by_zone["America/New_York"].tz) == date(2026, 5, 1).toordinal()


def test_orders_per_day_average_the_size(data):
    gen = data.generator
    loc = data.merchants[0].locations[1]
    start = date(2026, 1, 5).toordinal()  # a Monday: four whole weeks follow

    counts = [len(gen.day_keys(loc.key, day).created) for day in range(start, start + 28)]

    assert 0.9 * 30 <= sum(counts) / len(counts) <= 1.1 * 30
    assert max(counts) > min(counts)
