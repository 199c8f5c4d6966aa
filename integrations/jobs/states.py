"""The SyncJob state machine: every change of a job's status goes through `move`.

    queued ──▶ running ──▶ succeeded
      │ ▲        │  └────▶ failed
      │ └────────┘  └────▶ cancelled
      └──▶ failed, cancelled

Running goes back to queued between two time slices and when a dead worker's job is sent
again; running to running is a page saved by a task that took the job back after its lease
lapsed. Finished jobs never move again, so a late duplicate task cannot rewrite an outcome.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from integrations.models import SyncJob

Status = SyncJob.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.QUEUED: frozenset({Status.RUNNING, Status.FAILED, Status.CANCELLED}),
    Status.RUNNING: frozenset(
        {Status.RUNNING, Status.QUEUED, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED}
    ),
    Status.SUCCEEDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELLED: frozenset(),
}
FINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED})


class IllegalTransition(ValueError):
    """Code asked for a move the table does not allow: a bug, never a race."""


def allowed(source: str, target: str) -> bool:
    return target in TRANSITIONS[source]


def sources(target: str) -> tuple[str, ...]:
    """The states a job may move to `target` from."""
    return tuple(source for source, targets in TRANSITIONS.items() if target in targets)


def move(jobs: QuerySet[SyncJob], source: Iterable[str], target: str, **fields) -> int:
    """Move the jobs that are in one of `source` states now to `target`, with `fields`.

    One conditional UPDATE: a job whose state changed meanwhile (another task finished it,
    staff cancelled it) is left alone, and the count says how many moved. Raises
    IllegalTransition when any source state may not move to `target`.
    """
    source = tuple(source)
    illegal = [state for state in source if not allowed(state, target)]
    if illegal or not source:
        raise IllegalTransition(f"{', '.join(illegal) or 'nothing'} -> {target}")
    return jobs.filter(status__in=source).update(status=target, **fields)


def move_one(job: SyncJob, source: Iterable[str], target: str, **fields) -> bool:
    """`move` for one job; on success the instance holds the new state and fields too."""
    moved = move(SyncJob.objects.filter(pk=job.pk), source, target, **fields)
    if moved:
        job.status = target
        for name, value in fields.items():
            if not hasattr(value, "resolve_expression"):
                setattr(job, name, value)
    return bool(moved)


class Stop(Exception):
    """Leave the job as it is: cancelled, handed to another task, or already finished."""
