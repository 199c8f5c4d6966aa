"""What generated orders look like: real menu items, money that adds up, local opening hours."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .support import iso, location_named, parse_time, search_all

END = datetime.now(UTC) - timedelta(days=1)


def _orders(square, token, location_ids, days=14, limit=1000, states=("COMPLETED", "CANCELED")):
    body = {
        "location_ids": location_ids,
        "limit": limit,
        "query": {
            "filter": {
                "state_filter": {"states": list(states)},
                "date_time_filter": {
                    "created_at": {"start_at": iso(END - timedelta(days=days)), "end_at": iso(END)}
                },
            },
            "sort": {"sort_field": "CREATED_AT", "sort_order": "ASC"},
        },
    }
    return square.post(token, "/v2/orders/search", body).json()["orders"]


@pytest.fixture
def orders(square, token, first_merchant):
    return _orders(square, token, [loc["id"] for loc in first_merchant["locations"]], days=3)


def _amount(money: dict) -> int:
    assert money["currency"] == "USD"
    return money["amount"]


def test_line_items_reference_the_catalogs_variations_and_modifiers(square, token, orders):
    known, cursor = {}, None
    while True:
        params = {"types": "ITEM_VARIATION,MODIFIER", **({"cursor": cursor} if cursor else {})}
        page = square.get(token, "/v2/catalog/list", params=params).json()
        known.update({o["id"]: o for o in page["objects"]})
        if not (cursor := page.get("cursor")):
            break
    variations = {i for i, o in known.items() if o["type"] == "ITEM_VARIATION"}
    modifiers = {i for i, o in known.items() if o["type"] == "MODIFIER"}

    lines = [line for order in orders for line in order["line_items"]]
    assert {line["catalog_object_id"] for line in lines} <= variations
    assert {
        m["catalog_object_id"] for line in lines for m in line.get("modifiers", [])
    } <= modifiers
    for line in lines:
        variation = known[line["catalog_object_id"]]
        assert line["catalog_version"] == variation["version"]
        assert line["variation_name"] == variation["item_variation_data"]["name"]
        assert line["base_price_money"] == variation["item_variation_data"]["price_money"]
    assert len({line["catalog_object_id"] for line in lines}) > 20  # a varied menu
    assert any(line.get("modifiers") for line in lines)


def test_money_adds_up_on_every_order(orders):
    for order in orders:
        lines = order["line_items"]
        for line in lines:
            quantity = int(line["quantity"])
            modifiers = sum(_amount(m["base_price_money"]) for m in line.get("modifiers", []))
            gross = quantity * (_amount(line["base_price_money"]) + modifiers)
            assert _amount(line["gross_sales_money"]) == gross
            assert _amount(line["total_money"]) == (
                gross - _amount(line["total_discount_money"]) + _amount(line["total_tax_money"])
            )
            assert _amount(line["total_tax_money"]) == sum(
                _amount(t["applied_money"]) for t in line.get("applied_taxes", [])
            )
        service = sum(_amount(s["total_money"]) for s in order.get("service_charges", []))
        tip = _amount(order["total_tip_money"])
        assert _amount(order["total_money"]) == (
            sum(_amount(line["total_money"]) for line in lines) + service + tip
        )
        assert _amount(order["total_tax_money"]) == sum(
            _amount(t["applied_money"]) for t in order["taxes"]
        )
        assert _amount(order["total_service_charge_money"]) == service
        assert order["net_amounts"]["total_money"] == order["total_money"]
        for tender in order.get("tenders", []):
            assert tender["amount_money"] == order["total_money"]  # tenders include the tip
            assert tender["tip_money"] == order["total_tip_money"]
            assert tender["payment_id"]


def test_most_orders_complete_a_few_are_cancelled(orders):
    states = Counter(order["state"] for order in orders)

    assert states["COMPLETED"] > 20 * states["CANCELED"] > 0
    for order in orders:
        created, closed = parse_time(order["created_at"]), parse_time(order["closed_at"])
        assert timedelta(0) < closed - created <= timedelta(minutes=75)
        assert order["updated_at"] == order["closed_at"]
        if order["state"] == "COMPLETED":
            assert order["version"] == 4
            assert len(order["tenders"]) == 1
        else:
            assert "tenders" not in order
        assert order["source"]["name"]


def test_some_orders_carry_tips_discounts_and_service_charges(square, token, first_merchant):
    orders = _orders(square, token, [first_merchant["locations"][0]["id"]], days=10)

    assert sum(1 for o in orders if o["total_tip_money"]["amount"]) > len(orders) // 3
    assert any(o.get("discounts") for o in orders)
    assert any(o.get("service_charges") for o in orders)
    assert {t["type"] for o in orders for t in o.get("tenders", [])} == {"CARD", "CASH"}


def test_orders_fall_within_local_opening_hours(square, token, first_merchant):
    for loc in first_merchant["locations"]:
        hours = square.get(token, f"/v2/locations/{loc['id']}").json()["location"]
        period = hours["business_hours"]["periods"][0]
        opens = int(period["start_local_time"][:2]) * 60 + int(period["start_local_time"][3:5])
        closes = int(period["end_local_time"][:2]) * 60 + int(period["end_local_time"][3:5])
        if closes <= opens:
            closes += 24 * 60  # past midnight
        zone = ZoneInfo(loc["timezone"])
        orders = _orders(square, token, [loc["id"]], days=21)
        minutes = []
        for order in orders:
            local = parse_time(order["created_at"]).astimezone(zone)
            minute = local.hour * 60 + local.minute
            if minute < opens:
                minute += 24 * 60  # the early hours belong to the previous business day
            minutes.append(minute)
            assert opens <= minute < closes, (loc["name"], local)
        after_midnight = sum(1 for m in minutes if m >= 24 * 60)
        if loc["late_night"]:
            assert after_midnight > 0, f"{loc['name']} should have late-night orders"
        else:
            assert after_midnight == 0


def test_weekends_are_busier_than_mondays(square):
    square.resize(orders_per_day=100)
    token = square.tokens()["access_token"]
    loc = location_named(square.merchants()[0], timezone="America/Los_Angeles")
    zone = ZoneInfo(loc["timezone"])

    orders, _ = search_all(
        square,
        token,
        {
            "location_ids": [loc["id"]],
            "limit": 1000,
            "query": {
                "filter": {
                    "date_time_filter": {
                        "created_at": {
                            "start_at": iso(END - timedelta(days=28)),
                            "end_at": iso(END),
                        }
                    }
                }
            },
        },
    )

    per_weekday = Counter(parse_time(o["created_at"]).astimezone(zone).weekday() for o in orders)
    assert per_weekday[5] > per_weekday[0]  # Saturday beats Monday


def test_the_same_seed_gives_the_same_orders(square, token, first_merchant, sandbox):
    ids = [loc["id"] for loc in first_merchant["locations"]]
    first = _orders(square, token, ids, days=2)

    sandbox.reset()
    again = _orders(square, square.tokens()["access_token"], ids, days=2)

    assert first == again
