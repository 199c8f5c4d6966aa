"""Orders added or changed through the control API, for incremental-sync tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .support import iso, location_named, parse_time

NOW = datetime.now(UTC)


def _window(square, token, location_id, field, start, end, states=None):
    query: dict = {
        "filter": {field: {}},
        "sort": {"sort_field": field.upper(), "sort_order": "ASC"},
    }
    query["filter"] = {"date_time_filter": {field: {"start_at": iso(start), "end_at": iso(end)}}}
    if states:
        query["filter"]["state_filter"] = {"states": states}
    body = {"location_ids": [location_id], "query": query, "limit": 1000}
    return square.post(token, "/v2/orders/search", body).json().get("orders", [])


def test_an_order_added_at_23_30_local_is_found_and_counted(square, token, first_merchant):
    bar = location_named(first_merchant, timezone="America/New_York")
    day = (NOW - timedelta(days=5)).astimezone(ZoneInfo(bar["timezone"])).date()

    added = square.control(
        "POST",
        "orders",
        json={"location_id": bar["id"], "local_time": f"{day}T23:30:00", "state": "COMPLETED"},
    )["order"]
    created = parse_time(added["created_at"])
    found = _window(
        square,
        token,
        bar["id"],
        "closed_at",
        created,
        created + timedelta(hours=1),
        states=["COMPLETED"],
    )
    truth = square.half.ground_truth(
        bar["id"],
        iso(created),
        iso(created + timedelta(hours=1)),
        states=["COMPLETED"],
        with_ids=True,
    )

    local = created.astimezone(ZoneInfo(bar["timezone"]))
    assert (local.date(), local.hour, local.minute) == (day, 23, 30)
    assert added["id"] in {o["id"] for o in found}
    assert added["id"] in truth.order_ids
    assert next(o for o in found if o["id"] == added["id"]) == added
    assert added["tenders"][0]["amount_money"] == added["total_money"]


def test_an_order_can_be_added_at_an_exact_utc_time_and_state(square, token, first_merchant):
    loc = first_merchant["locations"][0]
    at = NOW.replace(microsecond=0) - timedelta(days=2, hours=3)

    added = square.control(
        "POST", "orders", json={"location_id": loc["id"], "created_at": iso(at), "state": "OPEN"}
    )["order"]
    found = _window(square, token, loc["id"], "created_at", at, at, states=["OPEN"])

    assert parse_time(added["created_at"]) == at
    assert "closed_at" not in added
    assert [o["id"] for o in found] == [added["id"]]


def test_changing_an_order_makes_a_new_version_updated_now(square, token, first_merchant):
    loc = first_merchant["locations"][1]
    start, end = NOW - timedelta(days=9), NOW - timedelta(days=8)
    original = _window(square, token, loc["id"], "updated_at", start, end, ["COMPLETED"])[0]
    before = datetime.now(UTC) - timedelta(seconds=1)

    changed = square.control(
        "PATCH", f"orders/{original['id']}", json={"state": "CANCELED", "ticket_name": "Refunded"}
    )["order"]
    recent = _window(
        square, token, loc["id"], "updated_at", before, datetime.now(UTC) + timedelta(seconds=1)
    )
    old_window = _window(square, token, loc["id"], "updated_at", start, end, ["COMPLETED"])

    assert changed["version"] == original["version"] + 1
    assert changed["state"] == "CANCELED"
    assert changed["ticket_name"] == "Refunded"
    assert parse_time(changed["updated_at"]) >= before
    assert changed["created_at"] == original["created_at"]
    assert changed["closed_at"] == original["closed_at"]
    assert [o["id"] for o in recent] == [original["id"]]
    assert original["id"] not in {o["id"] for o in old_window}
    assert square.control("GET", f"orders/{original['id']}")["order"] == changed


def test_an_order_can_be_changed_twice(square, first_merchant):
    loc = first_merchant["locations"][0]
    added = square.control(
        "POST",
        "orders",
        json={
            "location_id": loc["id"],
            "created_at": iso(NOW - timedelta(hours=2)),
            "state": "OPEN",
        },
    )["order"]

    once = square.control("PATCH", f"orders/{added['id']}", json={"state": "COMPLETED"})["order"]
    twice = square.control("PATCH", f"orders/{added['id']}", json={"ticket_name": "T9"})["order"]

    assert [added["version"], once["version"], twice["version"]] == [2, 3, 4]
    assert once["state"] == twice["state"] == "COMPLETED"
    assert once["tenders"] and "closed_at" in once
    assert twice["updated_at"] > once["updated_at"]


def test_order_overlays_are_cleared_by_reset(square, first_merchant, sandbox):
    loc = first_merchant["locations"][0]
    added = square.control(
        "POST",
        "orders",
        json={"location_id": loc["id"], "created_at": iso(NOW - timedelta(days=1))},
    )["order"]

    sandbox.reset()

    answer = square.http.get(f"{sandbox.url}/_sandbox/square/orders/{added['id']}")
    assert answer.status_code == 404


def test_unknown_orders_and_bad_bodies_are_refused(square, sandbox, first_merchant):
    base = f"{sandbox.url}/_sandbox/square"
    missing = square.http.patch(f"{base}/orders/NOPE", json={"state": "CANCELED"})
    no_time = square.http.post(
        f"{base}/orders", json={"location_id": first_merchant["locations"][0]["id"]}
    )
    bad_state = square.http.post(
        f"{base}/orders",
        json={
            "location_id": first_merchant["locations"][0]["id"],
            "created_at": iso(NOW),
            "state": "EATEN",
        },
    )

    assert missing.status_code == 404
    assert no_time.status_code == 400
    assert bad_state.status_code == 400
