"""Paging years of orders: exactly the ground truth, no duplicates, across days and locations.

Ground truth comes from the sandbox's own naive walk over every generated order
(`ground_truth.py`), which shares nothing with SearchOrders' cursor and merge machinery.
Ranges end a minute in the past so that orders created or closed during the test do not count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .support import iso, location_named, parse_time, search_all

END = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)


def _closed_between(location_ids, start, end, order="ASC", limit=1000, states=("COMPLETED",)):
    return {
        "location_ids": location_ids,
        "limit": limit,
        "query": {
            "filter": {
                "state_filter": {"states": list(states)},
                "date_time_filter": {"closed_at": {"start_at": iso(start), "end_at": iso(end)}},
            },
            "sort": {"sort_field": "CLOSED_AT", "sort_order": order},
        },
    }


def _truth(square, location_id, start, end, field="closed_at", states="COMPLETED"):
    params = {
        "location_id": location_id,
        "start": iso(start),
        "end": iso(end),
        "field": field,
        "states": states,
        "ids": "1",
    }
    return square.control("GET", "ground-truth", params=params)


def test_paging_two_years_of_one_location_matches_the_ground_truth(square):
    square.resize(orders_per_day=20)
    token = square.tokens()["access_token"]
    bar = location_named(square.merchants()[0], late_night=True, timezone="America/New_York")
    start = END - timedelta(days=731)

    orders, pages = search_all(square, token, _closed_between([bar["id"]], start, END))
    truth = _truth(square, bar["id"], start, END)

    ids = [o["id"] for o in orders]
    assert len(ids) == len(set(ids)), "an order came back twice"
    assert len(ids) == truth["count"]
    assert set(ids) == set(truth["order_ids"])
    assert sum(o["total_money"]["amount"] for o in orders) == truth["total_money"]["amount"]
    assert 12_000 < truth["count"] < 16_000  # ~20 a day for two years
    assert pages == -(-truth["count"] // 1000)
    closed = [o["closed_at"] for o in orders]
    assert closed == sorted(closed)
    assert {o["state"] for o in orders} == {"COMPLETED"}


def test_the_in_process_ground_truth_agrees_with_the_control_api(square):
    square.resize(orders_per_day=20)
    loc = square.merchants()[0]["locations"][0]
    start, end = END - timedelta(days=40), END

    remote = _truth(square, loc["id"], start, end, states="COMPLETED,CANCELED")
    local = square.half.ground_truth(
        loc["id"], iso(start), iso(end), states=["COMPLETED", "CANCELED"], with_ids=True
    )

    assert remote["count"] == local.count
    assert remote["total_money"]["amount"] == local.total
    assert set(remote["order_ids"]) == local.order_ids


def test_a_busy_day_spans_many_pages_without_gaps(square, token, first_merchant):
    loc = first_merchant["locations"][0]
    day_end = END - timedelta(days=3)
    day_start = day_end - timedelta(days=1)
    body = {
        "location_ids": [loc["id"]],
        "limit": 7,
        "query": {
            "filter": {
                "date_time_filter": {
                    "created_at": {"start_at": iso(day_start), "end_at": iso(day_end)}
                }
            },
            "sort": {"sort_field": "CREATED_AT", "sort_order": "DESC"},
        },
    }

    orders, pages = search_all(square, token, body)
    truth = _truth(square, loc["id"], day_start, day_end, "created_at", "OPEN,COMPLETED,CANCELED")

    assert pages > 10
    assert [o["id"] for o in orders] != []
    assert len(orders) == len({o["id"] for o in orders}) == truth["count"]
    assert {o["id"] for o in orders} == set(truth["order_ids"])
    created = [o["created_at"] for o in orders]
    assert created == sorted(created, reverse=True)


def test_pages_span_many_days_and_locations_in_one_order(square):
    square.resize(orders_per_day=20)
    token = square.tokens()["access_token"]
    locations = square.merchants()[0]["locations"]
    start = END - timedelta(days=60)
    body = _closed_between(
        [loc["id"] for loc in locations],
        start,
        END,
        order="DESC",
        limit=1000,
        states=("COMPLETED", "CANCELED"),
    )

    orders, pages = search_all(square, token, body)
    truths = [
        _truth(square, loc["id"], start, END, states="COMPLETED,CANCELED") for loc in locations
    ]

    assert pages >= 3
    assert len(orders) == len({o["id"] for o in orders}) == sum(t["count"] for t in truths)
    assert {o["id"] for o in orders} == {i for t in truths for i in t["order_ids"]}
    closed = [parse_time(o["closed_at"]) for o in orders]
    assert closed == sorted(closed, reverse=True)
    assert {o["location_id"] for o in orders[:200]} == {loc["id"] for loc in locations}


def test_updated_at_windows_find_each_order_once(square):
    square.resize(orders_per_day=20)
    token = square.tokens()["access_token"]
    loc = square.merchants()[0]["locations"][2]
    start = END - timedelta(days=10)
    body = {
        "location_ids": [loc["id"]],
        "limit": 50,
        "query": {
            "filter": {
                "date_time_filter": {"updated_at": {"start_at": iso(start), "end_at": iso(END)}}
            },
            "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
        },
    }

    orders, _ = search_all(square, token, body)
    truth = _truth(square, loc["id"], start, END, "updated_at", "OPEN,COMPLETED,CANCELED")

    assert len(orders) == len({o["id"] for o in orders}) == truth["count"]
    updated = [o["updated_at"] for o in orders]
    assert updated == sorted(updated)
