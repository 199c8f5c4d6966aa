"""SearchEvents (POST /v2/events): the app's events of the last 28 days, paged and filtered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from square import Square as SquareClient

from .support import error_of, iso, parse_time

# The generated SDK still touches pydantic v1 APIs; that is its business, not the sandbox's.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:square")

# Without PAYMENTS_READ the sandbox's clock publishes nothing for these grants, so every event
# below comes from the test.
SCOPES = ["MERCHANT_PROFILE_READ", "ITEMS_READ", "ORDERS_READ"]


@pytest.fixture
def merchants(square) -> list[dict]:
    found = square.merchants()
    for merchant in found:
        square.tokens(merchant["id"], scopes=SCOPES)
    return found


def search(square, body: dict, token: str | None = None):
    return square.api(token or square.client_secret).post(f"{square.url}/v2/events", json=body)


def search_all(square, query: dict, limit: int = 100) -> tuple[list[dict], int]:
    """Every event a query finds, following cursors; and the number of pages."""
    body: dict = {"query": query, "limit": limit}
    found, pages = [], 0
    while True:
        answer = search(square, body)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages += 1
        events = page.get("events", [])
        assert [m["event_id"] for m in page.get("metadata", [])] == [e["event_id"] for e in events]
        assert {m["api_version"] for m in page.get("metadata", [])} <= {"2025-08-20"}
        found += events
        if "cursor" not in page:
            return found, pages
        body["cursor"] = page["cursor"]


def add_orders(square, merchant: dict, count: int) -> list[dict]:
    created = iso(datetime.now(UTC) - timedelta(hours=1))
    return [
        square.control(
            "POST",
            "orders",
            json={"location_id": loc["id"], "created_at": created, "state": "OPEN"},
        )["order"]
        for loc in (merchant["locations"] * count)[:count]
    ]


def test_events_page_oldest_or_newest_first(square, merchants):
    orders = add_orders(square, merchants[0], 5)

    ascending, pages = search_all(square, {"sort": {"field": "DEFAULT", "order": "ASC"}}, limit=2)
    descending, _ = search_all(square, {"sort": {"order": "DESC"}}, limit=2)
    default, _ = search_all(square, {})

    assert pages == 3
    assert [e["data"]["id"] for e in ascending] == [o["id"] for o in orders]
    assert {e["type"] for e in ascending} == {"order.created"}
    assert descending == list(reversed(ascending))
    assert default == descending  # UNCONFIRMED default: newest first
    times = [parse_time(e["created_at"]) for e in ascending]
    assert times == sorted(times)


def test_events_filter_by_type_merchant_location_and_time(square, merchants):
    first, second = merchants
    add_orders(square, first, 3)
    add_orders(square, second, 2)
    category = square.control(
        "POST",
        "catalog/objects",
        json={
            "merchant_id": second["id"],
            "object": {"type": "CATEGORY", "category_data": {"name": "Specials"}},
        },
    )["object"]
    everything, _ = search_all(square, {"sort": {"order": "ASC"}})

    def query(**filters) -> list[dict]:
        return search_all(square, {"filter": filters, "sort": {"order": "ASC"}})[0]

    assert len(everything) == 6
    assert query(event_types=["catalog.version.updated"]) == [everything[-1]]
    assert (
        everything[-1]["data"]["object"]["catalog_version"]["updated_at"]
        == (category["updated_at"])
    )
    assert query(merchant_ids=[second["id"]]) == everything[3:]
    assert query(merchant_ids=[first["id"], second["id"]]) == everything
    one_location = first["locations"][0]["id"]
    at_location = query(location_ids=[one_location])
    assert at_location and at_location == [
        e
        for e in everything
        if e["type"] == "order.created"
        and e["data"]["object"]["order_created"]["location_id"] == one_location
    ]
    moment = everything[2]["created_at"]
    same_moment = query(created_at={"start_at": moment, "end_at": moment})
    assert everything[2] in same_moment
    assert same_moment == [e for e in everything if e["created_at"] == moment]
    before = iso(parse_time(everything[0]["created_at"]) - timedelta(milliseconds=1))
    assert query(created_at={"end_at": before}) == []
    assert query(created_at={"start_at": moment}) == [
        e for e in everything if parse_time(e["created_at"]) >= parse_time(moment)
    ]


def test_only_merchants_the_app_could_read_have_events(square):
    first, second = square.merchants()
    square.tokens(first["id"], scopes=SCOPES)
    add_orders(square, first, 1)
    add_orders(square, second, 1)  # never authorised the app: Square records nothing for it

    found, _ = search_all(square, {})

    assert {e["merchant_id"] for e in found} == {first["id"]}


def test_a_sellers_oauth_token_cannot_search_events(square, merchants):
    seller = square.tokens(merchants[0]["id"])["access_token"]
    add_orders(square, merchants[0], 1)

    answer = search(square, {}, token=seller)

    assert answer.status_code == 403
    assert error_of(answer)["code"] == "FORBIDDEN"


def test_a_cursor_continues_only_its_own_query(square, merchants):
    add_orders(square, merchants[0], 3)
    first = search(square, {"limit": 1, "query": {"sort": {"order": "ASC"}}}).json()

    other = search(square, {"limit": 1, "cursor": first["cursor"]})

    assert error_of(other)["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": {"sort": {"sort_field": "DEFAULT", "sort_order": "ASC"}}}, "BAD_REQUEST"),
        ({"query": {"sort": {"field": "CREATED_AT"}}}, "INVALID_ENUM_VALUE"),
        ({"query": {"sort": {"order": "UP"}}}, "INVALID_SORT_ORDER"),
        ({"query": {"filter": {"merchant_id": "M"}}}, "BAD_REQUEST"),
        ({"query": {"filter": {"event_types": "order.created"}}}, "EXPECTED_ARRAY"),
        ({"query": {"filter": {"created_at": {"start_at": "yesterday"}}}}, "INVALID_TIME"),
        ({"limit": 0}, "VALUE_TOO_LOW"),
    ],
)
def test_a_bad_search_is_refused(square, body, code):
    answer = search(square, body)

    assert answer.status_code == 400
    assert error_of(answer)["code"] == code


def test_a_limit_above_100_returns_at_most_100(square, merchants):
    add_orders(square, merchants[0], 101)

    answer = search(square, {"limit": 500}).json()

    assert len(answer["events"]) == 100
    assert "cursor" in answer


def test_the_official_sdk_searches_events_with_the_apps_token(square, merchants):
    orders = add_orders(square, merchants[0], 2)
    client = SquareClient(base_url=square.url, token=square.client_secret, version="2025-08-20")

    answer = client.events.search_events(
        query={
            "filter": {"merchant_ids": [merchants[0]["id"]]},
            "sort": {"field": "DEFAULT", "order": "ASC"},
        }
    )

    assert [e.data.id for e in answer.events] == [o["id"] for o in orders]
    assert [m.event_id for m in answer.metadata] == [e.event_id for e in answer.events]
