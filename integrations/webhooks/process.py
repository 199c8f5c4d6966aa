"""Processing stored notifications: route each to its connection(s), and turn what they ask for
into engine triggers (or Error, when access was revoked).

Runs in a task that drains every stored event in batches: a burst of notifications about the
same connection and kind asks the engine once, with their params merged (a hundred changed
orders become one BatchRetrieveOrders job), instead of once per event. Safe to run twice or at
once: events are claimed with SKIP LOCKED, the jobs asked for coalesce with those already asked
for, and marking Error twice records it once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from integrations.jobs import control, triggers
from integrations.models import IntegrationConfig, IntegrationEvent, SyncJob, WebhookEvent
from integrations.services import apps, status
from integrations.sync import Counts
from providers.base import InvalidNotification, JobRequest
from providers.records.notifications import MissedNotification
from providers.records.tally import Tally

log = logging.getLogger(__name__)

BATCH = 200  # events claimed per transaction


def process(event_pk: int) -> None:
    """One event (a task sent before batches, an event found in the provider's feed)."""
    _claim_and_act(WebhookEvent.objects.filter(pk=event_pk))


def drain(batch: int = BATCH) -> int:
    """Every event still Received, oldest first, a batch per transaction. Returns how many."""
    done = 0
    while claimed := _claim_and_act(WebhookEvent.objects.all(), batch):
        done += claimed
    return done


def _claim_and_act(events, limit: int = 1) -> int:
    with transaction.atomic():
        claimed = list(
            events.select_for_update(skip_locked=True)
            .filter(state=WebhookEvent.State.RECEIVED)
            .order_by("received_at", "pk")[:limit]
        )
        if not claimed:
            return 0  # processed already, or another task has them now
        _Batch().act(claimed)
        now = timezone.now()
        for event in claimed:
            event.processed_at = now
        WebhookEvent.objects.bulk_update(claimed, ["state", "detail", "processed_at"])
    return len(claimed)


@dataclass
class _Asked:
    """What one batch asks of one connection and action: params merged where the action can."""

    config: IntegrationConfig
    action: str
    requests: list[JobRequest] = field(default_factory=list)
    events: list[WebhookEvent] = field(default_factory=list)


class _Batch:
    def __init__(self) -> None:
        self.asked: dict[tuple[int, str], _Asked] = {}
        self.configs: dict[tuple, list[IntegrationConfig]] = {}

    def act(self, events: list[WebhookEvent]) -> None:
        notes: dict[int, list[str]] = defaultdict(list)
        for event in events:
            event.state, event.detail = self._read(event, notes[event.pk])
        for asked in self.asked.values():
            self._request(asked, notes)
        for event in events:
            if event.state == WebhookEvent.State.PROCESSED:
                event.detail = "; ".join(notes[event.pk])[:300] or "Nothing to do."
        log.info("integrations.webhook.processed", extra={"events": len(events)})

    def _read(self, event: WebhookEvent, notes: list[str]) -> tuple[str, str]:
        provider = apps.provider(event.provider)
        try:
            notification = provider.read_notification(bytes(event.body))
        except InvalidNotification as exc:
            return WebhookEvent.State.INVALID, str(exc)[:300]
        configs = self._route(event, notification.account_id)
        if not configs:
            return WebhookEvent.State.UNROUTED, "No connection has this account."
        for config in configs:
            if notification.revoked:
                reason = f"{status.REAUTH}: access was revoked in {provider.name}"
                status.mark_error(config, reason, kind=IntegrationEvent.Kind.ACCESS_REVOKED)
                control.cancel_active(config, reason=f"{provider.name} access was revoked")
                notes.append(f"{config.organization.slug}: re-auth required")
                continue
            for request in notification.requests:
                asked = self.asked.setdefault(
                    (config.pk, request.action), _Asked(config, request.action)
                )
                asked.requests.append(request)
                asked.events.append(event)
        return WebhookEvent.State.PROCESSED, ""

    def _route(self, event: WebhookEvent, account_id: str) -> list[IntegrationConfig]:
        """The connections an event is for, looked up once per batch."""
        if event.config_id:  # came on a channel Sous opened for this one connection
            key, found = ("config", event.config_id), {"pk": event.config_id}
        else:
            key = ("account", event.provider, account_id)
            found = {"provider": event.provider, "external_account_id": account_id}
        if key not in self.configs:
            self.configs[key] = list(
                IntegrationConfig.objects.filter(**found)
                .select_related("organization")
                .order_by("pk")
            )
        return self.configs[key]

    def _request(self, asked: _Asked, notes: dict[int, list[str]]) -> None:
        config = asked.config
        config.refresh_from_db(fields=["status", "last_error"])
        slug = config.organization.slug
        if config.in_error:  # re-auth required (maybe by an event of this very batch)
            for event in asked.events:
                notes[event.pk].append(f"{slug}: skipped (re-auth required)")
            return
        action = apps.provider(config.provider).action(asked.action)
        for params, detail, events in _merged(action, asked):
            job, created = triggers.request(
                config, asked.action, params, trigger=SyncJob.Trigger.WEBHOOK, detail=detail
            )
            for event in events:
                notes[event.pk].append(f"{slug}: {'job' if created else 'joined job'} {job.pk}")


def _merged(action, asked: _Asked):
    """The batch's requests as few as the action allows: (params, detail, events) each."""
    groups: list[tuple[dict, str, list[WebhookEvent]]] = []
    for request, event in zip(asked.requests, asked.events, strict=True):
        if groups:
            params, detail, events = groups[-1]
            if params == request.params:  # the same work asked again (a catalog change)
                groups[-1] = (params, detail, [*events, event])
                continue
            merged = action.merge(params, request.params) if action is not None else None
            if merged is not None:
                detail = action.describe_request(merged) or detail
                groups[-1] = (merged, detail, [*events, event])
                continue
        groups.append((request.params, request.detail, [event]))
    return groups


def process_stale(older_than_seconds: int = 120) -> int:
    """Beat's sweep: events left Received (their task was lost, or never sent while the broker
    was down). A burst's own drain takes the fresh ones."""
    limit = timezone.now() - timedelta(seconds=older_than_seconds)
    done = 0
    while claimed := _claim_and_act(WebhookEvent.objects.filter(received_at__lt=limit), BATCH):
        done += claimed
    return done


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
