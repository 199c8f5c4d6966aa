"""Running a SyncJob: page through the provider, save each page, checkpoint, report progress.

A task runs one job for at most a time slice, then re-queues itself and exits, so no task
outlives the broker's visibility timeout; a task redelivered after a worker died starts from
the saved checkpoint, and every write is an idempotent upsert, so nothing is duplicated.
A per-job Redis lock keeps two workers from running the same job at once.

Provider failures: an access token refused as expired is refreshed once and the job resumes
from its checkpoint; 429 and outages that outlast the HTTP layer's own retries back off and
resume, a bounded number of times; a refused grant fails the job with "Re-auth required" and
puts the connection in Error; anything else fails the job with a message staff can act on.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import traceback
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations import progress
from integrations.models import IntegrationConfig, IntegrationEvent, SyncJob
from integrations.services import apps, jobs, status, tokens
from providers.base import Action, Provider, SyncRequest
from providers.errors import (
    GrantRefused,
    ProviderError,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from sous import redis_client

from . import Counts, save_records

log = logging.getLogger(__name__)

# A job waiting for the running one of its kind looks again this often.
WAIT_FOR_RUNNING_SECONDS = 5
WAITING_FOR_RUNNING = "Waiting for the sync before it to finish…"

PUBLISH_INTERVAL = 0.4  # seconds between progress events of one job (the last always goes)
LOCKED_RETRY_SECONDS = 5
MAX_TRANSIENT_RETRIES = 6
MAX_BACKOFF = 60.0


class Stop(Exception):
    """Leave the job as it is: cancelled, handed to another task, or already finished."""


@dataclass
class Context:
    job: SyncJob
    config: IntegrationConfig
    provider: Provider
    action: Action


def run(job_id: str) -> None:
    job = SyncJob.objects.filter(pk=job_id).select_related("config", "parent").first()
    if job is None or not job.active:
        return  # deleted, finished or cancelled meanwhile: nothing to do
    lock = _lock(job_id)
    if not lock.acquire(blocking=False):
        log.info("integrations.job.already_running", extra={"job_id": job_id})
        if job.status == SyncJob.Status.QUEUED:
            # Queued, yet a task still holds it (one handing it over, say): this task is the
            # job's only way forward, so it comes back rather than vanish.
            jobs.dispatch(job, countdown=LOCKED_RETRY_SECONDS)
        return
    keeper = _LockKeeper(lock)
    keeper.start()
    try:
        with contextlib.suppress(Stop):
            _run_locked(job, keeper)
    finally:
        keeper.stop()
        # The lock may have expired meanwhile (another task may own it now): leave it be.
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()


def _lock_name(job_id) -> str:
    return f"sous:job-lock:{job_id}"


def _lock(job_id: str):
    return redis_client.client().lock(
        _lock_name(job_id), timeout=settings.INTEGRATIONS_JOB_LOCK_SECONDS, thread_local=False
    )


def is_being_run(job_id) -> bool:
    """Whether a task holds the job's lock (a live one renews it every quarter of its life)."""
    return bool(redis_client.client().exists(_lock_name(job_id)))


class _LockKeeper(threading.Thread):
    """Renews the job's lock every quarter of its life while the task makes progress, however
    long one page takes (a provider retrying for minutes): a lapsed lock then means a dead or
    stuck worker, which is what resume_orphaned_jobs relies on.

    Progress is `touch()`, at every saved page and retry note. A task silent for longer than
    the broker's visibility timeout (stuck on a lock, a hung connection) lets the lock go and
    stops at its next page, should it ever get there; another task carries the job on.
    """

    def __init__(self, lock) -> None:
        super().__init__(name="sync-lock-keeper", daemon=True)
        self.lock = lock
        self.lost = False  # another task has the job now: this one must stop at its next page
        self._stopped = threading.Event()
        self._touched = time.monotonic()

    def touch(self) -> None:
        self._touched = time.monotonic()

    def run(self) -> None:
        patience = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        while not self._stopped.wait(settings.INTEGRATIONS_JOB_LOCK_SECONDS / 4):
            if time.monotonic() - self._touched > patience:
                log.warning("integrations.job.stuck", extra={"lock": self.lock.name})
                self.lost = True
                return
            try:
                self.lock.extend(settings.INTEGRATIONS_JOB_LOCK_SECONDS, replace_ttl=True)
            except redis.exceptions.LockNotOwnedError:
                # Lapsed anyway (the process stalled): take it back unless another task has.
                if self._stopped.is_set() or not self.lock.acquire(blocking=False):
                    self.lost = True
                    return
            except redis.exceptions.RedisError:
                log.warning("integrations.job.lock_renewal_failed", exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=5)


def _run_locked(job: SyncJob, keeper: _LockKeeper) -> None:
    if job.cancel_requested:
        _finish(job, SyncJob.Status.CANCELLED, summary="Cancelled")
        return
    if job.config is None:
        _finish(job, SyncJob.Status.CANCELLED, summary="The connection was removed")
        return
    provider = apps.provider(job.provider)
    action = provider.action(job.kind.split(".", 1)[1])
    if action is None:
        _fail(job, "This kind of sync no longer exists.", f"unknown kind {job.kind}")
        return
    ctx = Context(job=job, config=job.config, provider=provider, action=action)
    now = timezone.now()
    with transaction.atomic():
        # Under the connection's row lock, as requests are: a request either merges into this
        # job before it starts, or finds it started and waits as a job of its own.
        IntegrationConfig.objects.select_for_update().filter(pk=job.config_id).first()
        waits = job.parent_id is None and job.started_at is None and _another_runs(job)
        taken = not waits and SyncJob.objects.filter(pk=job.pk, status__in=SyncJob.ACTIVE).update(
            status=SyncJob.Status.RUNNING,
            started_at=job.started_at or now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
    if waits:
        _wait_for_the_running_one(job)
        return
    if not taken:
        return  # cancelled since this task looked
    job.refresh_from_db()
    if job.parent_id is None and _plan_children(ctx):
        return
    _publish(job, force=True)
    _work(ctx, keeper)


def _another_runs(job: SyncJob) -> bool:
    """Whether another job of this kind runs for the connection (between slices included)."""
    return (
        SyncJob.objects.filter(
            config_id=job.config_id,
            kind=job.kind,
            parent__isnull=True,
            status__in=SyncJob.ACTIVE,
            started_at__isnull=False,
        )
        .exclude(pk=job.pk)
        .exists()
    )


def _wait_for_the_running_one(job: SyncJob) -> None:
    """Stay queued, and open to merges, until the running job of this kind has finished."""
    if job.progress_message != WAITING_FOR_RUNNING:
        note(job, WAITING_FOR_RUNNING)
    jobs.dispatch(job, countdown=WAIT_FOR_RUNNING_SECONDS)


def _plan_children(ctx: Context) -> bool:
    """Split a deep job into chunk jobs on its first run; True when the parent now waits."""
    job = ctx.job
    if job.children.exists():
        # A redelivered parent: its children carry on by themselves; send any never sent.
        for child in job.children.filter(status=SyncJob.Status.QUEUED, celery_task_id=""):
            jobs.dispatch(child)
        return True
    chunks = ctx.action.plan(job.params, settings=ctx.config.settings, now=timezone.now())
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
                config=ctx.config,
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
            progress_total=len(children), progress_unit=ctx.action.chunk_unit, progress_done=0
        )
    for child in children:
        jobs.dispatch(child)
    job.refresh_from_db()
    _publish(job, force=True)
    return True


def _work(ctx: Context, keeper: _LockKeeper) -> None:
    job, config = ctx.job, ctx.config
    slice_ends = time.monotonic() + settings.INTEGRATIONS_TASK_SLICE_SECONDS
    counts = Counts.from_json(job.counts)
    transient_failures = 0
    stale_token = False
    last_cursor = job.checkpoint.get("_cursor")
    while True:
        try:
            token = tokens.access_token(config, stale=stale_token)
            client = ctx.provider.sync_client(token)
            request = SyncRequest(
                params=job.params,
                checkpoint={k: v for k, v in job.checkpoint.items() if k != "_cursor"},
                cursor=config.cursors.get(job.kind, {}),
                settings=config.settings,
                now=job.started_at,
            )
            for page in ctx.action.pages(client, request):
                page_counts = save_records(config.organization, job.provider, page.records)
                counts.add(page_counts)
                if page.cursor is not None:
                    last_cursor = page.cursor
                wanted = _save_page(job, page, counts, last_cursor)
                keeper.touch()
                transient_failures = 0
                if keeper.lost:
                    return
                if not wanted:
                    _finish_cancelled(job, counts)
                    return
                if time.monotonic() > slice_ends:
                    _continue_later(job, keeper)
                    return
            break
        except Unauthorized as exc:
            if _cancelled_meanwhile(job, counts, exc):
                return  # a switch or a disconnect revoked the token this job held
            if isinstance(exc, GrantRefused):
                _fail(job, f"{status.REAUTH}", str(exc))
                return
            if exc.expired and not stale_token:
                stale_token = True  # refreshed once, then resume from the checkpoint
                continue
            reason = f"{status.REAUTH}: {exc}"
            status.mark_error(config, reason, kind=IntegrationEvent.Kind.HEALTH_FAILED)
            _fail(job, status.REAUTH, str(exc))
            return
        except tokens.CredentialsUnavailable as exc:
            if not _cancelled_meanwhile(job, counts, exc):
                _fail(job, exc.reason, exc.reason)
            return
        except (RateLimited, Unavailable) as exc:
            if _cancelled_meanwhile(job, counts, exc):
                return  # no point waiting out an outage for a job staff stopped
            transient_failures += 1
            if transient_failures > MAX_TRANSIENT_RETRIES:
                _fail(job, f"{ctx.provider.name} kept failing: {exc} Try again later.", str(exc))
                return
            wait = _backoff(exc, transient_failures)
            note(job, f"{exc} Retrying in {wait:.0f} s.")
            keeper.touch()
            time.sleep(wait)
        except ProviderError as exc:
            if not _cancelled_meanwhile(job, counts, exc):
                _fail(job, f"Sync failed: {exc}", str(exc))
            return
        except Stop:
            return
        except Exception as exc:
            _fail(
                job,
                "Sync failed because of an error on our side. We have been notified.",
                "".join(traceback.format_exception(exc))[-4000:],
            )
            raise
    _succeed(ctx, counts, last_cursor)


def _cancelled_meanwhile(job: SyncJob, counts: Counts, exc: Exception) -> bool:
    """Finish as cancelled, not failed, a job whose failure came after it was stopped (by
    staff, a disconnect or an account switch, which revokes the token it held)."""
    if not SyncJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
        return False
    log.info(
        "integrations.job.error_after_cancel",
        extra={"job_id": str(job.pk), "error": type(exc).__name__},
    )
    with contextlib.suppress(Stop):
        _finish_cancelled(job, counts)
    return True


def _finish_cancelled(job: SyncJob, counts: Counts) -> None:
    _finish(job, SyncJob.Status.CANCELLED, summary=stopped_summary(job, counts), counts=counts)


def stopped_summary(job: SyncJob, counts: Counts, reason: str = "Cancelled") -> str:
    """ "Cancelled: Sales synced: 1,234 orders (…)" for a job stopped after some work, else
    the reason alone."""
    action = _action_of(job)
    if action is None or not any(counts.totals.values()):
        return reason
    return f"{reason}: {action.summary(counts.totals)}"


def fail_stale(job: SyncJob) -> None:
    with contextlib.suppress(Stop):
        _fail(
            job,
            "This sync stopped unexpectedly (its worker went away). Start it again; it will "
            "pick up what is already imported.",
            f"no heartbeat since {job.heartbeat_at}",
        )


def _backoff(exc: ProviderError, attempt: int) -> float:
    if isinstance(exc, RateLimited):
        return min(exc.retry_after, MAX_BACKOFF)
    # Exponential with full jitter (AWS architecture blog, "Exponential Backoff And Jitter").
    return random.uniform(0, min(MAX_BACKOFF, 2.0**attempt))  # noqa: S311


def _save_page(job: SyncJob, page, counts: Counts, cursor) -> bool:
    """Checkpoint a saved page; False when staff asked to cancel the job meanwhile."""
    job.checkpoint = {**page.checkpoint, "_cursor": cursor} if cursor else dict(page.checkpoint)
    job.counts = counts.as_json()
    job.heartbeat_at = timezone.now()
    # A saved page is progress: the job is not one that kills its worker (see recoveries).
    updates = {
        "checkpoint": job.checkpoint,
        "counts": job.counts,
        "heartbeat_at": job.heartbeat_at,
        "recoveries": 0,
    }
    if page.progress is not None:
        job.progress_done = page.progress.done
        job.progress_total = page.progress.total
        job.progress_unit = page.progress.unit
        job.progress_message = page.progress.message[:200]
        fraction = page.progress.fraction
        job.progress_percent = None if fraction is None else min(100, int(100 * fraction))
        updates.update(
            progress_done=job.progress_done,
            progress_total=job.progress_total,
            progress_percent=job.progress_percent,
            progress_unit=job.progress_unit,
            progress_message=job.progress_message,
        )
    # One statement saves the checkpoint and reads the cancel flag: nothing is saved once a
    # cancel is requested, and the caller finishes the job with the counts it holds. Running
    # again if the job was sent back to the queue while a slow page let its lock lapse.
    wanted = SyncJob.objects.filter(
        pk=job.pk, cancel_requested=False, status__in=SyncJob.ACTIVE
    ).update(status=SyncJob.Status.RUNNING, **updates)
    if job.parent_id:
        # The parent's aggregate is only for display (a finished child always rolls up): its
        # few queries and row lock are not worth paying on every page of every chunk.
        if _roll_up_due(job.parent_id):
            roll_up(job.parent_id)
    else:
        _publish(job)
    return bool(wanted)


def _continue_later(job: SyncJob, keeper: _LockKeeper) -> None:
    """End this task's slice: the same job continues in a fresh task from its checkpoint.

    Queued meanwhile, as it waits for a worker like any queued job (and is not taken for a
    running job whose worker died). The lock goes before the task is sent, so that the
    worker taking it finds the job free."""
    SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.RUNNING).update(
        status=SyncJob.Status.QUEUED, celery_task_id="", heartbeat_at=timezone.now()
    )
    keeper.stop()
    with contextlib.suppress(redis.exceptions.LockError):
        keeper.lock.release()
    job.refresh_from_db()
    if job.active:
        jobs.dispatch(job)


def note(job: SyncJob, message: str) -> None:
    """A word on the job's bar (its parent's, for a chunk): a retry, a lost worker."""
    job.progress_message = message[:200]
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["progress_message", "heartbeat_at"])
    if job.parent_id:
        # The page shows the parent's bar: the note goes there until the next roll-up.
        parents = SyncJob.objects.filter(pk=job.parent_id, status__in=SyncJob.ACTIVE)
        if parents.update(progress_message=job.progress_message):
            _publish(parents.get(), force=True)
        return
    _publish(job, force=True)


def _succeed(ctx: Context, counts: Counts, cursor) -> None:
    job = ctx.job
    # "Last synced" first, so a page reacting to the finished event already shows it.
    if job.parent_id is None:
        _mark_synced(ctx.config, job, cursor)
    _finish(job, SyncJob.Status.SUCCEEDED, summary=ctx.action.summary(counts.totals), counts=counts)


def _mark_synced(config: IntegrationConfig, job: SyncJob, cursor) -> None:
    kind = job.kind
    with transaction.atomic():
        locked = IntegrationConfig.objects.select_for_update().filter(pk=config.pk).first()
        if locked is None:
            return  # disconnected meanwhile
        if SyncJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
            # Stopped by an account switch (under this row lock) or by staff: its cursor and
            # "Last synced" would describe what the connection no longer reads.
            return
        now = timezone.now()
        locked.last_synced = {**locked.last_synced, kind: now.isoformat()}
        locked.last_synced_at = now
        if cursor is not None:
            locked.cursors = {**locked.cursors, kind: cursor}
        locked.save(update_fields=["last_synced", "last_synced_at", "cursors", "updated_at"])
    progress.publish(locked.organization_id, progress.connection_payload(locked))


def _fail(job: SyncJob, message: str, detail: str) -> None:
    log.warning(
        "integrations.job.failed",
        extra={"job_id": str(job.id), "kind": job.kind, "detail": detail[:300]},
    )
    _finish(job, SyncJob.Status.FAILED, error=message, detail=detail)


def _finish(
    job: SyncJob,
    state: str,
    *,
    summary: str = "",
    error: str = "",
    detail: str = "",
    counts: Counts | None = None,
) -> None:
    updates = {
        "status": state,
        "finished_at": timezone.now(),
        "summary": summary[:300],
        "error": error[:300],
        "error_detail": detail,
    }
    if counts is not None:
        updates["counts"] = counts.as_json()
    # Only an active job can finish, once: a late duplicate task cannot overwrite the outcome.
    if not SyncJob.objects.filter(pk=job.pk, status__in=SyncJob.ACTIVE).update(**updates):
        raise Stop
    job.refresh_from_db()
    if job.parent_id:
        if state == SyncJob.Status.FAILED:
            SyncJob.objects.filter(parent_id=job.parent_id, status__in=SyncJob.ACTIVE).update(
                cancel_requested=True
            )
        roll_up(job.parent_id, finished_child=job)
    else:
        _publish(job, force=True)


def _action_of(job: SyncJob) -> Action | None:
    return apps.provider(job.provider).action(job.kind.split(".", 1)[1])


def roll_up(parent_id, finished_child: SyncJob | None = None) -> None:
    """Aggregate the children's progress on the parent; finish it once none is active."""
    with transaction.atomic():
        parent = SyncJob.objects.select_for_update().filter(pk=parent_id).first()
        if parent is None or not parent.active:
            return
        action = _action_of(parent)
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
        parent.progress_percent = _share_done(children)
        parent.progress_unit = chunk_unit
        parent.progress_message = (
            f"{len(finished)} of {len(children)} {chunk_unit} · {records:,} {unit}"
        )
        parent.heartbeat_at = timezone.now()
        parent.save()
        done = len(finished) == len(children)
    if not done:
        _publish(parent, force=finished_child is not None)
        return
    _last_rolled_up.pop(str(parent_id), None)
    failed = next((c for c in children if c["status"] == SyncJob.Status.FAILED), None)
    try:
        if failed:
            _finish(parent, SyncJob.Status.FAILED, error=failed["error"], counts=total)
        elif any(c["status"] == SyncJob.Status.CANCELLED for c in children):
            _finish(parent, SyncJob.Status.CANCELLED, summary="Cancelled", counts=total)
        else:
            if parent.config_id:
                _mark_synced(parent.config, parent, None)
            _finish(
                parent, SyncJob.Status.SUCCEEDED, summary=action.summary(total.totals), counts=total
            )
    except Stop:
        pass


def _share_done(children: list[dict]) -> int:
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


_last_published: dict[str, float] = {}
_last_rolled_up: dict[str, float] = {}


def _roll_up_due(parent_id) -> bool:
    """True at most once per PUBLISH_INTERVAL for a parent (per worker process)."""
    key, now = str(parent_id), time.monotonic()
    if now - _last_rolled_up.get(key, 0.0) < PUBLISH_INTERVAL:
        return False
    _last_rolled_up[key] = now
    return True


def _publish(job: SyncJob, *, force: bool = False) -> None:
    """Throttled progress events: at most one per PUBLISH_INTERVAL per job, finals always.

    A deep sync's chunks are never published: the page shows their parent's one bar (rolled
    up), and a job it does not know makes it redraw the drawer.
    """
    if job.parent_id:
        return
    key = str(job.id)
    now = time.monotonic()
    if not force and job.active and now - _last_published.get(key, 0.0) < PUBLISH_INTERVAL:
        return
    _last_published[key] = now
    if not job.active:
        _last_published.pop(key, None)
    progress.publish(job.organization_id, jobs.job_payload(job))
