"""Square's webhooks as the sandbox sends them (README §10): envelope, signature, retries, knobs."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

import pytest

from providers.square.sandbox.webhooks import sign
from tests.notification_receiver import PATH, Receiver

from .support import iso, parse_time

# The generated SDK (whose signature helper the receiver uses) touches pydantic v1 APIs.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:square")

KEY = "test-signature-key"


def subscribe(square, url: str, *types: str, **extra) -> dict:
    body = {"notification_url": url, "signature_key": KEY, "event_types": list(types), **extra}
    return square.control("POST", "webhooks", json=body)["subscription"]


def flush(square) -> None:
    answer = square.control("POST", "webhooks/flush", json={"timeout": 20})
    assert answer == {"idle": True, "pending": 0}


def add_order(square, merchant: dict, state: str = "OPEN") -> dict:
    body = {
        "location_id": merchant["locations"][0]["id"],
        "created_at": iso(datetime.now(UTC) - timedelta(hours=1)),
        "state": state,
    }
    return square.control("POST", "orders", json=body)["order"]


def deliveries(square, **where) -> list[dict]:
    return square.control("GET", "webhooks/deliveries", params=where)["deliveries"]


def search_events(square, **filters) -> list[dict]:
    """Every event of the app matching `filters`, oldest first, following cursors."""
    body: dict = {"query": {"filter": filters, "sort": {"order": "ASC"}}}
    found: list[dict] = []
    while True:
        answer = square.http.post(
            f"{square.url}/v2/events",
            json=body,
            headers={"Authorization": f"Bearer {square.client_secret}"},
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        found += page.get("events", [])
        if "cursor" not in page:
            return found
        body["cursor"] = page["cursor"]


# --- the signature -------------------------------------------------------------------------------


def test_the_signature_gives_the_reference_known_answers():
    url = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
    body = (
        b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification",'
        b'"event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f",'
        b'"created_at":"2022-07-13T20:30:59.037339943Z",'
        b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
    )
    pretty = json.dumps(json.loads(body), indent=2).encode()

    assert (
        sign("Ibxx_5AKakO-3qeNVR61Dw", url, body) == "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
    )
    assert sign("Ibxx_5AKakO-3qeNVR61Dw", url, pretty) != (
        "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
    )
    assert sign(
        "signature-key",
        "https://webhook.site/webhooks",
        b'{"data":{"type":"webhooks","id":">id<"}}',
    ) == ("Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=")


# --- one delivery --------------------------------------------------------------------------------


def test_an_order_change_is_delivered_once_signed_in_squares_envelope(
    square, token, first_merchant, receiver
):
    subscribe(square, receiver.url, "order.updated")
    order = add_order(square, first_merchant)  # order.created: not subscribed to
    changed = square.control("PATCH", f"orders/{order['id']}", json={"ticket_name": "Table 7"})
    changed = changed["order"]
    flush(square)

    [received] = receiver.wait_for(1)
    event = received.event
    assert len(receiver.received) == 1
    assert (received.method, received.path) == ("POST", PATH)
    assert received.signed_by(KEY, receiver.url)
    assert not received.signed_by(KEY, receiver.url + "/")
    assert received.headers["content-type"] == "application/json"
    assert received.headers["square-environment"] == "Sandbox"
    assert "square-retry-number" not in received.headers
    assert parse_time(received.headers["square-initial-delivery-timestamp"]).tzinfo
    # compact JSON, exactly the bytes that were signed
    assert received.body == json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    assert list(event) == ["merchant_id", "type", "event_id", "created_at", "data"]
    assert event["merchant_id"] == first_merchant["id"]
    assert event["type"] == "order.updated"
    assert uuid.UUID(event["event_id"]).version == 4
    assert parse_time(event["created_at"]) >= parse_time(changed["updated_at"])
    assert changed["version"] == order["version"] + 1
    assert event["data"] == {
        "type": "order_updated",
        "id": order["id"],
        "object": {
            "order_updated": {
                "order_id": order["id"],
                "version": changed["version"],
                "location_id": changed["location_id"],
                "state": "OPEN",
                "created_at": changed["created_at"],
                "updated_at": changed["updated_at"],
            }
        },
    }
    assert search_events(square, event_types=["order.updated"]) == [event]


def test_an_order_added_is_published_as_order_created(square, token, first_merchant, receiver):
    subscribe(square, receiver.url, "order.created")

    order = add_order(square, first_merchant)
    [received] = receiver.wait_for(1)

    assert received.event["type"] == "order.created"
    assert received.event["data"] == {
        "type": "order_created",
        "id": order["id"],
        "object": {
            "order_created": {  # spec OrderCreated: no updated_at
                "order_id": order["id"],
                "version": order["version"],
                "location_id": order["location_id"],
                "state": "OPEN",
                "created_at": order["created_at"],
            }
        },
    }


# --- failures and retries ----------------------------------------------------------------------


def test_a_failed_delivery_is_retried_with_its_retry_number(
    square, token, first_merchant, receiver, sandbox
):
    sandbox.knobs(webhook_retry_scale=0.001)  # 1 and 2 minutes become 60 and 120 ms
    subscribe(square, receiver.url, "order.created")
    receiver.answer(500, 302)

    add_order(square, first_merchant)
    flush(square)

    first, second, third = receiver.wait_for(3)
    assert len(receiver.received) == 3
    assert {r.path for r in receiver.received} == {PATH}  # the 302 was not followed
    assert first.body == second.body == third.body
    assert all(r.signed_by(KEY, receiver.url) for r in (first, second, third))
    assert "square-retry-number" not in first.headers
    assert [second.headers["square-retry-number"], third.headers["square-retry-number"]] == [
        "1",
        "2",
    ]
    assert second.headers["square-retry-reason"] == third.headers["square-retry-reason"]
    assert second.headers["square-retry-reason"] == "http_error"
    assert (
        len({r.headers["square-initial-delivery-timestamp"] for r in (first, second, third)}) == 1
    )
    assert second.at - first.at >= 0.06
    assert third.at - second.at >= 0.12
    [delivery] = deliveries(square)
    assert delivery["status"] == "delivered"
    assert [(a["retry_number"], a["status_code"], a["outcome"]) for a in delivery["attempts"]] == [
        (0, 500, "http_error"),
        (1, 302, "http_error"),
        (2, 200, "delivered"),
    ]


def test_a_delivery_never_acknowledged_is_given_up_after_78_retries(
    square, token, first_merchant, receiver, sandbox
):
    sandbox.knobs(webhook_retry_scale=1e-6)  # the 72 hours of retries in a fraction of a second
    subscribe(square, receiver.url, "order.created")
    receiver.answer(*[503] * 100)

    add_order(square, first_merchant)
    flush(square)

    [delivery] = deliveries(square)
    assert delivery["status"] == "failed"
    assert [a["retry_number"] for a in delivery["attempts"]] == list(range(79))
    assert len(receiver.received) == 79


def test_a_delivery_to_nowhere_is_retried_too(square, token, first_merchant, sandbox):
    sandbox.knobs(webhook_retry_scale=1e-6)
    closed = Receiver()
    closed.close()  # nothing listens on its port any more
    subscribe(square, closed.url, "order.created")

    add_order(square, first_merchant)
    flush(square)

    [delivery] = deliveries(square)
    assert delivery["status"] == "failed"
    assert {a["outcome"] for a in delivery["attempts"]} == {"other_error"}


# --- the knobs -----------------------------------------------------------------------------------


def test_a_dropped_delivery_is_never_sent_and_stays_searchable(
    square, token, first_merchant, receiver, sandbox
):
    sandbox.knobs(webhook_drop_rate=1.0)
    subscribe(square, receiver.url, "order.created")

    order = add_order(square, first_merchant)
    flush(square)

    [delivery] = deliveries(square)
    assert (delivery["status"], delivery["attempts"]) == ("dropped", [])
    assert receiver.received == []
    assert [e["data"]["id"] for e in search_events(square, event_types=["order.created"])] == [
        order["id"]
    ]


def test_a_duplicate_repeats_the_acknowledged_delivery_byte_for_byte(
    square, token, first_merchant, receiver, sandbox
):
    sandbox.knobs(webhook_duplicate_rate=1.0)
    subscribe(square, receiver.url, "order.created")

    add_order(square, first_merchant)
    flush(square)

    first, second = receiver.wait_for(2)
    assert len(receiver.received) == 2
    assert first.body == second.body
    square_headers = [
        {k: v for k, v in r.headers.items() if k.startswith(("square-", "x-square-"))}
        for r in (first, second)
    ]
    assert square_headers[0] == square_headers[1]
    [delivery] = deliveries(square)
    assert delivery["status"] == "delivered"
    assert [a["duplicate"] for a in delivery["attempts"]] == [False, True]


def test_held_deliveries_arrive_shuffled(square, token, first_merchant, receiver, sandbox):
    sandbox.knobs(webhook_out_of_order=3)
    subscribe(square, receiver.url, "order.created")

    created = [add_order(square, first_merchant)["id"] for _ in range(3)]
    arrived = [r.event["data"]["id"] for r in receiver.wait_for(3)]  # the third fills the batch

    assert sorted(arrived) == sorted(created)
    assert arrived != created


def test_a_held_batch_that_never_fills_goes_out_after_a_second(
    square, token, first_merchant, receiver, sandbox
):
    sandbox.knobs(webhook_out_of_order=5)
    subscribe(square, receiver.url, "order.created")

    started = time.monotonic()
    created = {add_order(square, first_merchant)["id"] for _ in range(2)}
    arrived = receiver.wait_for(2)

    assert {r.event["data"]["id"] for r in arrived} == created
    assert min(r.at for r in arrived) - started >= 1.0


def test_flush_sends_held_deliveries_at_once(square, token, first_merchant, receiver, sandbox):
    sandbox.knobs(webhook_out_of_order=5)
    subscribe(square, receiver.url, "order.created")

    started = time.monotonic()
    add_order(square, first_merchant)
    flush(square)

    [received] = receiver.wait_for(1)
    assert received.at - started < 1.0


def test_the_first_attempt_waits_for_the_delay_knob(
    square, token, first_merchant, receiver, sandbox
):
    sandbox.knobs(webhook_delay_ms=300)
    subscribe(square, receiver.url, "order.created")

    started = time.monotonic()
    add_order(square, first_merchant)
    [received] = receiver.wait_for(1)

    assert received.at - started >= 0.3


# --- who gets what -------------------------------------------------------------------------------


def test_events_go_only_to_enabled_subscriptions_of_their_type(
    square, token, first_merchant, receiver
):
    subscribe(square, receiver.url + "?to=orders", "order.created")
    subscribe(square, receiver.url + "?to=catalog", "catalog.version.updated")
    subscribe(square, receiver.url + "?to=off", "order.created", enabled=False)

    add_order(square, first_merchant)
    flush(square)

    [received] = receiver.wait_for(1)
    assert len(receiver.received) == 1
    assert received.path == PATH + "?to=orders"
    assert received.signed_by(KEY, receiver.url + "?to=orders")


def test_only_merchants_who_granted_the_scope_publish_to_the_app(square, receiver):
    first, second = square.merchants()
    square.tokens(first["id"])
    square.tokens(second["id"], scopes=["MERCHANT_PROFILE_READ", "ITEMS_READ"])  # no ORDERS_READ
    subscribe(square, receiver.url, "order.created")

    mine = add_order(square, first)
    add_order(square, second)
    flush(square)

    assert [r.event["data"]["id"] for r in receiver.received] == [mine["id"]]
    searched = search_events(square, event_types=["order.created"])
    assert [e["merchant_id"] for e in searched] == [first["id"]]


def test_revoking_the_app_publishes_oauth_authorization_revoked(square, first_merchant, receiver):
    subscribe(square, receiver.url, "oauth.authorization.revoked", "order.created")
    square.tokens(first_merchant["id"])

    square.control("POST", f"merchants/{first_merchant['id']}/revoke")  # from the Dashboard
    tokens = square.tokens(first_merchant["id"])
    assert square.revoke(access_token=tokens["access_token"]).status_code == 200  # by the app
    square.control("POST", f"merchants/{first_merchant['id']}/revoke")  # nothing left to revoke
    add_order(square, first_merchant)  # no grant: no event
    flush(square)

    events = [r.event for r in receiver.received]
    assert [e["type"] for e in events] == ["oauth.authorization.revoked"] * 2
    revocations = [e["data"]["object"]["revocation"] for e in events]
    assert [r["revoker_type"] for r in revocations] == ["MERCHANT", "APPLICATION"]
    assert all(e["data"]["type"] == "revocation" for e in events)
    assert all(parse_time(r["revoked_at"]).tzinfo for r in revocations)


def test_a_catalog_change_publishes_the_new_catalog_version(square, token, receiver):
    subscribe(square, receiver.url, "catalog.version.updated")
    item = square.get(token, "/v2/catalog/list", params={"types": "ITEM"}).json()["objects"][0]

    changed = square.control(
        "PATCH", f"catalog/objects/{item['id']}", json={"item_data": {"name": "Renamed"}}
    )["object"]
    [received] = receiver.wait_for(1)

    event = received.event
    assert event["type"] == "catalog.version.updated"
    assert event["data"]["type"] == "catalog_version"
    assert event["data"]["object"] == {"catalog_version": {"updated_at": changed["updated_at"]}}


def test_location_changes_publish_location_events(square, token, first_merchant, receiver):
    subscribe(square, receiver.url, "location.created", "location.updated")
    location = first_merchant["locations"][0]

    square.control("PATCH", f"locations/{location['id']}", json={"name": "Harbour Room"})
    square.resize(locations=len(first_merchant["locations"]) + 1)
    updated, created = (r.event for r in receiver.wait_for(2))
    flush(square)

    assert len(receiver.received) == 2  # the second merchant never authorised the app
    assert updated["type"] == "location.updated"
    assert updated["location_id"] == location["id"]
    assert updated["data"] == {"type": "location", "id": location["id"]}
    before = {loc["id"] for loc in first_merchant["locations"]}
    after = {loc["id"] for loc in square.merchants()[0]["locations"]}
    assert created["type"] == "location.created"
    assert {created["location_id"]} == after - before
    shown = square.get(token, f"/v2/locations/{location['id']}").json()["location"]
    assert shown["name"] == "Harbour Room"


# --- payments ------------------------------------------------------------------------------------


def test_completing_an_order_publishes_its_payment(square, token, first_merchant, receiver):
    subscribe(square, receiver.url, "payment.created", "payment.updated")
    order = add_order(square, first_merchant)

    done = square.control("PATCH", f"orders/{order['id']}", json={"state": "COMPLETED"})["order"]
    flush(square)

    tender = done["tenders"][0]
    events = [
        r.event
        for r in receiver.received
        if r.event["data"]["object"]["payment"]["order_id"] == order["id"]
    ]
    # A card is authorised (payment.created, APPROVED), then captured (payment.updated).
    card = tender["type"] == "CARD"
    assert [e["type"] for e in events] == (
        ["payment.created", "payment.updated"] if card else ["payment.created"]
    )
    assert {(e["data"]["type"], e["data"]["id"]) for e in events} == {
        ("payment", tender["payment_id"])
    }
    payments = [e["data"]["object"]["payment"] for e in events]
    assert payments[0]["status"] == ("APPROVED" if card else "COMPLETED")
    assert payments[-1]["status"] == "COMPLETED"
    assert payments[-1]["total_money"] == done["total_money"]


def test_new_line_items_on_a_paid_order_update_its_payment(square, token, first_merchant, receiver):
    order = add_order(square, first_merchant, state="COMPLETED")
    subscribe(square, receiver.url, "order.updated", "payment.updated")

    redrawn = order
    for _ in range(10):  # a redraw can, rarely, come to the same total
        redrawn = square.control(
            "PATCH", f"orders/{order['id']}", json={"redraw_line_items": True}
        )["order"]
        if redrawn["total_money"] != order["total_money"]:
            break
    flush(square)

    assert redrawn["total_money"] != order["total_money"]
    assert {li["uid"] for li in redrawn["line_items"]} != {li["uid"] for li in order["line_items"]}
    assert square.control("GET", f"orders/{order['id']}")["order"] == redrawn
    ours = [
        r.event  # the clock may publish the payments of generated orders meanwhile
        for r in receiver.received
        if order["id"]
        in (r.event["data"]["id"], r.event["data"]["object"].get("payment", {}).get("order_id"))
    ]
    assert ours[-2]["type"] == "order.updated"
    assert ours[-2]["data"]["object"]["order_updated"]["version"] == redrawn["version"]
    assert ours[-1]["type"] == "payment.updated"
    assert ours[-1]["data"]["object"]["payment"]["total_money"] == redrawn["total_money"]


def test_generated_orders_publish_their_payments_as_they_complete(square, token, first_merchant):
    location = first_merchant["locations"][0]
    zone = ZoneInfo(location["timezone"])
    yesterday = datetime.now(zone).date() - timedelta(days=1)
    start = datetime.combine(yesterday, dt_time(18), zone)  # dinner: plenty of orders closing
    end = start + timedelta(hours=2)
    truth = square.half.ground_truth(
        location["id"],
        iso(start + timedelta(milliseconds=1)),  # the clock's interval is (start, end]
        iso(end),
        states=["COMPLETED"],
        with_ids=True,
    )

    square.half.state.live.publish_closed(
        int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    )

    payments = [
        e["data"]["object"]["payment"]
        for e in search_events(
            square, event_types=["payment.created"], location_ids=[location["id"]]
        )
    ]
    in_window = {p["order_id"] for p in payments if start < parse_time(p["created_at"]) <= end}
    assert truth.count > 0
    assert in_window == truth.order_ids
