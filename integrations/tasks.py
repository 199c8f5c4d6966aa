"""Celery tasks of the integrations domain (queue "integrations"). They carry ids only.

Names are explicit so routing (`integrations.*` -> the integrations queue) never depends on
module paths.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import broker
from .models import IntegrationConfig, SyncJob
from .services import jobs, tokens
from .sync import runner

log = logging.getLogger(__name__)

# Square advises refreshing at least every 7 days (its access tokens live 30): refresh any
# token older than this, so an idle connection never lapses.
REFRESH_EVERY = timedelta(days=6)
# The queues our tasks go to (settings.CELERY_TASK_ROUTES).
QUEUES = ("integrations",)


@shared_task(name="integrations.run_job", ignore_result=False)
def run_job(job_id: str) -> None:
    runner.run(job_id)


@shared_task(name="integrations.refresh_tokens")
def refresh_tokens() -> dict:
    """Beat: refresh tokens close to expiry, or older than REFRESH_EVERY."""
    now = timezone.now()
    refreshed = failed = 0
    due = IntegrationConfig.objects.filter(status=IntegrationConfig.Status.CONNECTED)
    for config in due:
        age_limit = (
            config.token_refreshed_at is None or config.token_refreshed_at < now - REFRESH_EVERY
        )
        if not (age_limit or tokens.needs_refresh(config, margin=timedelta(hours=2))):
            continue
        try:
            if tokens.refresh(config, actor_label="schedule", margin=timedelta(days=365 * 10)):
                refreshed += 1
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the others
            failed += 1
            log.warning("integrations.refresh_tokens.failed", extra={"config_id": config.pk})
    return {"refreshed": refreshed, "failed": failed}


# A job whose worker died this many times without a page saved in between is failed rather
# than sent again: its next page is what kills the worker.
MAX_RECOVERIES = 3
WORKER_LOST = "Worker lost, resuming…"


@shared_task(name="integrations.resume_orphaned_jobs")
def resume_orphaned_jobs() -> int:
    """Beat: send again, at once, a running job whose worker died (killed, out of memory,
    its machine gone) instead of leaving staff at a frozen bar until the broker redelivers
    its task (the visibility timeout, 15 minutes).

    Orphaned: no heartbeat and nobody holding its lock for longer than the lock lives. A
    parent waiting for its chunks holds no lock and is left alone (its chunks are the work).
    The job goes back to Queued until a worker takes it; it resumes from its checkpoint, and
    a redelivered duplicate of the dead task finds it locked or finished.
    """
    limit = timezone.now() - timedelta(seconds=settings.INTEGRATIONS_JOB_LOCK_SECONDS)
    orphans = SyncJob.objects.filter(
        status=SyncJob.Status.RUNNING, heartbeat_at__lt=limit, children__isnull=True
    )
    resumed = 0
    for job in orphans:
        if runner.is_being_run(job.pk):
            continue
        if job.recoveries >= MAX_RECOVERIES:
            runner.fail_stale(job)
            continue
        with transaction.atomic():
            taken = SyncJob.objects.filter(
                pk=job.pk, status=SyncJob.Status.RUNNING, heartbeat_at=job.heartbeat_at
            ).update(status=SyncJob.Status.QUEUED, recoveries=F("recoveries") + 1)
            if taken:
                jobs.dispatch(job)
        if taken:
            runner.note(job, WORKER_LOST)
            log.warning(
                "integrations.job.resumed",
                extra={"job_id": str(job.pk), "kind": job.kind, "heartbeat_at": job.heartbeat_at},
            )
            resumed += 1
    return resumed


@shared_task(name="integrations.resend_lost_jobs")
def resend_lost_jobs() -> int:
    """Beat: send again a queued job whose task is nowhere: not waiting in the broker, not
    delivered to a worker, no lease held, and sent longer ago than INTEGRATIONS_LOST_JOB_SECONDS
    (its message was lost: Redis restarted without persistence, or it could not be sent).

    Safe even if the message only looked lost: the job's lock lets one task run it, and a task
    that finds its job finished or running elsewhere does nothing.
    """
    limit = timezone.now() - timedelta(seconds=settings.INTEGRATIONS_LOST_JOB_SECONDS)
    sent_long_ago = Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, created_at__lt=limit)
    candidates = list(
        SyncJob.objects.filter(sent_long_ago, status=SyncJob.Status.QUEUED, children__isnull=True)
    )
    if not candidates:
        return 0
    held = broker.held_task_ids(QUEUES)
    resent = 0
    for job in candidates:
        if job.celery_task_id in held or runner.is_being_run(job.pk):
            continue
        with transaction.atomic():
            taken = SyncJob.objects.filter(
                pk=job.pk, status=SyncJob.Status.QUEUED, heartbeat_at=job.heartbeat_at
            ).update(progress_message="")
            if taken:
                jobs.dispatch(job)
        if taken:
            log.warning("integrations.job.resent", extra={"job_id": str(job.pk), "kind": job.kind})
            resent += 1
    return resent


@shared_task(name="integrations.reap_stale_jobs")
def reap_stale_jobs() -> int:
    """Beat: jobs whose worker vanished and whose task will not be redelivered are failed.

    A task is redelivered by the broker once its visibility timeout passes; a running job whose
    heartbeat is older than that (plus a margin) has no task left to finish it.
    """
    limit = timezone.now() - timedelta(
        seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + 300
    )
    stale = SyncJob.objects.filter(status=SyncJob.Status.RUNNING, heartbeat_at__lt=limit)
    reaped = 0
    for job in stale:
        if runner.is_being_run(job.pk):
            continue  # its worker renews the lock: alive, on a very slow page
        runner.fail_stale(job)
        reaped += 1
    return reaped
