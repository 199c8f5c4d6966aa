"""Which tasks the Celery broker still holds: waiting in a queue, or handed to a worker and not
yet acknowledged (kombu's Redis transport keeps those, countdown tasks included, in `unacked`).

A queued job whose task is in neither has lost its message (Redis restarted without
persistence, a failed send): nothing will ever run it unless it is sent again.
"""

from __future__ import annotations

import json

from django.conf import settings

from sous import redis_client

# kombu's Redis transport: a queue is one list per priority step, named "<queue>\x06\x16<step>"
# (step 0 is the bare name); delivered messages wait in a hash until acknowledged.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)
_UNACKED = "unacked"


def _queue_keys(queue: str) -> list[str]:
    return [queue if step == 0 else f"{queue}{_PRIORITY_SEP}{step}" for step in _PRIORITY_STEPS]


def held_task_ids(queues: tuple[str, ...]) -> set[str]:
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    client = redis_client.client()
    with client.pipeline(transaction=False) as pipe:
        for queue in queues:
            for key in _queue_keys(queue):
                pipe.lrange(prefix + key, 0, -1)
        pipe.hvals(prefix + _UNACKED)
        *waiting, delivered = pipe.execute()
    messages = [json.loads(raw) for batch in waiting for raw in batch]
    messages += [json.loads(raw)[0] for raw in delivered]  # [message, exchange, routing key]
    return {m.get("headers", {}).get("id") for m in messages if isinstance(m, dict)} - {None}
