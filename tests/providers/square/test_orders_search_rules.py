"""SearchOrders' request rules (README §7): limits, filters, sorts and cursors, Square-style."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .support import error_of, iso, parse_time

YESTERDAY = datetime.now(UTC) - timedelta(days=1)


@pytest.fixture
def location_ids(first_merchant) -> list[str]:
    return [loc["id"] for loc in first_merchant["locations"]]


def _search(square, token, body):
    return square.post(token, "/v2/orders/search", body)


def _closed_query(sort_field="CLOSED_AT", states=("COMPLETED",), **sort):
    return {
        "filter": {
            "state_filter": {"states": list(states)},
            "date_time_filter": {
                "closed_at": {
                    "start_at": iso(YESTERDAY - timedelta(days=1)),
                    "end_at": iso(YESTERDAY),
                }
            },
        },
        "sort": {"sort_field": sort_field, **sort},
    }


def test_it_refuses_more_than_ten_location_ids(square, token, location_ids):
    answer = _search(square, token, {"location_ids": location_ids + [f"L{i}" for i in range(8)]})

    assert answer.status_code == 400
    assert error_of(answer)["code"] == "ARRAY_LENGTH_TOO_LONG"
    assert error_of(answer)["category"] == "INVALID_REQUEST_ERROR"
    assert error_of(answer)["field"] == "location_ids"


def test_it_accepts_exactly_ten_location_ids(square):
    square.resize(locations=10, orders_per_day=5)
    token = square.tokens()["access_token"]
    ids = [loc["id"] for loc in square.merchants()[0]["locations"]]

    answer = _search(square, token, {"location_ids": ids, "limit": 50})

    assert answer.status_code == 200
    assert len(answer.json()["orders"]) == 50


def test_it_needs_at_least_one_location_id(square, token):
    missing = _search(square, token, {})
    empty = _search(square, token, {"location_ids": []})

    assert missing.status_code == empty.status_code == 400
    assert error_of(missing)["code"] == "MISSING_REQUIRED_PARAMETER"
    assert error_of(empty)["field"] == "location_ids"


def test_it_refuses_another_merchants_location(square, token):
    theirs = square.merchants()[1]["locations"][0]["id"]

    answer = _search(square, token, {"location_ids": [theirs]})

    assert answer.status_code == 403
    assert error_of(answer)["code"] == "FORBIDDEN"


def test_the_sort_field_must_match_the_date_filter(square, token, location_ids):
    mismatched = _search(
        square, token, {"location_ids": location_ids, "query": _closed_query("CREATED_AT")}
    )
    query = _closed_query()
    del query["sort"]
    defaulted = _search(square, token, {"location_ids": location_ids, "query": query})

    for answer in (mismatched, defaulted):
        assert answer.status_code == 400
        assert error_of(answer)["code"] == "INVALID_VALUE"
        assert error_of(answer)["field"] == "query.sort.sort_field"


def test_closed_at_sorting_needs_closed_states_only(square, token, location_ids):
    open_too = _search(
        square,
        token,
        {"location_ids": location_ids, "query": _closed_query(states=("OPEN", "COMPLETED"))},
    )
    no_states = _search(
        square,
        token,
        {"location_ids": location_ids, "query": {"sort": {"sort_field": "CLOSED_AT"}}},
    )
    fine = _search(
        square,
        token,
        {"location_ids": location_ids, "query": _closed_query(states=("COMPLETED", "CANCELED"))},
    )

    assert open_too.status_code == no_states.status_code == 400
    assert "CLOSED_AT" in error_of(open_too)["detail"]
    assert fine.status_code == 200


def test_only_one_date_field_may_be_filtered(square, token, location_ids):
    window = {"start_at": iso(YESTERDAY - timedelta(hours=2)), "end_at": iso(YESTERDAY)}
    answer = _search(
        square,
        token,
        {
            "location_ids": location_ids,
            "query": {"filter": {"date_time_filter": {"created_at": window, "updated_at": window}}},
        },
    )

    assert answer.status_code == 400
    assert error_of(answer)["field"] == "query.filter.date_time_filter"


def test_bad_times_and_backwards_ranges_are_refused(square, token, location_ids):
    def created(start, end):
        query = {"filter": {"date_time_filter": {"created_at": {"start_at": start, "end_at": end}}}}
        return _search(square, token, {"location_ids": location_ids, "query": query})

    garbled = created("yesterday", iso(YESTERDAY))
    backwards = created(iso(YESTERDAY), iso(YESTERDAY - timedelta(hours=1)))

    assert error_of(garbled)["code"] == "INVALID_TIME"
    assert error_of(backwards)["code"] == "INVALID_TIME_RANGE"


@pytest.mark.parametrize("field", ["created_at", "closed_at", "updated_at"])
def test_far_off_times_are_valid_bounds_and_only_bound_the_search(
    square, token, location_ids, field
):
    """Year 1 and year 9999 are valid RFC 3339: Square answers them like any other bound."""
    states = ["COMPLETED"] if field == "closed_at" else ["OPEN", "COMPLETED", "CANCELED"]

    def search(start, end):
        query = {
            "filter": {
                "state_filter": {"states": states},
                "date_time_filter": {field: {"start_at": start, "end_at": end}},
            },
            "sort": {"sort_field": field.upper(), "sort_order": "ASC"},
        }
        body = {"location_ids": location_ids, "query": query, "limit": 5}
        return _search(square, token, body)

    ancient = search("0001-01-01T00:00:00Z", "0001-12-31T23:59:59Z")
    since_year_one = search("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z")

    assert ancient.status_code == 200
    assert ancient.json().get("orders", []) == []
    assert since_year_one.status_code == 200
    oldest = parse_time(since_year_one.json()["orders"][0]["created_at"])
    assert datetime.now(UTC) - oldest > timedelta(days=700)


def test_unknown_states_sort_fields_and_orders_are_refused(square, token, location_ids):
    def query(q):
        return _search(square, token, {"location_ids": location_ids, "query": q})

    state = query({"filter": {"state_filter": {"states": ["EATEN"]}}})
    field = query({"sort": {"sort_field": "PRICE"}})
    order = query({"sort": {"sort_field": "CREATED_AT", "sort_order": "UP"}})

    assert error_of(state)["code"] == "INVALID_ENUM_VALUE"
    assert error_of(field)["code"] == "INVALID_ENUM_VALUE"
    assert error_of(order)["code"] == "INVALID_SORT_ORDER"


def test_a_cursor_only_works_with_its_own_query(square, token, location_ids):
    body = {"location_ids": location_ids, "limit": 5}
    cursor = _search(square, token, body).json()["cursor"]

    other_query = _search(
        square,
        token,
        {
            **body,
            "cursor": cursor,
            "query": {"filter": {"state_filter": {"states": ["CANCELED"]}}},
        },
    )
    other_locations = _search(
        square, token, {**body, "location_ids": location_ids[:1], "cursor": cursor}
    )
    garbage = _search(square, token, {**body, "cursor": "not-a-cursor"})
    same = _search(square, token, {**body, "cursor": cursor})

    for answer in (other_query, other_locations, garbage):
        assert answer.status_code == 400
        assert error_of(answer)["code"] == "INVALID_CURSOR"
    assert same.status_code == 200


def test_the_limit_defaults_to_500_and_is_capped_at_1000(square, token, location_ids):
    default = _search(square, token, {"location_ids": location_ids}).json()
    capped = _search(square, token, {"location_ids": location_ids, "limit": 5000}).json()
    too_low = _search(square, token, {"location_ids": location_ids, "limit": 0})

    assert len(default["orders"]) == 500
    assert len(capped["orders"]) == 1000
    assert error_of(too_low)["code"] == "VALUE_TOO_LOW"


def test_without_a_query_it_returns_newest_created_first(square, token, location_ids):
    orders = _search(square, token, {"location_ids": location_ids, "limit": 300}).json()["orders"]

    created = [parse_time(o["created_at"]) for o in orders]
    assert created == sorted(created, reverse=True)
    assert {o["location_id"] for o in orders} == set(location_ids)
    assert created[0] <= datetime.now(UTC)


def test_ascending_sort_starts_from_the_oldest_order(square, token, location_ids):
    query = {"sort": {"sort_field": "CREATED_AT", "sort_order": "ASC"}}
    orders = _search(
        square, token, {"location_ids": location_ids, "query": query, "limit": 50}
    ).json()["orders"]

    created = [parse_time(o["created_at"]) for o in orders]
    assert created == sorted(created)
    history = datetime.now(UTC) - created[0]
    assert timedelta(days=728) < history < timedelta(days=731)


def test_the_state_filter_keeps_only_those_states(square, token, location_ids):
    query = {"filter": {"state_filter": {"states": ["CANCELED"]}}}
    orders = _search(
        square, token, {"location_ids": location_ids, "query": query, "limit": 200}
    ).json()["orders"]

    assert len(orders) == 200
    assert {o["state"] for o in orders} == {"CANCELED"}
    assert all("tenders" not in o for o in orders)


def test_return_entries_gives_ids_versions_and_locations(square, token, location_ids):
    body = {"location_ids": location_ids, "limit": 40}
    orders = _search(square, token, body).json()["orders"]

    entries = _search(square, token, {**body, "return_entries": True}).json()

    assert "orders" not in entries
    assert entries["order_entries"] == [
        {"order_id": o["id"], "version": o["version"], "location_id": o["location_id"]}
        for o in orders
    ]


def test_a_missing_end_at_stays_fixed_across_pages(square, token, location_ids):
    start = iso(datetime.now(UTC) - timedelta(days=3))
    body = {
        "location_ids": location_ids,
        "limit": 100,
        "query": {
            "filter": {"date_time_filter": {"created_at": {"start_at": start}}},
            "sort": {"sort_field": "CREATED_AT", "sort_order": "ASC"},
        },
    }

    first = _search(square, token, body).json()
    second = _search(square, token, {**body, "cursor": first["cursor"]}).json()

    assert first["orders"][-1]["created_at"] <= second["orders"][0]["created_at"]
    assert not {o["id"] for o in first["orders"]} & {o["id"] for o in second["orders"]}


def test_searches_are_counted(square, token, location_ids):
    _search(square, token, {"location_ids": location_ids, "limit": 1})
    _search(square, token, {"location_ids": location_ids, "limit": 1})

    assert square.sandbox.counters()["square.orders.search"] == 2
