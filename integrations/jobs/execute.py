"""A task's run of a job: page through the provider, save each page, checkpoint, report.

A task runs one job for at most a time slice, then queues the job again and exits, so no task
outlives the broker's visibility timeout; a task redelivered after a worker died starts from
the saved checkpoint, and every write is an idempotent upsert, so nothing is duplicated.
The job's lease keeps two workers from running it at once.

Provider failures: an access token refused as expired is refreshed once and the job resumes
from its checkpoint; 429 and outages that outlast the HTTP layer's own retries back off and
resume, a bounded number of times; a refused grant fails the job with "Re-auth required" and
puts the connection in Error; a cursor the provider refuses (CursorExpired) is forgotten and the
job runs again from the start as a full sync, once; anything else fails the job with a message
staff can act on.

The checkpoint an action yields is a msgspec Struct (`Action.Checkpoint`), stored as JSON in
SyncJob.checkpoint with the engine's own keys beside its fields. One this release cannot read
(saved in an older shape) starts the job over.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import traceback
from dataclasses import dataclass

import msgspec
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.models import IntegrationConfig, IntegrationEvent, SyncJob
from integrations.services import apps, status, tokens
from integrations.sync import Counts, save_records
from providers.base import Action, Page, Provider, SyncRequest
from providers.errors import (
    CursorExpired,
    GrantRefused,
    ProviderError,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from sous import logs

from . import events, fanout, lease, outcome, states
from .dispatch import dispatch
from .states import Stop

log = logging.getLogger(__name__)

Status = SyncJob.Status

# A job waiting for the running one of its kind looks again this often.
WAIT_FOR_RUNNING_SECONDS = 5
LOCKED_RETRY_SECONDS = 5
MAX_TRANSIENT_RETRIES = 6
MAX_BACKOFF = 60.0
# The engine's keys in SyncJob.checkpoint, beside the action's fields: the cursor a page of an
# earlier slice left for the connection, and whether the job already started over after the
# provider refused its cursor.
CURSOR_KEY = "_cursor"
RESTARTED_KEY = "_restarted"


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
    lock = lease.lease(job_id)
    if not lock.acquire(blocking=False):
        log.info("integrations.job.already_running", extra={"job_id": job_id})
        if job.status == Status.QUEUED:
            # Queued, yet a task still holds it (one handing it over, say): this task is the
            # job's only way forward, so it comes back rather than vanish.
            dispatch(job, countdown=LOCKED_RETRY_SECONDS)
        return
    keeper = lease.Keeper(lock)
    keeper.start()
    try:
        # Every line the run logs, the HTTP layer's included, says which job, organisation
        # and connection it is about.
        with (
            logs.bind(job_id=str(job.pk), org_id=job.organization_id, config_id=job.config_id),
            contextlib.suppress(Stop),
        ):
            _run_leased(job, keeper)
    finally:
        keeper.stop()
        lease.release(lock)


def _run_leased(job: SyncJob, keeper: lease.Keeper) -> None:
    if job.cancel_requested:
        outcome.finish(job, Status.CANCELLED, summary="Cancelled")
        return
    if job.config is None:
        outcome.finish(job, Status.CANCELLED, summary="The connection was removed")
        return
    provider = apps.provider(job.provider)
    action = provider.action(job.kind.split(".", 1)[1])
    if action is None:
        outcome.fail(job, "This kind of sync no longer exists.", f"unknown kind {job.kind}")
        return
    ctx = Context(job=job, config=job.config, provider=provider, action=action)
    now = timezone.now()
    with transaction.atomic():
        # Under the connection's row lock, as requests are: a request either merges into this
        # job before it starts, or finds it started and waits as a job of its own.
        IntegrationConfig.objects.select_for_update().filter(pk=job.config_id).first()
        waits = job.parent_id is None and job.started_at is None and _another_runs(job)
        taken = not waits and states.move(
            SyncJob.objects.filter(pk=job.pk),
            SyncJob.ACTIVE,
            Status.RUNNING,
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
    if job.parent_id is None and fanout.plan(job, ctx.config, action):
        return
    events.publish(job, force=True)
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
    if job.progress_message != events.WAITING_FOR_RUNNING:
        events.note(job, events.WAITING_FOR_RUNNING)
    dispatch(job, countdown=WAIT_FOR_RUNNING_SECONDS)


def _work(ctx: Context, keeper: lease.Keeper) -> None:
    job, config = ctx.job, ctx.config
    slice_ends = time.monotonic() + settings.INTEGRATIONS_TASK_SLICE_SECONDS
    counts = Counts.from_json(job.counts)
    transient_failures = 0
    stale_token = False
    saved = dict(job.checkpoint)
    last_cursor = saved.pop(CURSOR_KEY, None)
    restarted = bool(saved.pop(RESTARTED_KEY, False))
    try:
        checkpoint = msgspec.convert(saved, ctx.action.Checkpoint)
    except msgspec.ValidationError as exc:
        log.info(
            "integrations.job.checkpoint_discarded",
            extra={"job_id": str(job.pk), "kind": job.kind, "detail": str(exc)[:300]},
        )
        checkpoint, last_cursor, counts = ctx.action.Checkpoint(), None, Counts()
    while True:
        try:
            token = tokens.access_token(config, stale=stale_token)
            client = ctx.provider.sync_client(token)
            request = SyncRequest(
                params=job.params,
                checkpoint=checkpoint,
                cursor=config.cursors.get(job.kind, {}),
                settings=config.settings,
                now=job.started_at,
                account_id=config.external_account_id,
            )
            for page in ctx.action.pages(client, request):
                page_counts = save_records(config.organization, job.provider, page.records)
                counts.add(page_counts)
                if page.cursor is not None:
                    last_cursor = page.cursor
                checkpoint = page.checkpoint
                wanted = _save_page(job, page, counts, last_cursor, restarted)
                keeper.touch()
                transient_failures = 0
                if keeper.lost:
                    return
                if not wanted:
                    outcome.cancelled(job, counts)
                    return
                if time.monotonic() > slice_ends:
                    _continue_later(job, keeper)
                    return
            break
        except CursorExpired as exc:
            if _cancelled_meanwhile(job, counts, exc):
                return
            if restarted:
                # Refused again with no cursor to blame: not something a restart can cure.
                outcome.fail(job, str(exc), str(exc))
                return
            restarted = True
            checkpoint, last_cursor, counts = ctx.action.Checkpoint(), None, Counts()
            _start_over(ctx, exc)
        except Unauthorized as exc:
            if _cancelled_meanwhile(job, counts, exc):
                return  # a switch or a disconnect revoked the token this job held
            if isinstance(exc, GrantRefused):
                outcome.fail(job, f"{status.REAUTH}", str(exc))
                return
            if exc.expired and not stale_token:
                stale_token = True  # refreshed once, then resume from the checkpoint
                continue
            reason = f"{status.REAUTH}: {exc}"
            status.mark_error(config, reason, kind=IntegrationEvent.Kind.HEALTH_FAILED)
            outcome.fail(job, status.REAUTH, str(exc))
            return
        except tokens.CredentialsUnavailable as exc:
            if not _cancelled_meanwhile(job, counts, exc):
                outcome.fail(job, exc.reason, exc.reason)
            return
        except (RateLimited, Unavailable) as exc:
            if _cancelled_meanwhile(job, counts, exc):
                return  # no point waiting out an outage for a job staff stopped
            transient_failures += 1
            if transient_failures > MAX_TRANSIENT_RETRIES:
                outcome.fail(
                    job, f"{ctx.provider.name} kept failing: {exc} Try again later.", str(exc)
                )
                return
            wait = _backoff(exc, transient_failures)
            events.note(job, f"{exc} Retrying in {wait:.0f} s.")
            keeper.touch()
            time.sleep(wait)
        except ProviderError as exc:
            if not _cancelled_meanwhile(job, counts, exc):
                outcome.fail(job, str(exc), str(exc))
            return
        except Stop:
            return
        except Exception as exc:
            outcome.fail(
                job,
                "An error on our side stopped it. We have been notified."
                if settings.ERROR_REPORTING
                else "An error on our side stopped it. The details are in the server log; "
                "try again later.",
                "".join(traceback.format_exception(exc))[-4000:],
            )
            raise
    outcome.succeed(job, config, counts, last_cursor)


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
        outcome.cancelled(job, counts)
    return True


def _backoff(exc: ProviderError, attempt: int) -> float:
    if isinstance(exc, RateLimited):
        return min(exc.retry_after, MAX_BACKOFF)
    # Exponential with full jitter (AWS architecture blog, "Exponential Backoff And Jitter").
    return random.uniform(0, min(MAX_BACKOFF, 2.0**attempt))  # noqa: S311


def _start_over(ctx: Context, exc: CursorExpired) -> None:
    """Forget the cursor the provider refused, for this job and the next ones of its kind, and
    say on the bar that the job starts again as a full sync."""
    job, config = ctx.job, ctx.config
    log.info(
        "integrations.job.cursor_expired",
        extra={"job_id": str(job.pk), "kind": job.kind, "detail": str(exc)[:300]},
    )
    with transaction.atomic():
        locked = IntegrationConfig.objects.select_for_update().filter(pk=config.pk).first()
        if locked is not None and job.kind in locked.cursors:
            locked.cursors = {k: v for k, v in locked.cursors.items() if k != job.kind}
            locked.save(update_fields=["cursors", "updated_at"])
    config.cursors = {k: v for k, v in config.cursors.items() if k != job.kind}
    # Saved at once: a task resuming this job starts over too, and does not start over twice.
    job.checkpoint, job.counts = {RESTARTED_KEY: True}, Counts().as_json()
    SyncJob.objects.filter(pk=job.pk).update(checkpoint=job.checkpoint, counts=job.counts)
    events.note(
        job,
        f"{ctx.provider.name} no longer accepts where the last sync stopped: "
        "syncing everything again.",
    )


def _save_page(job: SyncJob, page: Page, counts: Counts, cursor, restarted: bool) -> bool:
    """Checkpoint a saved page; False when staff asked to cancel the job meanwhile."""
    job.checkpoint = msgspec.to_builtins(page.checkpoint)
    if cursor:
        job.checkpoint[CURSOR_KEY] = cursor
    if restarted:
        job.checkpoint[RESTARTED_KEY] = True
    job.counts = counts.as_json()
    job.heartbeat_at = timezone.now()
    # A saved page is progress: the job is not one that kills its worker (see recoveries).
    fields = {
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
        fields.update(
            progress_done=job.progress_done,
            progress_total=job.progress_total,
            progress_percent=job.progress_percent,
            progress_unit=job.progress_unit,
            progress_message=job.progress_message,
        )
    # One statement saves the checkpoint and reads the cancel flag: nothing is saved once a
    # cancel is requested, and the caller finishes the job with the counts it holds. Running
    # again if the job was sent back to the queue while a slow page let its lease lapse.
    wanted = states.move(
        SyncJob.objects.filter(pk=job.pk, cancel_requested=False),
        SyncJob.ACTIVE,
        Status.RUNNING,
        **fields,
    )
    if job.parent_id:
        if fanout.roll_up_due(job.parent_id):
            outcome.roll_up(job.parent_id)
    else:
        events.publish(job)
    return bool(wanted)


def _continue_later(job: SyncJob, keeper: lease.Keeper) -> None:
    """End this task's slice: the same job continues in a fresh task from its checkpoint.

    Queued meanwhile, as it waits for a worker like any queued job (and is not taken for a
    running job whose worker died). The lease goes before the task is sent, so that the
    worker taking it finds the job free."""
    states.move_one(
        job, [Status.RUNNING], Status.QUEUED, celery_task_id="", heartbeat_at=timezone.now()
    )
    keeper.hand_over()
    job.refresh_from_db()
    if job.active:
        dispatch(job)
