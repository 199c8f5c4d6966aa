"""Deep jobs: split into chunk jobs that run in parallel, whose progress adds up on the parent.

A parent holds no lease and does no page work: its chunks are the work, and `outcome.roll_up`
finishes it once none of them is active.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from integrations.models import IntegrationConfig, SyncJob
from integrations.sync import Counts
from providers.base import Action

from . import events
from .dispatch import dispatch
from .states import Stop

_last_rolled_up: dict[str, float] = {}


def plan(job: SyncJob, config: IntegrationConfig, action: Action) -> bool:
    """Split a deep job into chunk jobs on its first run; True when the parent now waits."""
    if job.children.exists():
        # A redelivered parent: its children carry on by themselves; send any never sent.
        for child in job.children.filter(status=SyncJob.Status.QUEUED, celery_task_id=""):
            dispatch(child)
        return True
    chunks = action.plan(job.params, settings=config.settings, now=timezone.now())
    if len(chunks) <= 1:
        return False
    with transaction.atomic():
        # Under the parent's row lock: a cancel either lands first (no chunks are made) or
        # waits for them, and then stops them too.
        locked = SyncJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None or locked.cancel_requested or not locked.active:
            raise Stop
        children = SyncJob.objects.bulk_create(
            SyncJob(
                organization_id=job.organization_id,
                provider=job.provider,
                config=config,
                parent=job,
                kind=job.kind,
                params=chunk,
                requested_by_id=job.requested_by_id,
                trigger=job.trigger,
                trigger_detail=job.trigger_detail,
            )
            for chunk in chunks
        )
        SyncJob.objects.filter(pk=job.pk).update(
            progress_total=len(children), progress_unit=action.chunk_unit, progress_done=0
        )
    for child in children:
        dispatch(child)
    job.refresh_from_db()
    events.publish(job, force=True)
    return True


@dataclass
class Rollup:
    parent: SyncJob
    counts: Counts
    done: bool  # no chunk is active any more
    failed_error: str | None  # the first failed chunk's error
    cancelled: bool  # some chunk was cancelled


def aggregate(parent_id) -> Rollup | None:
    """Write the children's progress on the parent; None if the parent is no longer active."""
    with transaction.atomic():
        parent = SyncJob.objects.select_for_update().filter(pk=parent_id).first()
        if parent is None or not parent.active:
            return None
        action = events.action_of(parent)
        chunk_unit = action.chunk_unit if action else "chunks"
        children = list(
            parent.children.values(
                "status",
                "counts",
                "error",
                "progress_done",
                "progress_total",
                "progress_percent",
                "progress_unit",
            )
        )
        total = Counts()
        for child in children:
            total.add(Counts.from_json(child["counts"]))
        finished = [c for c in children if c["status"] not in SyncJob.ACTIVE]
        records = sum(c["progress_done"] for c in children)
        unit = next((c["progress_unit"] for c in children if c["progress_unit"]), "records")
        parent.counts = total.as_json()
        parent.progress_done = len(finished)
        parent.progress_total = len(children)
        parent.progress_percent = share_done(children)
        parent.progress_unit = chunk_unit
        parent.progress_message = (
            f"{len(finished)} of {len(children)} {chunk_unit} · {records:,} {unit}"
        )
        parent.heartbeat_at = timezone.now()
        parent.save(
            update_fields=[
                "counts",
                "progress_done",
                "progress_total",
                "progress_percent",
                "progress_unit",
                "progress_message",
                "heartbeat_at",
            ]
        )
    done = len(finished) == len(children)
    if done:
        _last_rolled_up.pop(str(parent_id), None)
    failed = next((c for c in children if c["status"] == SyncJob.Status.FAILED), None)
    return Rollup(
        parent=parent,
        counts=total,
        done=done,
        failed_error=failed["error"] if failed else None,
        cancelled=any(c["status"] == SyncJob.Status.CANCELLED for c in children),
    )


def share_done(children: list[dict]) -> int:
    """Percent of a deep sync done: each chunk counts for its own share of its work."""
    if not children:
        return 0
    done = 0.0
    for child in children:
        if child["status"] not in SyncJob.ACTIVE:
            done += 1
        elif child["progress_percent"] is not None:
            done += child["progress_percent"] / 100
        elif child["progress_total"]:
            done += min(1.0, child["progress_done"] / child["progress_total"])
    share = int(100 * done / len(children))
    return 99 if share == 100 and done < len(children) else share


def roll_up_due(parent_id) -> bool:
    """True at most once per events.PUBLISH_INTERVAL for a parent (per worker process): its
    aggregate is only for display (a finished chunk always rolls up), not worth its queries
    and row lock on every page of every chunk."""
    key, now = str(parent_id), time.monotonic()
    if now - _last_rolled_up.get(key, 0.0) < events.PUBLISH_INTERVAL:
        return False
    _last_rolled_up[key] = now
    return True
