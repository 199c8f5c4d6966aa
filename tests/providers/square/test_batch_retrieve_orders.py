"""BatchRetrieveOrders: orders by id, exactly as SearchOrders shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .support import error_of, iso

BATCH = "/v2/orders/batch-retrieve"


def closed_orders(square, token: str, merchant: dict, count: int) -> list[dict]:
    """Recently completed orders: their JSON no longer changes with the clock."""
    end = datetime.now(UTC) - timedelta(hours=1)
    body = {
        "location_ids": [loc["id"] for loc in merchant["locations"]],
        "limit": count,
        "query": {
            "filter": {
                "state_filter": {"states": ["COMPLETED"]},
                "date_time_filter": {
                    "closed_at": {"start_at": iso(end - timedelta(days=3)), "end_at": iso(end)}
                },
            },
            "sort": {"sort_field": "CLOSED_AT", "sort_order": "DESC"},
        },
    }
    answer = square.post(token, "/v2/orders/search", body)
    assert answer.status_code == 200, answer.text
    return answer.json()["orders"]


def test_it_returns_exactly_the_orders_asked_for_as_search_renders_them(
    square, token, first_merchant
):
    _, second = square.merchants()
    searched = closed_orders(square, token, first_merchant, 3)
    changed = square.control("PATCH", f"orders/{searched[1]['id']}", json={"state": "CANCELED"})
    added = square.control(
        "POST",
        "orders",
        json={
            "location_id": first_merchant["locations"][0]["id"],
            "local_time": "2024-05-03T20:00",
        },
    )["order"]
    theirs = closed_orders(square, square.tokens(second["id"])["access_token"], second, 1)[0]
    asked = [searched[0]["id"], "nope", searched[1]["id"], theirs["id"], added["id"]]

    answer = square.post(token, BATCH, {"order_ids": [*asked, searched[0]["id"]]})

    assert answer.status_code == 200, answer.text
    assert answer.json()["orders"] == [searched[0], changed["order"], added]


def test_ids_it_does_not_know_give_an_empty_answer(square, token):
    answer = square.post(token, BATCH, {"order_ids": [f"unknown-{n}" for n in range(100)]})

    assert (answer.status_code, answer.json()) == (200, {})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"order_ids": [f"order-{n}" for n in range(101)]}, "ARRAY_LENGTH_TOO_LONG"),
        ({"order_ids": []}, "ARRAY_LENGTH_TOO_SHORT"),
        ({"order_ids": "abc"}, "EXPECTED_ARRAY"),
        ({}, "MISSING_REQUIRED_PARAMETER"),
    ],
)
def test_a_bad_batch_is_refused_in_squares_error_shape(square, token, body, code):
    answer = square.post(token, BATCH, body)

    assert answer.status_code == 400
    assert error_of(answer) == {
        "category": "INVALID_REQUEST_ERROR",
        "code": code,
        "detail": error_of(answer)["detail"],
        "field": "order_ids",
    }


def test_a_location_id_keeps_only_that_locations_orders(square, token, first_merchant):
    first, other = first_merchant["locations"][:2]
    ids = [
        square.control("POST", "orders", json={"location_id": loc["id"], "local_time": when})[
            "order"
        ]["id"]
        for loc, when in ((first, "2024-05-03T20:00"), (other, "2024-05-03T21:00"))
    ]

    narrowed = square.post(token, BATCH, {"location_id": first["id"], "order_ids": ids})
    foreign = square.post(
        token, BATCH, {"location_id": square.merchants()[1]["locations"][0]["id"], "order_ids": ids}
    )

    assert [o["id"] for o in narrowed.json()["orders"]] == ids[:1]
    assert (foreign.status_code, error_of(foreign)["code"]) == (403, "FORBIDDEN")


def test_it_needs_orders_read(square, first_merchant):
    token = square.tokens(first_merchant["id"], scopes=["MERCHANT_PROFILE_READ"])["access_token"]

    answer = square.post(token, BATCH, {"order_ids": ["x"]})

    assert (answer.status_code, error_of(answer)["code"]) == (403, "INSUFFICIENT_SCOPES")
