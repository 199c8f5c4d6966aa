"""What open pages are told about jobs: payloads, labels and a throttle on progress events.

Payloads carry ids, states, counts and messages for staff, never tokens. A deep sync's chunks
are never published: the page shows their parent's one bar (rolled up), and a job it does not
know makes it redraw the drawer.
"""

from __future__ import annotations

import time

from django.utils import timezone

from integrations import progress
from integrations.models import SyncJob
from integrations.services import apps
from providers import registry
from providers.base import Action

PUBLISH_INTERVAL = 0.4  # seconds between progress events of one job (the last always goes)

_last_published: dict[str, float] = {}


def payload(job: SyncJob) -> dict:
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


# A job waiting for the running one of its kind says so on its bar; the running one starts it
# when it ends (outcome), or it looks again itself (execute).
WAITING_FOR_RUNNING = "Waiting for the sync before it to finish…"


def publish(job: SyncJob, *, force: bool = False) -> None:
    """At most one event per PUBLISH_INTERVAL per job; `force` and final states always go."""
    if job.parent_id:
        return
    key = str(job.id)
    now = time.monotonic()
    if not force and job.active and now - _last_published.get(key, 0.0) < PUBLISH_INTERVAL:
        return
    _last_published[key] = now
    if not job.active:
        _last_published.pop(key, None)
    progress.publish(job.organization_id, payload(job))


def note(job: SyncJob, message: str) -> None:
    """A word on the job's bar (its parent's, for a chunk): a retry, a lost worker."""
    job.progress_message = message[:200]
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["progress_message", "heartbeat_at"])
    if job.parent_id:
        # The page shows the parent's bar: the note goes there until the next roll-up.
        parents = SyncJob.objects.filter(pk=job.parent_id, status__in=SyncJob.ACTIVE)
        if parents.update(progress_message=job.progress_message):
            publish(parents.get(), force=True)
        return
    publish(job, force=True)


def action_of(job: SyncJob) -> Action | None:
    """The action a job runs; None for an action or provider since removed."""
    try:
        return apps.provider(job.provider).action(job.kind.partition(".")[2])
    except registry.UnknownProvider:
        return None


def kind_label(job: SyncJob) -> str:
    """What a job ran, in words ("Sales sync"); its raw kind only for an action since removed."""
    action = action_of(job)
    return action.label if action is not None else job.kind
