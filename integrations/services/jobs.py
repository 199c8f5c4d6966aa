"""Requesting, dispatching, cancelling and describing SyncJobs (the job machinery's front door).

Requests never wait for provider work: they create the job, send a task carrying only its id
once the transaction commits, and return.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from integrations import progress
from integrations.models import IntegrationConfig, IntegrationEvent, SyncJob
from integrations.sync import Counts
from providers import registry

from . import apps, events

log = logging.getLogger(__name__)


def request(
    config: IntegrationConfig,
    action_key: str,
    params: dict,
    *,
    user=None,
    trigger: str = SyncJob.Trigger.MANUAL,
    detail: str = "",
) -> tuple[SyncJob, bool]:
    """The new job, or the active one that does this work too (created=False).

    Per connection and kind, one job runs at a time and the next waits (the runner holds it
    back): a request the running job does not cover merges into the waiting one where the
    action can merge them (two ranges become one), so a burst of requests makes at most two
    jobs. `trigger` and `detail` record what asked (SyncJob.Trigger), `user` who did."""
    provider = apps.provider(config.provider)
    action = provider.action(action_key)
    if action is None:
        raise LookupError(action_key)
    kind = action.kind(provider.key)
    with transaction.atomic():
        # Serialise requests for one connection so two clicks cannot both create a job.
        IntegrationConfig.objects.select_for_update().get(pk=config.pk)
        siblings = list(active_for(config).filter(kind=kind).order_by("created_at"))
        for active in siblings:
            if action.overlaps(active.params, params):
                return active, False
        for waiting in (job for job in siblings if job.started_at is None):
            merged = action.merge(waiting.params, params)
            # Only while it has not started: the runner reads its params when it starts.
            if merged is not None and SyncJob.objects.filter(
                pk=waiting.pk, status=SyncJob.Status.QUEUED, started_at__isnull=True
            ).update(params=merged):
                waiting.params = merged
                return waiting, False
        job = SyncJob.objects.create(
            organization_id=config.organization_id,
            provider=config.provider,
            config=config,
            kind=kind,
            params=params,
            requested_by=user if user is not None and user.is_authenticated else None,
            trigger=trigger,
            trigger_detail=detail[:200],
        )
        events.record(
            config,
            IntegrationEvent.Kind.SYNC_REQUESTED,
            action.label,
            actor=user,
            actor_label="" if trigger == SyncJob.Trigger.MANUAL else trigger,
        )
        dispatch(job)
    progress.publish(job.organization_id, job_payload(job))
    return job, True


# Shown on a job whose task could not be sent: beat's resend_lost_jobs sends it again.
WAITING_FOR_QUEUE = "Waiting for the job queue (unreachable just now)…"


def dispatch(job: SyncJob, *, countdown: float | None = None) -> None:
    """Send the job's task after the current transaction commits (the worker must see it).

    A send that fails (the broker is down) leaves the job Queued, saying so, instead of
    failing the request: the sweep sends it again once the broker answers.
    """
    from integrations.tasks import run_job

    task_id = str(uuid.uuid4())
    sent_at = timezone.now()
    SyncJob.objects.filter(pk=job.pk).update(celery_task_id=task_id, heartbeat_at=sent_at)
    job.celery_task_id, job.heartbeat_at = task_id, sent_at
    job.dispatch_failed = False

    def send() -> None:
        try:
            run_job.apply_async(args=[str(job.pk)], task_id=task_id, countdown=countdown)
        except (KombuError, RedisError, OSError):
            log.warning("integrations.job.dispatch_failed", exc_info=True, extra={"job_id": job.pk})
            job.dispatch_failed = True
            SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.QUEUED).update(
                progress_message=WAITING_FOR_QUEUE
            )

    transaction.on_commit(send)


def active_for(config: IntegrationConfig):
    return SyncJob.objects.filter(config=config, parent__isnull=True, status__in=SyncJob.ACTIVE)


def cancel(job: SyncJob) -> None:
    """Queued jobs stop at once; running ones at their next page (counts so far are kept)."""
    _stop(SyncJob.objects.filter(pk=job.pk) | SyncJob.objects.filter(parent=job), "Cancelled")
    job.refresh_from_db()


def cancel_active(config: IntegrationConfig, *, reason: str) -> int:
    """Disconnect and account switches: every active job of the connection stops."""
    return _stop(SyncJob.objects.filter(config=config), reason)


def _stop(family, reason: str) -> int:
    from integrations.sync import runner  # the runner sends jobs through this module

    now = timezone.now()
    active = family.filter(status__in=SyncJob.ACTIVE)
    parents = list(active.filter(parent__isnull=True, children__isnull=False).distinct())
    running = active.filter(status=SyncJob.Status.RUNNING).update(cancel_requested=True)
    # Queued covers a job between two slices of its work: its counts so far go in its summary.
    queued = list(active.filter(status=SyncJob.Status.QUEUED))
    for job in queued:
        SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.QUEUED).update(
            status=SyncJob.Status.CANCELLED,
            finished_at=now,
            summary=runner.stopped_summary(job, Counts.from_json(job.counts), reason)[:300],
            cancel_requested=True,
        )
        if job.parent_id is None:
            job.refresh_from_db()
            progress.publish(job.organization_id, job_payload(job))
    # A deep sync whose chunks were all waiting has no chunk left to finish it.
    for parent in parents:
        runner.roll_up(parent.pk)
    return running + len(queued)


def kind_label(job: SyncJob) -> str:
    """What a job ran, in words ("Sales sync"); its raw kind only for an action since removed."""
    try:
        action = apps.provider(job.provider).action(job.kind.partition(".")[2])
    except registry.UnknownProvider:
        action = None
    return action.label if action is not None else job.kind


def origin(job: SyncJob) -> str:
    """Who or what asked, in words: "Maria, manual", "Command (ops@web-1)"."""
    Trigger = SyncJob.Trigger
    if job.trigger == Trigger.MANUAL:
        user = job.requested_by
        who = user and (user.get_short_name() or user.email or user.get_username())
        return f"{who}, manual" if who else "Manual"
    name, detail = Trigger(job.trigger).label, job.trigger_detail
    if not detail:
        return name
    if job.trigger == Trigger.WEBHOOK:
        return f"{name}: {detail}"
    return f"{name} ({detail})"


def job_payload(job: SyncJob) -> dict:
    """What the page shows of a job: ids, state, progress and counts, never secrets."""
    return {
        "type": "job",
        "id": str(job.id),
        "provider": job.provider,
        "kind": job.kind,
        "status": job.status,
        "done": job.progress_done,
        "total": job.progress_total,
        "percent": job.percent,
        "unit": job.progress_unit,
        "message": job.progress_message,
        "counts": job.counts,
        "summary": job.summary,
        "error": job.error,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
