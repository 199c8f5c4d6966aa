"""Live data from Square's webhooks, end to end: the sandbox sends signed notifications to the
running site, a worker processes them, and the page changes without a click."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from integrations.models import SyncJob, WebhookEvent
from sous.sales.models import Order
from tests.conftest import wait_for
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    square_config_fixture,  # noqa: F401
)

KEY = "e2e-signature-key"


@pytest.fixture
def subscribed(live_app, sandbox, settings):
    """Square (the sandbox) subscribed to this site's webhook URL, as set once per app."""
    url = f"{live_app.url}/integrations/webhooks/square"
    settings.SQUARE_WEBHOOK_SIGNATURE_KEYS = [KEY]
    settings.SQUARE_WEBHOOK_URL = url
    resize(sandbox, orders_per_day=0)  # only the orders the test makes send events
    sandbox.control("POST", "square/webhooks", json={"notification_url": url, "signature_key": KEY})
    return url


def test_an_order_closed_in_square_is_in_sous_seconds_later(
    square_config, merchant, subscribed, integrations_worker, sandbox
):
    location = merchant["locations"][0]
    closed = datetime.now(UTC) - timedelta(minutes=2)
    made = sandbox.control(
        "POST",
        "square/orders",
        json={
            "location_id": location["id"],
            "created_at": (closed - timedelta(minutes=30)).isoformat(),
            "closed_at": closed.isoformat(),
        },
    )["order"]

    stored = wait_for(
        lambda: Order.objects.filter(external_id=made["id"]).first(),
        timeout=30,
        message="the new order never reached Sous",
    )
    assert stored.total_money == made["total_money"]["amount"]
    # The order's own event and its payment's each ask for it (one job, or two if the first
    # had started before the second event came).
    jobs = SyncJob.objects.filter(kind="square.orders")
    assert jobs and all(job.trigger == SyncJob.Trigger.WEBHOOK for job in jobs)
    assert all(job.params == {"order_ids": [made["id"]]} for job in jobs)

    changed = sandbox.control(
        "PATCH", f"square/orders/{made['id']}", json={"redraw_line_items": True}
    )["order"]
    wait_for(
        lambda: Order.objects.get(external_id=made["id"]).version == changed["version"],
        timeout=30,
        message="the changed order never reached Sous",
    )
    assert Order.objects.get(external_id=made["id"]).total_money == changed["total_money"]["amount"]
    assert WebhookEvent.objects.filter(state=WebhookEvent.State.PROCESSED).count() >= 2


def test_access_revoked_in_square_turns_the_card_red_without_a_click(
    square_config, merchant, subscribed, integrations_worker, logged_in, sandbox, shot
):
    page = logged_in
    card = page.locator("#card-square")
    expect(card).to_contain_text("Active")

    sandbox.control("POST", f"square/merchants/{merchant['id']}/revoke")

    expect(card).to_contain_text("Re-auth required", timeout=20_000)
    expect(card).to_contain_text("access was revoked in Square")
    shot(page, "revoked")


def _add_orders(sandbox, location, count) -> list[dict]:
    closed = datetime.now(UTC) - timedelta(minutes=5)
    return [
        sandbox.control(
            "POST",
            "square/orders",
            json={
                "location_id": location["id"],
                "created_at": (closed - timedelta(minutes=30 + n)).isoformat(),
                "closed_at": (closed - timedelta(minutes=n)).isoformat(),
            },
        )["order"]
        for n in range(count)
    ]


def _as_square_holds_them(sandbox, orders) -> bool:
    for made in orders:
        now = sandbox.control("GET", f"square/orders/{made['id']}")["order"]
        stored = Order.objects.filter(external_id=made["id"]).first()
        if stored is None or (stored.version, stored.total_money) != (
            now["version"],
            now["total_money"]["amount"],
        ):
            return False
    return True


def test_duplicate_and_out_of_order_deliveries_leave_exactly_what_square_holds(
    square_config, merchant, subscribed, integrations_worker, sandbox
):
    sandbox.knobs(webhook_duplicate_rate=1.0, webhook_out_of_order=4)
    orders = _add_orders(sandbox, merchant["locations"][0], 4)
    for made in orders:  # each changed twice: three versions delivered in a shuffled order
        for _ in range(2):
            sandbox.control(
                "PATCH", f"square/orders/{made['id']}", json={"redraw_line_items": True}
            )
    sandbox.control("POST", "square/webhooks/flush", json={"timeout": 10})

    wait_for(
        lambda: _as_square_holds_them(sandbox, orders),
        timeout=45,
        message="Sous does not hold the orders' latest versions",
    )
    assert Order.objects.filter(external_id__in=[o["id"] for o in orders]).count() == 4
    # Every delivery came twice; each event was processed once.
    deliveries = sandbox.control("GET", "square/webhooks/deliveries")["deliveries"]
    assert any(a["duplicate"] for d in deliveries for a in d["attempts"])
    assert WebhookEvent.objects.count() == len({d["event_id"] for d in deliveries})


def test_dropped_deliveries_are_recovered_from_the_events_feed(
    square_config, merchant, subscribed, integrations_worker, sandbox
):
    from integrations.jobs import triggers

    square_config.cursors = {
        **square_config.cursors,
        "square.events": {"latest": datetime.now(UTC).isoformat()},
    }
    square_config.save(update_fields=["cursors"])
    sandbox.knobs(webhook_drop_rate=1.0)
    orders = _add_orders(sandbox, merchant["locations"][0], 2)
    sandbox.control("POST", "square/webhooks/flush", json={"timeout": 10})
    assert not WebhookEvent.objects.exists()  # nothing came

    check, _ = triggers.request(square_config, "events", {}, trigger=SyncJob.Trigger.SCHEDULE)

    wait_for(
        lambda: _as_square_holds_them(sandbox, orders),
        timeout=45,
        message="the dropped orders were not recovered",
    )
    check.refresh_from_db()
    assert check.summary.startswith("Notifications checked: ") and "missed" in check.summary
