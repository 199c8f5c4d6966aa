"""Closed orders are served from the JSON they were first rendered as, within a byte budget."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
import pytest

from providers.square.sandbox.config import Sizes
from providers.square.sandbox.orders import INDEX_LIMIT
from providers.square.sandbox.rendered import RenderedOrders
from providers.square.sandbox.search import plan_search, search_page
from providers.square.sandbox.state import dataset
from providers.square.sandbox.timeline import Overlay

SIZES = Sizes(merchants=1, locations=2, orders_per_day=40, days=40)
NOW = int(datetime(2026, 6, 1, 12, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def data():
    return dataset(11, SIZES)


def _pages(data, rendered: RenderedOrders | None) -> list[bytes]:
    merchant = data.merchants[0]
    body = {
        "location_ids": [loc.id for loc in merchant.locations],
        "limit": 150,
        "query": {
            "filter": {
                "state_filter": {"states": ["COMPLETED", "CANCELED"]},
                "date_time_filter": {
                    "closed_at": {
                        "start_at": "2026-05-20T00:00:00Z",
                        "end_at": "2026-05-24T00:00:00Z",
                    }
                },
            },
            "sort": {"sort_field": "CLOSED_AT", "sort_order": "ASC"},
        },
    }
    plan = plan_search(body, merchant)
    pages, cursor = [], None
    while True:
        answer = search_page(data.generator, Overlay({}), plan, cursor, NOW, rendered)
        pages.append(orjson.dumps(answer))
        cursor = answer.get("cursor")
        if cursor is None:
            return pages


def test_kept_orders_are_served_byte_for_byte_as_freshly_rendered_ones(data):
    rendered = RenderedOrders(64 * 1024 * 1024)

    fresh = _pages(data, None)
    first = _pages(data, rendered)
    kept = rendered.size
    again = _pages(data, rendered)

    assert len(fresh) > 2
    assert first == fresh
    assert again == fresh
    assert kept > 0
    assert rendered.size == kept  # the second pass rendered nothing new


def test_open_orders_are_rendered_every_time(data):
    rendered = RenderedOrders(64 * 1024 * 1024)
    loc = data.merchants[0].locations[0]
    day = date(2026, 5, 20).toordinal()
    keys = data.generator.day_keys(loc.key, day)

    while_open = rendered.order(data.generator, loc.key, day * INDEX_LIMIT, keys.created[0] + 1)
    closed = rendered.order(data.generator, loc.key, day * INDEX_LIMIT, NOW)

    assert while_open["state"] == "OPEN"
    assert orjson.loads(orjson.dumps(closed))["state"] in ("COMPLETED", "CANCELED")
    assert rendered.size == len(orjson.dumps(closed))


def test_the_least_recently_served_orders_go_first_beyond_the_budget(data):
    loc = data.merchants[0].locations[0]
    day = date(2026, 5, 20).toordinal()
    serials = [day * INDEX_LIMIT + i for i in range(12)]
    one = len(orjson.dumps(data.generator.build(loc, day, 0, NOW)))
    rendered = RenderedOrders(4 * one)

    for serial in serials:
        rendered.order(data.generator, loc.key, serial, NOW)
    size = rendered.size
    rendered.order(data.generator, loc.key, serials[-1], NOW)

    assert 0 < size <= 4 * one
    assert rendered.size == size  # a kept order is not rendered or added again
    assert (loc.key, serials[-1]) in rendered
    assert (loc.key, serials[0]) not in rendered


def test_orders_of_other_sizes_are_never_served_from_the_cache(data):
    rendered = RenderedOrders(64 * 1024 * 1024)
    other = dataset(11, Sizes(merchants=1, locations=2, orders_per_day=90, days=40, items=20))
    loc = data.merchants[0].locations[0]
    serial = date(2026, 5, 20).toordinal() * INDEX_LIMIT

    before = orjson.dumps(rendered.order(data.generator, loc.key, serial, NOW))
    after = orjson.dumps(rendered.order(other.generator, loc.key, serial, NOW))

    assert after == orjson.dumps(other.generator.build(loc, serial // INDEX_LIMIT, 0, NOW))
    assert after != before
    assert len(rendered) == 1
