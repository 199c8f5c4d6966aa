"""Jobs that nothing would ever finish are sent again or failed (beat runs these).

- A running job whose worker died (killed, out of memory, its machine gone): its lease lapses
  and it is sent again at once, instead of waiting for the broker to redeliver its task (the
  visibility timeout, 15 minutes).
- A queued job whose message was lost (Redis restarted without persistence, a failed send).
- A running job with no task left at all, long after its last heartbeat: failed.

All of it is safe when a job only looked dead: its lease lets one task run it, and a task that
finds its job finished or running elsewhere does nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.models import SyncJob

from . import broker, events, lease, outcome, states
from .dispatch import dispatch

log = logging.getLogger(__name__)

Status = SyncJob.Status

# The queues our tasks go to (settings.CELERY_TASK_ROUTES).
QUEUES = ("integrations",)
# A job whose worker died this many times without a page saved in between is failed rather
# than sent again: its next page is what kills the worker.
MAX_RECOVERIES = 3
WORKER_LOST = "Worker lost, resuming…"


def resume_orphaned() -> int:
    """Send again a running job with no heartbeat and nobody holding its lease for longer than
    the lease lives. A parent waiting for its chunks holds no lease and is left alone (its
    chunks are the work). It resumes from its checkpoint."""
    limit = timezone.now() - timedelta(seconds=settings.INTEGRATIONS_JOB_LOCK_SECONDS)
    orphans = SyncJob.objects.filter(
        status=Status.RUNNING, heartbeat_at__lt=limit, children__isnull=True
    )
    resumed = 0
    for job in orphans:
        if lease.is_held(job.pk):
            continue
        if job.recoveries >= MAX_RECOVERIES:
            outcome.fail_stale(job)
            continue
        with transaction.atomic():
            taken = states.move(
                SyncJob.objects.filter(pk=job.pk, heartbeat_at=job.heartbeat_at),
                [Status.RUNNING],
                Status.QUEUED,
                recoveries=F("recoveries") + 1,
            )
            if taken:
                dispatch(job)
        if taken:
            events.note(job, WORKER_LOST)
            log.warning(
                "integrations.job.resumed",
                extra={"job_id": str(job.pk), "kind": job.kind, "heartbeat_at": job.heartbeat_at},
            )
            resumed += 1
    return resumed


def resend_lost() -> int:
    """Send again a queued job whose task is nowhere: not waiting in the broker, not delivered
    to a worker, no lease held, and sent longer ago than INTEGRATIONS_LOST_JOB_SECONDS."""
    limit = timezone.now() - timedelta(seconds=settings.INTEGRATIONS_LOST_JOB_SECONDS)
    sent_long_ago = Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, created_at__lt=limit)
    candidates = list(
        SyncJob.objects.filter(sent_long_ago, status=Status.QUEUED, children__isnull=True)
    )
    if not candidates:
        return 0
    held = broker.held_task_ids(QUEUES)
    resent = 0
    for job in candidates:
        if job.celery_task_id in held or lease.is_held(job.pk):
            continue
        with transaction.atomic():
            taken = SyncJob.objects.filter(
                pk=job.pk, status=Status.QUEUED, heartbeat_at=job.heartbeat_at
            ).update(progress_message="")
            if taken:
                dispatch(job)
        if taken:
            log.warning("integrations.job.resent", extra={"job_id": str(job.pk), "kind": job.kind})
            resent += 1
    return resent


def reap_stale() -> int:
    """Fail running jobs whose task will not be redelivered: a heartbeat older than the
    broker's visibility timeout (plus a margin) and no lease held."""
    limit = timezone.now() - timedelta(
        seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + 300
    )
    reaped = 0
    for job in SyncJob.objects.filter(status=Status.RUNNING, heartbeat_at__lt=limit):
        if lease.is_held(job.pk):
            continue  # its worker renews the lease: alive, on a very slow page
        outcome.fail_stale(job)
        reaped += 1
    return reaped
