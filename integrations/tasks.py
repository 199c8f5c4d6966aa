"""Celery tasks of the integrations domain (queue "integrations"). They carry ids only.

Names are explicit so routing (`integrations.*` -> the integrations queue) never depends on
module paths; the job engine sends `integrations.run_job` by name (jobs/dispatch.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .jobs import dispatch, execute, recovery, schedules
from .models import IntegrationConfig
from .services import freshness, tokens
from .webhooks import channels, process, receive

log = logging.getLogger(__name__)

# Square advises refreshing at least every 7 days (its access tokens live 30): refresh any
# token older than this, so an idle connection never lapses.
REFRESH_EVERY = timedelta(days=6)


@shared_task(name=dispatch.RUN_JOB, ignore_result=False)
def run_job(job_id: str) -> None:
    execute.run(job_id)


@shared_task(name="integrations.run_schedules")
def run_schedules() -> dict:
    """Beat, every minute: the schedules due now, each dispatched once."""
    result = schedules.tick()
    return {"dispatched": result.dispatched, "skipped": result.skipped}


@shared_task(name=receive.PROCESS_TASK, ignore_result=True)
def process_webhook_event(event_pk: int) -> None:
    process.process(event_pk)


@shared_task(name=receive.DRAIN_TASK, ignore_result=True)
def process_webhook_events() -> int:
    """The stored notifications, in batches, until none is left (receive.wake asks for it)."""
    done = process.drain()
    receive.drained()
    return done + process.drain()


@shared_task(name="integrations.process_stale_webhook_events")
def process_stale_webhook_events() -> int:
    """Beat, every minute: notifications whose task was lost."""
    return process.process_stale()


@shared_task(name=channels.RECONCILE_TASK)
def reconcile_channels(config_pk: int) -> None:
    config = IntegrationConfig.objects.filter(pk=config_pk).first()
    if config is not None:
        channels.reconcile(config)


@shared_task(name="integrations.renew_channels")
def renew_channels() -> None:
    """Beat, every 15 minutes: push channels opened, renewed before they end, or stopped."""
    channels.renew_all()


@shared_task(name="integrations.check_freshness")
def check_freshness() -> int:
    """Beat, every 15 minutes: data overdue opens a "stale" alert; current data resolves it."""
    return freshness.check()


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


@shared_task(name="integrations.resume_orphaned_jobs")
def resume_orphaned_jobs() -> int:
    """Beat, every 15 s: a dead worker's job is sent again within a lease's life of it."""
    return recovery.resume_orphaned()


@shared_task(name="integrations.resend_lost_jobs")
def resend_lost_jobs() -> int:
    """Beat, every minute: queued jobs whose message was lost are sent again."""
    return recovery.resend_lost()


@shared_task(name="integrations.reap_stale_jobs")
def reap_stale_jobs() -> int:
    """Beat: running jobs with no task left to finish them are failed."""
    return recovery.reap_stale()
