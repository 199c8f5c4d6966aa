"""The official `squareup` SDK, pointed at the sandbox, works unchanged (README §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest
from square import Square as SquareClient
from square.core.api_error import ApiError

from .support import iso

# The generated SDK still touches pydantic v1 APIs; that is its business, not the sandbox's.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:square")


@pytest.fixture
def client(square, token) -> SquareClient:
    return SquareClient(base_url=square.url, token=token, version="2025-08-20")


def test_the_sdk_reads_the_merchant_and_lists_locations(client, first_merchant):
    merchant = client.merchants.get("me").merchant
    locations = client.locations.list().locations

    assert merchant.id == first_merchant["id"]
    assert merchant.business_name == first_merchant["business_name"]
    assert [loc.id for loc in locations] == [loc["id"] for loc in first_merchant["locations"]]
    assert {loc.timezone for loc in locations} == {
        "America/New_York",
        "America/Los_Angeles",
        "America/Chicago",
    }


def test_the_sdk_pages_through_the_catalog(square, client):
    objects = list(client.catalog.list(types="ITEM,ITEM_VARIATION"))

    kinds = [obj.type for obj in objects]
    assert kinds.count("ITEM") == 60
    assert kinds.count("ITEM_VARIATION") == 120  # 180 objects: two pages of ListCatalog
    assert square.sandbox.counters()["square.catalog.list"] == 2


def test_the_sdk_searches_catalog_objects(client):
    answer = client.catalog.search(object_types=["MODIFIER_LIST"], include_related_objects=True)

    assert {obj.type for obj in answer.objects} == {"MODIFIER_LIST"}
    assert answer.latest_time


def test_the_sdk_searches_orders_page_by_page(client, first_merchant):
    end = datetime.now(UTC) - timedelta(days=1)
    request = {
        "location_ids": [loc["id"] for loc in first_merchant["locations"]],
        "query": {
            "filter": {
                "state_filter": {"states": ["COMPLETED"]},
                "date_time_filter": {
                    "closed_at": {"start_at": iso(end - timedelta(days=2)), "end_at": iso(end)}
                },
            },
            "sort": {"sort_field": "CLOSED_AT", "sort_order": "ASC"},
        },
        "limit": 100,
    }

    first = client.orders.search(**request)
    second = client.orders.search(**request, cursor=first.cursor)

    assert len(first.orders) == len(second.orders) == 100
    assert first.orders[-1].closed_at <= second.orders[0].closed_at
    assert not {o.id for o in first.orders} & {o.id for o in second.orders}
    order = first.orders[0]
    assert order.state == "COMPLETED"
    assert order.line_items[0].catalog_object_id
    assert order.tenders[0].payment_id
    assert order.total_money.currency == "USD"


def test_the_sdk_lists_payments_across_pages(client):
    payments = list(islice(client.payments.list(limit=100), 150))

    assert len(payments) == 150
    assert len({p.id for p in payments}) == 150


def test_the_sdk_refreshes_and_checks_tokens(square):
    tokens = square.tokens()
    anonymous = SquareClient(base_url=square.url)

    refreshed = anonymous.o_auth.obtain_token(
        client_id=square.client_id,
        client_secret=square.client_secret,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
    )
    status = SquareClient(base_url=square.url, token=refreshed.access_token).o_auth
    described = status.retrieve_token_status()

    assert refreshed.refresh_token == tokens["refresh_token"]
    assert described.merchant_id == tokens["merchant_id"]


def test_the_sdk_surfaces_square_errors(square):
    client = SquareClient(base_url=square.url, token="EAAAnope")

    with pytest.raises(ApiError) as caught:
        client.locations.list()

    assert caught.value.status_code == 401
    assert caught.value.body["errors"][0]["code"] == "UNAUTHORIZED"
