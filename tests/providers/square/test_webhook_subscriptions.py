"""Square's Webhook Subscriptions API on the sandbox: per app, called with the app's own token."""

from __future__ import annotations

import pytest
import requests
from square import Square as SquareClient

from .support import error_of, parse_time

# The generated SDK still touches pydantic v1 APIs; that is its business, not the sandbox's.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:square")

SUBSCRIPTIONS = "/v2/webhooks/subscriptions"


@pytest.fixture
def app(square) -> requests.Session:
    """Calls as the app: its client secret stands in for Square's personal access token."""
    return square.api(square.client_secret)


def new(url: str, *types: str, **fields) -> dict:
    return {"subscription": {"notification_url": url, "event_types": list(types), **fields}}


def test_the_app_creates_reads_updates_lists_and_deletes_a_subscription(square, app):
    url = "https://sous.example/integrations/webhooks/square"
    created = app.post(f"{square.url}{SUBSCRIPTIONS}", json=new(url, "order.updated", name="Sous"))
    assert created.status_code == 200, created.text
    subscription = created.json()["subscription"]
    path = f"{square.url}{SUBSCRIPTIONS}/{subscription['id']}"

    assert set(subscription) == {
        "id",
        "name",
        "enabled",
        "event_types",
        "notification_url",
        "api_version",
        "signature_key",
        "created_at",
        "updated_at",
    }
    assert subscription["id"].startswith("wbhk_")
    assert (subscription["name"], subscription["enabled"]) == ("Sous", True)
    assert subscription["event_types"] == ["order.updated"]
    assert subscription["notification_url"] == url
    assert subscription["api_version"] == "2025-08-20"  # the app's version when none is given
    assert len(subscription["signature_key"]) >= 20
    assert parse_time(subscription["created_at"]) == parse_time(subscription["updated_at"])
    assert app.get(path).json() == {"subscription": subscription}

    changed = app.put(path, json={"subscription": {"enabled": False, "event_types": ["x"]}})
    assert error_of(changed)["code"] == "INVALID_VALUE"
    changed = app.put(path, json={"subscription": {"enabled": False, "name": "Paused"}})
    updated = changed.json()["subscription"]
    assert (updated["enabled"], updated["name"]) == (False, "Paused")
    assert updated["signature_key"] == subscription["signature_key"]
    assert parse_time(updated["updated_at"]) >= parse_time(subscription["updated_at"])

    assert app.delete(path).json() == {}
    assert app.get(path).status_code == 404
    assert app.get(f"{square.url}{SUBSCRIPTIONS}", params={"include_disabled": "true"}).json() == {}


def test_an_idempotency_key_creates_one_subscription(square, app):
    body = {"idempotency_key": "create-once", **new("https://sous.example/hook", "order.created")}

    first = app.post(f"{square.url}{SUBSCRIPTIONS}", json=body).json()
    again = app.post(f"{square.url}{SUBSCRIPTIONS}", json=body).json()

    assert first == again
    assert len(app.get(f"{square.url}{SUBSCRIPTIONS}").json()["subscriptions"]) == 1


def test_the_list_pages_and_leaves_out_disabled_subscriptions(square, app):
    made = []
    for n in range(3):
        body = new(f"https://sous.example/hook/{n}", "order.created", enabled=n != 1)
        made.append(app.post(f"{square.url}{SUBSCRIPTIONS}", json=body).json()["subscription"])

    first = app.get(f"{square.url}{SUBSCRIPTIONS}", params={"limit": 1}).json()
    second = app.get(
        f"{square.url}{SUBSCRIPTIONS}", params={"limit": 1, "cursor": first["cursor"]}
    ).json()
    everything = app.get(
        f"{square.url}{SUBSCRIPTIONS}", params={"include_disabled": "true", "sort_order": "DESC"}
    ).json()

    assert [s["id"] for s in first["subscriptions"] + second["subscriptions"]] == [
        made[0]["id"],
        made[2]["id"],
    ]
    assert "cursor" not in second
    assert [s["id"] for s in everything["subscriptions"]] == [s["id"] for s in reversed(made)]


def test_a_rotated_key_signs_the_next_delivery(square, app, token, first_merchant, receiver):
    body = new(receiver.url, "order.created")
    subscription = app.post(f"{square.url}{SUBSCRIPTIONS}", json=body).json()["subscription"]
    path = f"{square.url}{SUBSCRIPTIONS}/{subscription['id']}/signature-key"

    rotated = app.post(path, json={"idempotency_key": "rotate-1"}).json()
    again = app.post(path, json={"idempotency_key": "rotate-1"}).json()
    location = first_merchant["locations"][0]["id"]
    square.control(
        "POST", "orders", json={"location_id": location, "local_time": "2024-05-03T12:00"}
    )
    [received] = receiver.wait_for(1)

    assert list(rotated) == ["signature_key"]
    assert rotated == again  # the same request, not a second rotation
    assert rotated["signature_key"] != subscription["signature_key"]
    assert received.signed_by(rotated["signature_key"], receiver.url)
    assert not received.signed_by(subscription["signature_key"], receiver.url)


def test_a_changed_url_is_where_and_what_the_next_delivery_is_signed_for(
    square, app, token, first_merchant, receiver
):
    body = new("https://sous.example/old", "order.created")
    subscription = app.post(f"{square.url}{SUBSCRIPTIONS}", json=body).json()["subscription"]
    app.put(
        f"{square.url}{SUBSCRIPTIONS}/{subscription['id']}",
        json={"subscription": {"notification_url": receiver.url}},
    )

    location = first_merchant["locations"][0]["id"]
    square.control(
        "POST", "orders", json={"location_id": location, "local_time": "2024-05-03T12:00"}
    )
    [received] = receiver.wait_for(1)

    assert received.signed_by(subscription["signature_key"], receiver.url)


def test_subscriptions_are_managed_with_the_apps_token_only(square, token):
    url = f"{square.url}{SUBSCRIPTIONS}"
    body = new("https://sous.example/hook", "order.created")

    anonymous = square.api(None).post(url, json=body)
    wrong = square.api("sq0csp-not-the-secret").post(url, json=body)
    seller = square.api(token).post(url, json=body)

    assert (anonymous.status_code, error_of(anonymous)["code"]) == (401, "UNAUTHORIZED")
    assert (wrong.status_code, error_of(wrong)["code"]) == (401, "UNAUTHORIZED")
    assert (seller.status_code, error_of(seller)["code"]) == (403, "FORBIDDEN")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "MISSING_REQUIRED_PARAMETER", "subscription"),
        (new("http://sous.example/hook", "order.created"), "INVALID_VALUE", "notification_url"),
        (new("ftp://localhost/hook", "order.created"), "INVALID_VALUE", "notification_url"),
        (new("https://sous.example/hook"), "ARRAY_LENGTH_TOO_SHORT", "event_types"),
        (new("https://sous.example/hook", "order.eaten"), "INVALID_VALUE", "event_types"),
        (
            {"subscription": {"event_types": ["order.created"]}},
            "MISSING_REQUIRED_PARAMETER",
            "notification_url",
        ),
        (
            new("https://sous.example/hook", "order.created", api_version="latest"),
            "INVALID_VALUE",
            "api_version",
        ),
        (new("https://sous.example/hook", "order.created", name="x" * 65), "INVALID_VALUE", "name"),
    ],
)
def test_a_bad_subscription_is_refused(square, app, body, code, field):
    answer = app.post(f"{square.url}{SUBSCRIPTIONS}", json=body)

    assert answer.status_code == 400
    assert error_of(answer)["code"] == code
    assert error_of(answer)["field"].endswith(field)


def test_another_apps_or_an_unknown_subscription_is_not_found(square, app):
    for method in ("get", "put", "delete"):
        answer = getattr(app, method)(f"{square.url}{SUBSCRIPTIONS}/wbhk_nope", json={})
        assert (answer.status_code, error_of(answer)["code"]) == (404, "NOT_FOUND")


def test_the_official_sdk_manages_subscriptions(square):
    client = SquareClient(base_url=square.url, token=square.client_secret, version="2025-08-20")

    created = client.webhooks.subscriptions.create(
        idempotency_key="sdk-1",
        subscription={
            "name": "Sous",
            "event_types": ["order.created", "payment.created"],
            "notification_url": "https://sous.example/hook",
        },
    ).subscription
    listed = list(client.webhooks.subscriptions.list())
    key = client.webhooks.subscriptions.update_signature_key(created.id).signature_key
    client.webhooks.subscriptions.delete(created.id)

    assert [s.id for s in listed] == [created.id]
    assert created.event_types == ["order.created", "payment.created"]
    assert key and key != created.signature_key
    assert list(client.webhooks.subscriptions.list()) == []
