"""The per-job Redis lease: one task at a time runs a job, and a lapsed lease means its worker
is dead or stuck (what `recovery` relies on)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import redis
from django.conf import settings

from sous import redis_client

log = logging.getLogger(__name__)


def _name(job_id) -> str:
    return f"sous:job-lock:{job_id}"


def lease(job_id) -> redis.lock.Lock:
    return redis_client.client().lock(
        _name(job_id), timeout=settings.INTEGRATIONS_JOB_LOCK_SECONDS, thread_local=False
    )


def is_held(job_id) -> bool:
    """Whether a task holds the job's lease (a live one renews it every quarter of its life)."""
    return bool(redis_client.client().exists(_name(job_id)))


def release(lock: redis.lock.Lock) -> None:
    # The lease may have expired meanwhile (another task may own it now): leave it be.
    with contextlib.suppress(redis.exceptions.LockError):
        lock.release()


class Keeper(threading.Thread):
    """Renews the job's lease every quarter of its life while the task makes progress, however
    long one page takes (a provider retrying for minutes).

    Progress is `touch()`, at every saved page and retry note. A task silent for longer than
    the broker's visibility timeout (stuck on a lock, a hung connection) lets the lease go and
    stops at its next page, should it ever get there; another task carries the job on.
    """

    def __init__(self, lock: redis.lock.Lock) -> None:
        super().__init__(name="sync-lease-keeper", daemon=True)
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

    def hand_over(self) -> None:
        """Stop renewing and let the lease go, so that the next task finds the job free."""
        self.stop()
        release(self.lock)
