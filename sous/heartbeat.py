"""Whether beat and a worker on each queue answered lately, for /healthz.

Beat sends the `sous.heartbeat` task to each queue every HEALTH_HEARTBEAT_SECONDS. Publishing
it stamps beat's time in Redis (the `after_task_publish` signal, in the beat process only), and
a worker running it stamps its queue's time: a worker that consumes one queue only leaves the
other's stamp to age. Both stamps are Redis' own clock, so hosts whose clocks differ agree.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings

from sous import redis_client

log = logging.getLogger(__name__)

TASK = "sous.heartbeat"
QUEUES = ("integrations", "default")
PARTS = ("beat", *(f"worker:{queue}" for queue in QUEUES))

OK, STALE, NEVER, UNKNOWN = "ok", "stale", "never", "unknown"

_in_beat = False


def beat_started(**_) -> None:
    """`beat_init`: this process is beat, whose publishing of the heartbeat is its pulse."""
    global _in_beat  # noqa: PLW0603 - one flag per process, set once by Celery's signal
    _in_beat = True


def beat_published(sender: str | None = None, **_) -> None:
    """`after_task_publish`: beat handed a heartbeat to the broker."""
    if _in_beat and sender == TASK:
        stamp("beat")


def worker_part(queue: str) -> str:
    return f"worker:{queue}"


def key(part: str) -> str:
    # Under the broker's key prefix: two setups sharing one Redis (CELERY_KEY_PREFIX) must not
    # see each other's workers.
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    return f"{prefix}sous:heartbeat:{part}"


def stamp(part: str) -> None:
    """Record that `part` ("beat", "worker:<queue>") is alive now. Never raises: a heartbeat
    must not break beat's publishing or fail a task over Redis hiccups."""
    client = redis_client.client()
    try:
        seconds, _ = client.time()
        client.set(key(part), seconds)
    except redis.RedisError:
        log.warning("sous.heartbeat.unrecorded", exc_info=True, extra={"part": part})


def report() -> dict[str, str]:
    """{"beat": …, "worker:integrations": …, "worker:default": …}: "ok" when the part answered
    within HEALTH_HEARTBEAT_MAX_AGE seconds, "stale" when longer ago, "never" when it never
    did, "unknown" when Redis cannot tell."""
    client = redis_client.client()
    try:
        now, _ = client.time()
        stamps = client.mget([key(part) for part in PARTS])
    except redis.RedisError:
        return dict.fromkeys(PARTS, UNKNOWN)
    max_age = settings.HEALTH_HEARTBEAT_MAX_AGE
    return {
        part: NEVER if stamp is None else OK if now - int(stamp) <= max_age else STALE
        for part, stamp in zip(PARTS, stamps, strict=True)
    }
