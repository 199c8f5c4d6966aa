"""Stopping jobs: staff's Cancel, and every job of a connection on disconnect or account switch.

Queued jobs stop at once; running ones at their next page (counts so far are kept).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from integrations.models import IntegrationConfig, SyncJob
from integrations.sync import Counts

from . import events, outcome, states

Status = SyncJob.Status


def active_for(config: IntegrationConfig) -> QuerySet[SyncJob]:
    """The connection's active top-level jobs (chunks are shown through their parent)."""
    return SyncJob.objects.filter(config=config, parent__isnull=True, status__in=SyncJob.ACTIVE)


def cancel(job: SyncJob) -> None:
    _stop(SyncJob.objects.filter(pk=job.pk) | SyncJob.objects.filter(parent=job), "Cancelled")
    job.refresh_from_db()


def cancel_active(config: IntegrationConfig, *, reason: str) -> int:
    """Disconnect and account switches: every active job of the connection stops."""
    return _stop(SyncJob.objects.filter(config=config), reason)


def _stop(family: QuerySet[SyncJob], reason: str) -> int:
    now = timezone.now()
    active = family.filter(status__in=SyncJob.ACTIVE)
    parents = list(active.filter(parent__isnull=True, children__isnull=False).distinct())
    running = active.filter(status=Status.RUNNING).update(cancel_requested=True)
    # Queued covers a job between two slices of its work: its counts so far go in its summary.
    queued = list(active.filter(status=Status.QUEUED))
    for job in queued:
        summary = outcome.stopped_summary(job, Counts.from_json(job.counts), reason)
        moved = states.move_one(
            job,
            [Status.QUEUED],
            Status.CANCELLED,
            finished_at=now,
            summary=summary[:300],
            cancel_requested=True,
        )
        if moved and job.parent_id is None:
            events.publish(job, force=True)
    # A deep sync whose chunks were all waiting has no chunk left to finish it.
    for parent in parents:
        outcome.roll_up(parent.pk)
    return running + len(queued)
