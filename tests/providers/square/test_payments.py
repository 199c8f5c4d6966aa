"""ListPayments (README §8): the completed orders' payments, paged by 100 at most."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .support import error_of, iso

END = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _all_payments(square, token, **params):
    payments, pages, cursor = [], [], None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        answer = square.get(token, "/v2/payments", params=query)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        payments += pages[-1].get("payments", [])
        cursor = pages[-1].get("cursor")
        if not cursor:
            return payments, pages


def test_payments_page_by_a_hundred_and_match_completed_orders(square, token, first_merchant):
    start = END - timedelta(days=2)

    payments, pages = _all_payments(
        square, token, begin_time=iso(start), end_time=iso(END), limit=500
    )
    truth = square.half.ground_truth(
        first_merchant["main_location_id"], iso(start), iso(END), states=["COMPLETED"]
    )

    assert [len(p.get("payments", [])) for p in pages[:-1]] == [100] * (len(pages) - 1)
    assert len(payments) == len({p["id"] for p in payments}) == truth.count
    assert {p["location_id"] for p in payments} == {first_merchant["main_location_id"]}
    assert sum(p["total_money"]["amount"] for p in payments) == truth.total
    for payment in payments:
        assert payment["status"] == "COMPLETED"
        assert payment["total_money"]["amount"] == (
            payment["amount_money"]["amount"] + payment["tip_money"]["amount"]
        )
    created = [p["created_at"] for p in payments]
    assert created == sorted(created, reverse=True)


def test_payments_point_at_their_orders(square, token, first_merchant):
    payment = square.get(token, "/v2/payments", params={"limit": 1}).json()["payments"][0]

    order = square.control("GET", f"orders/{payment['order_id']}")["order"]

    assert order["tenders"][0]["payment_id"] == payment["id"]
    assert order["total_money"] == payment["total_money"]


def test_payments_can_be_read_per_location_oldest_first(square, token, first_merchant):
    loc = first_merchant["locations"][2]
    body = square.get(
        token, "/v2/payments", params={"location_id": loc["id"], "sort_order": "ASC", "limit": 20}
    ).json()

    created = [p["created_at"] for p in body["payments"]]
    assert created == sorted(created)
    assert {p["location_id"] for p in body["payments"]} == {loc["id"]}
    # README §8: begin_time defaults to a year ago.
    assert created[0] >= iso(datetime.now(UTC) - timedelta(days=366))


def test_payment_cursors_are_tied_to_their_query(square, token):
    cursor = square.get(token, "/v2/payments", params={"limit": 5}).json()["cursor"]

    answer = square.get(
        token, "/v2/payments", params={"limit": 5, "cursor": cursor, "sort_order": "ASC"}
    )

    assert answer.status_code == 400
    assert error_of(answer)["code"] == "INVALID_CURSOR"
    assert square.sandbox.counters()["square.payments.list"] == 2
