"""Finishing jobs: succeeded, failed or cancelled, once, with what staff read about it.

A finished chunk rolls up into its parent, which finishes here too once no chunk is active.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import transaction
from django.utils import timezone

from integrations import progress
from integrations.models import IntegrationConfig, SyncJob
from integrations.services import alerting, ledger
from integrations.sync import Counts
from providers.records.tally import Tally

from . import dispatch, events, fanout, states
from .states import Stop

log = logging.getLogger(__name__)

Status = SyncJob.Status


def finish(
    job: SyncJob,
    state: str,
    *,
    summary: str = "",
    error: str = "",
    detail: str = "",
    counts: Counts | None = None,
) -> None:
    """Finish an active job; raises Stop if it had finished already (a late duplicate task
    cannot overwrite the outcome) or, to succeed, is not running (sent to another task)."""
    fields = {
        "finished_at": timezone.now(),
        "summary": summary[:300],
        "error": error[:300],
        "error_detail": detail,
    }
    if counts is not None:
        fields["counts"] = counts.as_json()
    if not states.move_one(job, states.sources(state), state, **fields):
        raise Stop
    job.refresh_from_db()
    if job.parent_id:
        if state == Status.FAILED:
            # One failed chunk fails the deep sync: the others stop at their next page.
            SyncJob.objects.filter(parent_id=job.parent_id, status__in=SyncJob.ACTIVE).update(
                cancel_requested=True
            )
        roll_up(job.parent_id, finished_child=True)
    else:
        events.publish(job, force=True)
        alerting.job_finished(job)
        _start_next(job)


def _start_next(job: SyncJob) -> None:
    """The job of this kind waiting behind this one starts now, not at its next look (up to
    execute.WAIT_FOR_RUNNING_SECONDS later: most of a webhook's change-to-row time)."""
    waiting = (
        SyncJob.objects.filter(
            config_id=job.config_id,
            kind=job.kind,
            parent__isnull=True,
            status=Status.QUEUED,
            started_at__isnull=True,
            progress_message=events.WAITING_FOR_RUNNING,
        )
        .order_by("created_at")
        .first()
    )
    if waiting is not None:
        dispatch.dispatch(waiting)


def fail(job: SyncJob, message: str, detail: str) -> None:
    log.warning(
        "integrations.job.failed",
        extra={"job_id": str(job.id), "kind": job.kind, "detail": detail[:300]},
    )
    finish(job, Status.FAILED, error=message, detail=detail)
    ledger.mark_failed(job)  # the sales days it was reading say so in the calendar


def fail_stale(job: SyncJob) -> None:
    with contextlib.suppress(Stop):
        fail(
            job,
            "This sync stopped unexpectedly (its worker went away). Start it again; it will "
            "pick up what is already imported.",
            f"no heartbeat since {job.heartbeat_at}",
        )


def cancelled(job: SyncJob, counts: Counts) -> None:
    finish(job, Status.CANCELLED, summary=stopped_summary(job, counts), counts=counts)


def stopped_summary(job: SyncJob, counts: Counts, reason: str = "Cancelled") -> str:
    """ "Cancelled: Sales synced: 1,234 orders (…)" for a job stopped after some work, else
    the reason alone."""
    action = events.action_of(job)
    if action is None or counts.totals == Tally():
        return reason
    return f"{reason}: {action.summary(counts.totals)}"


def succeed(job: SyncJob, config: IntegrationConfig | None, counts: Counts, cursor) -> None:
    action = events.action_of(job)
    # "Last synced" first, so a page reacting to the finished event already shows it.
    if job.parent_id is None and config is not None:
        mark_synced(config, job, cursor)
    summary = action.summary(counts.totals) if action else "Finished"
    finish(job, Status.SUCCEEDED, summary=summary, counts=counts)


def mark_synced(config: IntegrationConfig, job: SyncJob, cursor) -> None:
    """Record a successful top-level job on its connection: "Last synced" and its cursor."""
    with transaction.atomic():
        locked = IntegrationConfig.objects.select_for_update().filter(pk=config.pk).first()
        if locked is None:
            return  # disconnected meanwhile
        if SyncJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
            # Stopped by an account switch (under this row lock) or by staff: its cursor and
            # "Last synced" would describe what the connection no longer reads.
            return
        now = timezone.now()
        locked.last_synced = {**locked.last_synced, job.kind: now.isoformat()}
        locked.last_synced_at = now
        if cursor is not None:
            locked.cursors = {**locked.cursors, job.kind: cursor}
        locked.save(update_fields=["last_synced", "last_synced_at", "cursors", "updated_at"])
    progress.publish(locked.organization_id, progress.connection_payload(locked))


def roll_up(parent_id, *, finished_child: bool = False) -> None:
    """Add the chunks' progress up on the parent; finish it once none is active."""
    rollup = fanout.aggregate(parent_id)
    if rollup is None:
        return
    parent = rollup.parent
    if not rollup.done:
        events.publish(parent, force=finished_child)
        return
    with contextlib.suppress(Stop):
        if rollup.failed_error is not None:
            finish(parent, Status.FAILED, error=rollup.failed_error, counts=rollup.counts)
        elif rollup.cancelled:
            finish(parent, Status.CANCELLED, summary="Cancelled", counts=rollup.counts)
        else:
            succeed(parent, parent.config, rollup.counts, None)
