"""Receiving a notification: verify, store once, hand to a task. Nothing slow happens here:
providers retry answers that are not 2xx or come late (Square: within 10 s), and send the
same event id again."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import WebhookEvent
from integrations.services import apps
from providers.base import InvalidNotification, Provider
from sous import redis_client
from sous.celery import app

log = logging.getLogger(__name__)

PROCESS_TASK = "integrations.process_webhook_event"  # one event (sent by older releases)
DRAIN_TASK = "integrations.process_webhook_events"
WAKE_KEY = "sous:webhooks:wake"
WAKE_MS = 1000
# Refused notifications are counted per provider and hour, for operators (integrations_status).
REFUSED_WINDOW = 3600


@dataclass(frozen=True)
class Answer:
    status: int
    stored: WebhookEvent | None = None


def receive(provider: Provider, headers, body: bytes) -> Answer:
    keys = apps.webhook_keys(provider.key)
    url = apps.webhook_url(provider.key)
    if not keys or not provider.webhook_signature_valid(headers, body, url=url, keys=keys):
        refused = count_refused(provider.key)
        log.warning(
            "integrations.webhook.refused",
            extra={"provider": provider.key, "refused_this_hour": refused, "bytes": len(body)},
        )
        return Answer(403)
    try:
        notification = provider.read_notification(body)
    except InvalidNotification as exc:
        # Signed by the provider, yet unreadable: answering an error would only make it send
        # the same bytes again for days. Kept for engineers.
        log.warning("integrations.webhook.unreadable", extra={"provider": provider.key})
        event = WebhookEvent.objects.create(
            provider=provider.key,
            event_id=f"unreadable-{timezone.now().timestamp()}",
            body=body,
            state=WebhookEvent.State.INVALID,
            detail=str(exc)[:300],
        )
        return Answer(200, event)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider.key,
                event_id=notification.event_id[:200],
                event_type=notification.type[:100],
                account_id=notification.account_id[:200],
                occurred_at=notification.occurred_at,
                body=body,
            )
            transaction.on_commit(wake)
    except IntegrityError:
        return Answer(200)  # a redelivery of an event already stored: nothing to do
    return Answer(200, event)


def wake() -> None:
    """Ask for a drain of the stored events, unless one was asked for within WAKE_MS: under a
    burst, one task takes hundreds of events (process.drain) instead of a task per event.
    A broker or Redis that is down leaves them Received for beat's sweep."""
    try:
        if redis_client.client().set(WAKE_KEY, 1, nx=True, px=WAKE_MS):
            app.send_task(DRAIN_TASK)
    except Exception:  # noqa: BLE001 - the events are stored: the sweep processes them later
        log.warning("integrations.webhook.dispatch_failed", exc_info=True)


def drained() -> None:
    """Called by a drain that found nothing more: events stored from now on ask for their own.
    The drain then looks once more, for those stored while the key still said it was coming."""
    try:
        redis_client.client().delete(WAKE_KEY)
    except Exception:  # noqa: BLE001 - the key lapses on its own within WAKE_MS
        log.warning("integrations.webhook.wake_reset_failed", exc_info=True)


def _refused_key(provider_key: str) -> str:
    hour = int(timezone.now().timestamp()) // REFUSED_WINDOW
    return f"sous:webhooks:refused:{provider_key}:{hour}"


def count_refused(provider_key: str) -> int:
    key = _refused_key(provider_key)
    try:
        cache.add(key, 0, timeout=REFUSED_WINDOW * 2)
        return cache.incr(key)
    except Exception:  # noqa: BLE001 - Redis down or the key gone: counted in the log only
        return 0


def refused_this_hour(provider_key: str) -> int:
    return cache.get(_refused_key(provider_key)) or 0
