"""The Square client's search calls and the translation into neutral records (HTTP mocked)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import responses

from providers.errors import ApiError, RateLimited
from providers.http import BACKGROUND
from providers.records.catalog import (
    CatalogDeletionRecord,
    CategoryRecord,
    ImageRecord,
    ItemRecord,
    ModifierListRecord,
)
from providers.square import schemas
from providers.square.catalog import records_of
from providers.square.client import SquareClient
from providers.square.sales import order_record

BASE = "https://connect.squareup.com"


def _client() -> SquareClient:
    return SquareClient(BASE, "EAAA-token", BACKGROUND)


def _body(call) -> dict:
    return json.loads(call.request.body)


@responses.activate
def test_search_catalog_asks_for_a_thousand_with_deleted_objects_since_a_time():
    responses.post(
        f"{BASE}/v2/catalog/search",
        json={"objects": [], "latest_time": "2025-01-02T03:04:05.678Z", "cursor": "c2"},
    )

    page = _client().search_catalog(
        object_types=["ITEM"], cursor="c1", begin_time="2025-01-01T00:00:00.000Z"
    )

    sent = _body(responses.calls[0])
    assert sent == {
        "object_types": ["ITEM"],
        "include_deleted_objects": True,
        "limit": 1000,
        "begin_time": "2025-01-01T00:00:00.000Z",
        "cursor": "c1",
    }
    assert responses.calls[0].request.headers["Authorization"] == "Bearer EAAA-token"
    assert (page.cursor, page.latest_time) == ("c2", "2025-01-02T03:04:05.678Z")


@responses.activate
def test_search_orders_sends_the_query_with_up_to_ten_locations():
    responses.post(f"{BASE}/v2/orders/search", json={"orders": []})
    query = {"filter": {"state_filter": {"states": ["COMPLETED"]}}}

    _client().search_orders(location_ids=["L1", "L2"], query=query, cursor="abc")

    assert _body(responses.calls[0]) == {
        "location_ids": ["L1", "L2"],
        "query": query,
        "limit": 1000,
        "cursor": "abc",
    }
    with pytest.raises(ValueError):
        _client().search_orders(location_ids=[f"L{i}" for i in range(11)], query=query)


@responses.activate
def test_an_expired_cursor_is_an_api_error_with_its_code():
    responses.post(
        f"{BASE}/v2/orders/search",
        status=400,
        json={
            "errors": [
                {"category": "INVALID_REQUEST_ERROR", "code": "INVALID_CURSOR", "detail": "bad"}
            ]
        },
    )

    with pytest.raises(ApiError) as caught:
        _client().search_orders(location_ids=["L1"], query={}, cursor="old")

    assert caught.value.code == "INVALID_CURSOR" and caught.value.status == 400


@responses.activate
def test_a_429_that_outlasts_the_retries_is_rate_limited():
    rate_limited = {
        "errors": [{"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED", "detail": "slow"}]
    }
    responses.post(
        f"{BASE}/v2/catalog/search", status=429, json=rate_limited, headers={"Retry-After": "0"}
    )
    client = _client()
    client.http.adapters["https://"].max_retries = client.http.adapters["https://"].max_retries.new(
        total=1, status=1
    )

    with pytest.raises(RateLimited):
        client.search_catalog(object_types=["ITEM"])


def _object(payload: dict) -> schemas.CatalogObject:
    return schemas.from_json(schemas.CatalogObject, json.dumps(payload).encode())


def test_an_item_carries_its_variations_categories_lists_and_picture():
    item = records_of(
        _object(
            {
                "type": "ITEM",
                "id": "ITEM1",
                "version": 17,
                "updated_at": "2025-01-01T00:00:00Z",
                "item_data": {
                    "name": "Cheeseburger",
                    "description": "old text",
                    "description_plaintext": "Made in house.",
                    "image_ids": ["IMG1", "IMG2"],
                    "categories": [{"id": "C1"}, {"id": "C2"}, {"id": "C1"}],
                    "modifier_list_info": [
                        {"modifier_list_id": "M1", "enabled": True},
                        {
                            "modifier_list_id": "M2",
                            "min_selected_modifiers": -1,
                            "max_selected_modifiers": -1,
                        },
                        {
                            "modifier_list_id": "M3",
                            "min_selected_modifiers": 1,
                            "max_selected_modifiers": 0,
                            "enabled": False,
                        },
                    ],
                    "variations": [
                        {
                            "type": "ITEM_VARIATION",
                            "id": "V1",
                            "version": 17,
                            "item_variation_data": {
                                "item_id": "ITEM1",
                                "name": "Single",
                                "sku": "123",
                                "price_money": {"amount": 1650, "currency": "USD"},
                            },
                        },
                        {
                            "type": "ITEM_VARIATION",
                            "id": "V2",
                            "version": 17,
                            "item_variation_data": {"item_id": "ITEM1", "name": "Market price"},
                        },
                        {"type": "ITEM_VARIATION", "id": "V3", "version": 18, "is_deleted": True},
                    ],
                },
            }
        )
    )

    assert isinstance(item, ItemRecord)
    assert (item.name, item.description, item.version) == ("Cheeseburger", "Made in house.", 17)
    assert item.image_ids == ("IMG1", "IMG2")
    assert item.category_ids == ("C1", "C2")
    assert [
        (m.modifier_list_id, m.min_selected, m.max_selected, m.enabled) for m in item.modifier_lists
    ] == [
        ("M1", None, None, True),
        ("M2", None, None, True),  # both unset: the list's own limits apply
        ("M3", 1, None, False),  # 0 = no maximum
    ]
    assert [(v.external_id, v.price, v.currency) for v in item.variations] == [
        ("V1", 1650, "USD"),
        ("V2", None, ""),
    ]


def test_older_items_name_their_category_with_the_deprecated_field():
    item = records_of(
        _object({"type": "ITEM", "id": "I", "item_data": {"name": "Soup", "category_id": "C9"}})
    )

    assert item.category_ids == ("C9",)


def test_lists_categories_images_and_deletions_translate():
    listed = records_of(
        _object(
            {
                "type": "MODIFIER_LIST",
                "id": "M1",
                "version": 3,
                "modifier_list_data": {
                    "name": "Temperature",
                    "selection_type": "SINGLE",
                    "min_selected_modifiers": -1,
                    "max_selected_modifiers": 1,
                    "modifiers": [
                        {
                            "type": "MODIFIER",
                            "id": "MOD1",
                            "version": 3,
                            "modifier_data": {
                                "name": "Rare",
                                "price_money": {"amount": 0, "currency": "USD"},
                            },
                        }
                    ],
                },
            }
        )
    )
    category = records_of(
        _object(
            {
                "type": "CATEGORY",
                "id": "C2",
                "category_data": {"name": "Pasta", "parent_category": {"id": "C1"}},
            }
        )
    )
    image = records_of(
        _object({"type": "IMAGE", "id": "IMG1", "image_data": {"url": "https://x/y.jpg"}})
    )
    gone = records_of(_object({"type": "DISCOUNT", "id": "D1", "version": 9, "is_deleted": True}))
    skipped = records_of(_object({"type": "TAX", "id": "T1", "tax_data": {}}))

    assert isinstance(listed, ModifierListRecord)
    assert (listed.min_selected, listed.max_selected) == (0, 1)
    assert [(m.name, m.price) for m in listed.modifiers] == [("Rare", 0)]
    assert category == CategoryRecord("C2", 0, None, "Pasta", parent_id="C1")
    assert image == ImageRecord("IMG1", 0, None, "https://x/y.jpg")
    assert gone == CatalogDeletionRecord("discount", "D1", 9, None)
    assert skipped is None


def test_an_order_keeps_its_money_lines_and_modifiers_in_minor_units():
    order = schemas.from_json(
        schemas.Order,
        json.dumps(
            {
                "id": "O1",
                "location_id": "L1",
                "state": "COMPLETED",
                "source": {"name": "Square Point of Sale"},
                "created_at": "2025-01-01T22:00:00.000Z",
                "updated_at": "2025-01-01T22:30:00.000Z",
                "closed_at": "2025-01-01T22:30:00.000Z",
                "total_money": {"amount": 2613, "currency": "USD"},
                "total_tax_money": {"amount": 213, "currency": "USD"},
                "total_tip_money": {"amount": 300, "currency": "USD"},
                "line_items": [
                    {
                        "uid": "A",
                        "name": "Cappuccino",
                        "quantity": "1.5",
                        "catalog_object_id": "V1",
                        "catalog_version": 5,
                        "base_price_money": {"amount": 800, "currency": "USD"},
                        "gross_sales_money": {"amount": 1200, "currency": "USD"},
                        "total_tax_money": {"amount": 100, "currency": "USD"},
                        "total_money": {"amount": 1300, "currency": "USD"},
                        "modifiers": [
                            {
                                "name": "Oat Milk",
                                "catalog_object_id": "MOD1",
                                "base_price_money": {"amount": 75, "currency": "USD"},
                            }
                        ],
                    },
                    {"name": "Custom amount", "quantity": "1"},
                    {"uid": "A", "name": "Repeated uid", "quantity": "2"},
                ],
            }
        ).encode(),
    )

    record = order_record(order, date(2025, 1, 1))

    assert record.version == 0  # orders not made through the API carry no version
    assert (record.currency, record.total, record.tax, record.tip, record.discount) == (
        "USD",
        2613,
        213,
        300,
        0,
    )
    assert record.closed_at == datetime(2025, 1, 1, 22, 30, tzinfo=UTC)
    assert [line.uid for line in record.line_items] == ["A", "line-1", "A-2"]
    first = record.line_items[0]
    assert (first.quantity, first.base_price, first.gross_sales, first.tax, first.total) == (
        "1.5",
        800,
        1200,
        100,
        1300,
    )
    assert first.modifiers[0].name == "Oat Milk" and first.modifiers[0].base_price == 75
    assert record.line_items[1].total is None and record.line_items[1].catalog_object_id == ""
