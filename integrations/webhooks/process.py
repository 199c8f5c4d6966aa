"""Processing a stored notification: route it to the connections of its account, and turn it
into what it asks for (jobs through the engine's triggers, or Error when access was revoked).

Runs in a task. Safe to run twice for one event: the jobs it asks for coalesce with the ones
already asked for, and marking Error twice records it once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from integrations.jobs import control, triggers
from integrations.models import IntegrationConfig, IntegrationEvent, SyncJob, WebhookEvent
from integrations.services import apps, status
from integrations.sync import Counts
from providers.base import InvalidNotification
from providers.records.notifications import MissedNotification
from providers.records.tally import Tally

log = logging.getLogger(__name__)


def process(event_pk: int) -> None:
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_pk, state=WebhookEvent.State.RECEIVED)
            .first()
        )
        if event is None:
            return  # processed already, or another task has it now
        event.state, event.detail = _act(event)
        event.processed_at = timezone.now()
        event.save(update_fields=["state", "detail", "processed_at"])


def _act(event: WebhookEvent) -> tuple[str, str]:
    provider = apps.provider(event.provider)
    try:
        notification = provider.read_notification(bytes(event.body))
    except InvalidNotification as exc:
        return WebhookEvent.State.INVALID, str(exc)[:300]
    if event.config_id:  # came on a channel Sous opened for this one connection
        configs = list(
            IntegrationConfig.objects.filter(pk=event.config_id).select_related("organization")
        )
    else:
        configs = list(
            IntegrationConfig.objects.filter(
                provider=event.provider, external_account_id=notification.account_id
            ).select_related("organization")
        )
    if not configs:
        return WebhookEvent.State.UNROUTED, "No connection has this account."
    done = []
    for config in configs:
        if notification.revoked:
            reason = f"{status.REAUTH}: access was revoked in {provider.name}"
            status.mark_error(config, reason, kind=IntegrationEvent.Kind.ACCESS_REVOKED)
            control.cancel_active(config, reason=f"{provider.name} access was revoked")
            done.append(f"{config.organization.slug}: re-auth required")
            continue
        if config.in_error:
            done.append(f"{config.organization.slug}: skipped (re-auth required)")
            continue
        for request in notification.requests:
            job, created = triggers.request(
                config,
                request.action,
                request.params,
                trigger=SyncJob.Trigger.WEBHOOK,
                detail=request.detail,
            )
            done.append(
                f"{config.organization.slug}: {'job' if created else 'joined job'} {job.pk}"
            )
    log.info(
        "integrations.webhook.processed",
        extra={"provider": event.provider, "event_type": event.event_type, "event": event.event_id},
    )
    return WebhookEvent.State.PROCESSED, "; ".join(done)[:300] or "Nothing to do."


def process_stale(older_than_seconds: int = 120) -> int:
    """Events left Received (their task was lost, or never sent while the broker was down)
    are processed here, by beat."""
    limit = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = list(
        WebhookEvent.objects.filter(state=WebhookEvent.State.RECEIVED, received_at__lt=limit)
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )
    for pk in stale:
        process(pk)
    return len(stale)


def import_missed(organization, source: str, records: list[MissedNotification]) -> Counts:
    """The engine's importer for events read from a provider's feed: each one not received yet
    is stored and processed as if delivered (a redelivery later is then a duplicate)."""
    missed = 0
    for record in records:
        event, created = WebhookEvent.objects.get_or_create(
            provider=source,
            event_id=record.event_id[:200],
            defaults={"body": record.body, "detail": "Found in the provider's events feed."},
        )
        if not created:
            continue
        missed += 1
        try:
            notification = apps.provider(source).read_notification(record.body)
        except InvalidNotification as exc:
            event.state, event.detail = WebhookEvent.State.INVALID, str(exc)[:300]
            event.save(update_fields=["state", "detail"])
            continue
        WebhookEvent.objects.filter(pk=event.pk).update(
            event_type=notification.type[:100],
            account_id=notification.account_id[:200],
            occurred_at=notification.occurred_at,
        )
        process(event.pk)
    return Counts(totals=Tally(events_read=len(records), events_missed=missed))
