"""Square notifications: refused unless signed for our URL, stored once per event id, routed to
the connections of their merchant and turned into coalesced jobs (or Error, when access was
revoked)."""

import json
import re
import uuid
from io import StringIO

import pytest
import responses
from django.core.management import call_command

from integrations.jobs import execute, triggers
from integrations.models import IntegrationConfig, IntegrationEvent, SyncJob, WebhookEvent
from integrations.webhooks import process
from providers.square import webhooks
from tests.conftest import UNREACHABLE_SANDBOX

URL = "https://sous.example/integrations/webhooks/square"
REFUSED_LINE = r"Square notifications refused this hour \(bad signature\): (\d+)"
KEY = "sig-key-current"


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.SQUARE_WEBHOOK_SIGNATURE_KEYS = [KEY, "sig-key-previous"]
    settings.SQUARE_WEBHOOK_URL = URL


@pytest.fixture
def square(org, make_connection):
    return make_connection(org, account_id="MERCHANT-1")


def _event(type_="order.updated", merchant="MERCHANT-1", data=None, event_id=None) -> bytes:
    data = data or {"type": "order_updated", "id": "ORDER-1", "object": {}}
    body = {
        "merchant_id": merchant,
        "type": type_,
        "event_id": event_id or str(uuid.uuid4()),
        "created_at": "2026-12-01T12:03:00Z",
        "data": data,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _post(client, body: bytes, *, key=KEY, url=URL, signature=None):
    signature = signature if signature is not None else webhooks.signature(key, url, body)
    return client.post(
        "/integrations/webhooks/square",
        body,
        content_type="application/json",
        headers={"x-square-hmacsha256-signature": signature},
    )


def test_a_signed_event_is_stored_once_however_often_it_is_delivered(client, db):
    body = _event()
    assert _post(client, body).status_code == 200
    assert _post(client, body).status_code == 200  # Square sends the same event_id again
    (event,) = WebhookEvent.objects.all()
    assert event.event_type == "order.updated" and event.account_id == "MERCHANT-1"
    assert bytes(event.body) == body


def test_the_previous_key_is_accepted_during_a_rotation(client, db):
    assert _post(client, _event(), key="sig-key-previous").status_code == 200


@pytest.mark.parametrize(
    "forgery",
    [
        {"signature": ""},  # missing
        {"key": "someone-elses-key"},
        {"url": "https://attacker.example/integrations/webhooks/square"},
        {"url": "http://sous.example/integrations/webhooks/square"},
    ],
)
def test_anything_not_signed_for_our_url_with_our_key_is_refused_and_stored_nowhere(
    client, db, forgery
):
    assert _post(client, _event(), **forgery).status_code == 403
    assert not WebhookEvent.objects.exists()


def test_a_re_serialised_body_is_refused(client, db):
    body = _event()
    signature = webhooks.signature(KEY, URL, body)
    pretty = json.dumps(json.loads(body), indent=2).encode()
    assert _post(client, pretty, signature=signature).status_code == 403


def test_without_configured_keys_every_notification_is_refused(client, db, settings):
    settings.SQUARE_WEBHOOK_SIGNATURE_KEYS = []
    assert _post(client, _event()).status_code == 403


def test_unknown_providers_are_404(client, db):
    response = client.post("/integrations/webhooks/nope", b"{}", content_type="application/json")
    assert response.status_code == 404


def _receive(client, body) -> WebhookEvent:
    assert _post(client, body).status_code == 200
    event = WebhookEvent.objects.get(event_id=json.loads(body)["event_id"])
    process.process(event.pk)
    event.refresh_from_db()
    return event


def test_a_burst_of_order_events_becomes_one_job_reading_those_orders(client, square):
    for n in range(5):
        data = {"type": "order_updated", "id": f"ORDER-{n}", "object": {}}
        event = _receive(client, _event(data=data))
        assert event.state == WebhookEvent.State.PROCESSED

    (job,) = SyncJob.objects.all()
    assert job.kind == "square.orders" and job.trigger == SyncJob.Trigger.WEBHOOK
    assert job.params == {"order_ids": [f"ORDER-{n}" for n in range(5)]}
    assert job.trigger_detail == "5 orders changed"
    assert not square.events.filter(kind=IntegrationEvent.Kind.SYNC_REQUESTED).exists()


def test_one_drain_turns_a_stored_burst_into_one_job_per_connection_and_kind(
    client, square, make_org, make_connection
):
    other = make_connection(make_org(), account_id="MERCHANT-1")  # the same merchant, elsewhere
    for n in range(150):
        data = {"type": "order_updated", "id": f"ORDER-{n}", "object": {}}
        assert _post(client, _event(data=data)).status_code == 200
    _post(client, _event("catalog.version.updated", data={"type": "catalog_version"}))
    _post(client, _event("catalog.version.updated", data={"type": "catalog_version"}))

    assert process.drain(batch=200) == 152
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}
    for config in (square, other):
        (orders,) = config.jobs.filter(kind="square.orders")
        assert orders.params == {"order_ids": [f"ORDER-{n}" for n in range(150)]}
        assert orders.trigger_detail == "150 orders changed"
        assert config.jobs.filter(kind="square.catalog").count() == 1
    event = WebhookEvent.objects.filter(event_type="order.updated").first()
    jobs = [square.jobs.get(kind="square.orders"), other.jobs.get(kind="square.orders")]
    slugs = [square.organization.slug, other.organization.slug]
    assert event.detail == "; ".join(f"{slug}: job {job.pk}" for slug, job in zip(slugs, jobs))


def test_a_revocation_in_the_same_drain_stops_the_burst_before_it(client, square):
    _post(client, _event())
    _post(client, _event("oauth.authorization.revoked", data={"type": "revocation"}))
    process.drain()
    assert not SyncJob.objects.filter(kind="square.orders").exists()
    assert (
        "skipped (re-auth required)" in WebhookEvent.objects.get(event_type="order.updated").detail
    )


def test_an_order_event_while_its_job_runs_waits_for_the_next_one(client, square):
    _receive(client, _event())
    SyncJob.objects.update(status=SyncJob.Status.RUNNING)
    SyncJob.objects.update(started_at="2026-12-01T12:00:00Z")

    _receive(client, _event())  # the same order changed again after the job read it

    assert SyncJob.objects.count() == 2


def test_a_catalog_event_asks_for_an_incremental_catalog_sync(client, square):
    _receive(client, _event("catalog.version.updated", data={"type": "catalog_version"}))
    (job,) = SyncJob.objects.all()
    assert job.kind == "square.catalog" and job.trigger_detail == "Catalog changed in Square"


def test_an_unknown_merchant_is_answered_and_kept_unrouted(client, square):
    event = _receive(client, _event(merchant="SOMEONE-ELSE"))
    assert event.state == WebhookEvent.State.UNROUTED
    assert not SyncJob.objects.exists()


def test_a_revoked_grant_turns_the_connection_red_and_stops_its_jobs(client, square):
    job, _ = triggers.request(square, "catalog", {})
    _receive(client, _event("oauth.authorization.revoked", data={"type": "revocation"}))

    square.refresh_from_db()
    job.refresh_from_db()
    assert square.status == IntegrationConfig.Status.ERROR
    assert square.last_error == "Re-auth required: access was revoked in Square"
    assert job.status == SyncJob.Status.CANCELLED
    assert square.events.filter(kind=IntegrationEvent.Kind.ACCESS_REVOKED).exists()
    # Further order events for it start nothing until it is reconnected.
    _receive(client, _event())
    assert not SyncJob.objects.filter(kind="square.orders").exists()


def test_events_whose_task_was_lost_are_processed_by_the_sweep(client, square):
    _post(client, _event())
    WebhookEvent.objects.update(received_at="2026-01-01T00:00:00Z")

    assert process.process_stale() == 1
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    assert SyncJob.objects.filter(kind="square.orders").exists()


def test_the_drawer_says_whether_live_updates_are_on_and_when_the_last_event_came(
    client, owner_client, square, settings
):
    assert "Live updates on: no event yet" in _drawer(owner_client)
    _receive(client, _event())
    assert "Live updates on: last event" in _drawer(owner_client)

    settings.SQUARE_WEBHOOK_SIGNATURE_KEYS = []
    assert "Live updates off (this deployment has no webhook signature key for it)" in _drawer(
        owner_client
    )


def test_each_data_type_says_when_its_last_event_came(client, owner_client, square):
    _receive(client, _event())  # an order changed

    drawer = _drawer(owner_client)
    sales = re.search(r'data-live="sales">(.*?)</p>', drawer).group(1)
    catalog = re.search(r'data-live="catalog">(.*?)</p>', drawer).group(1)
    assert sales.startswith("Live: last Square event about it <time")
    assert catalog == "Live: no Square event about it yet"


def _drawer(owner_client) -> str:
    return owner_client.get("/integrations/square/manage/").content.decode()


EVENTS = f"{UNREACHABLE_SANDBOX}/square/v2/events"


def _feed_event(event_id: str, order_id: str, at: str) -> dict:
    return {
        "merchant_id": "MERCHANT-1",
        "location_id": "L1",
        "type": "order.updated",
        "event_id": event_id,
        "created_at": at,
        "data": {"type": "order_updated", "id": order_id, "object": {}},
    }


@responses.activate
def test_events_that_never_arrived_are_found_in_the_feed_and_processed(client, square, settings):
    delivered = _event(event_id="delivered-1")
    _receive(client, delivered)
    SyncJob.objects.all().delete()
    square.cursors = {**square.cursors, "square.events": {"latest": "2026-12-01T11:00:00.000Z"}}
    square.save(update_fields=["cursors"])
    responses.post(
        EVENTS,
        json={
            "events": [
                _feed_event("delivered-1", "ORDER-1", "2026-12-01T11:01:00.123456789Z"),
                _feed_event("dropped-2", "ORDER-2", "2026-12-01T11:02:00Z"),
            ],
            "cursor": "next",
        },
    )
    responses.post(EVENTS, json={"events": []})

    job, _ = triggers.request(square, "events", {}, trigger=SyncJob.Trigger.SCHEDULE)
    execute.run(str(job.pk))

    job.refresh_from_db()
    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert job.summary == "Notifications checked: 1 missed, now processed"
    first = json.loads(responses.calls[0].request.body)
    # As the app (the Events API takes no merchant's token), for this merchant, from a little
    # before the last event seen (the feed is eventually consistent).
    app_token = settings.SQUARE_CLIENT_SECRET  # what the local sandbox takes for it
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {app_token}"
    assert first["query"]["filter"]["merchant_ids"] == ["MERCHANT-1"]
    assert first["query"]["filter"]["created_at"]["start_at"] == "2026-12-01T10:55:00.000Z"
    assert json.loads(responses.calls[1].request.body)["cursor"] == "next"
    assert WebhookEvent.objects.get(event_id="dropped-2").state == WebhookEvent.State.PROCESSED
    (orders,) = SyncJob.objects.filter(kind="square.orders")
    assert orders.params == {"order_ids": ["ORDER-2"]}  # the delivered one was done already
    square.refresh_from_db()
    assert square.cursors["square.events"] == {"latest": "2026-12-01T11:02:00.000Z"}


def test_operators_see_how_many_notifications_were_refused_this_hour(client, square):
    def refused() -> int:
        out = StringIO()
        call_command("integrations_status", "--no-health", stdout=out)
        said = re.search(REFUSED_LINE, out.getvalue())
        return int(said.group(1))

    before = refused()  # the cache is shared with other tests within the hour
    for _ in range(3):
        _post(client, _event(), key="forged")
    assert refused() == before + 3
