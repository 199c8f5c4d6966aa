"""Handing a job's task to the broker, once the transaction that made the job commits.

The task is sent by name (integrations/tasks.py declares it), so the engine never imports the
module that imports it.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from integrations.models import SyncJob
from sous.celery import app

log = logging.getLogger(__name__)

RUN_JOB = "integrations.run_job"
# Shown on a job whose task could not be sent: recovery sends it again.
WAITING_FOR_QUEUE = "Waiting for the job queue (unreachable just now)…"


def dispatch(job: SyncJob, *, countdown: float | None = None) -> None:
    """Send the job's task after the current transaction commits (the worker must see it).

    A send that fails (the broker is down) leaves the job Queued, saying so, instead of
    failing the request: recovery sends it again once the broker answers.
    """
    stamp(job)
    SyncJob.objects.filter(pk=job.pk).update(
        celery_task_id=job.celery_task_id, heartbeat_at=job.heartbeat_at
    )
    send_on_commit(job, countdown=countdown)


def stamp(job: SyncJob) -> None:
    """Give the job the id of the task about to be sent, and the time it is sent (a job not
    saved yet is then created with them: one write fewer)."""
    job.celery_task_id, job.heartbeat_at = str(uuid.uuid4()), timezone.now()


def send_on_commit(job: SyncJob, *, countdown: float | None = None) -> None:
    """Send the task of a stamped job once the current transaction commits."""
    task_id = job.celery_task_id
    job.dispatch_failed = False

    def send() -> None:
        try:
            app.send_task(RUN_JOB, args=[str(job.pk)], task_id=task_id, countdown=countdown)
        except (KombuError, RedisError, OSError):
            log.warning("integrations.job.dispatch_failed", exc_info=True, extra={"job_id": job.pk})
            job.dispatch_failed = True
            SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.QUEUED).update(
                progress_message=WAITING_FOR_QUEUE
            )

    transaction.on_commit(send)
