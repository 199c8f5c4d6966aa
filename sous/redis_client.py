"""The process's Redis client for short commands (job locks), with the timeouts settings give.

One connection pool per process and URL: a client made per call would open a connection per
call. redis-py's pool notices a fork and starts afresh in the child (Celery's prefork pool).
"""

from functools import cache

import redis
from django.conf import settings


def client() -> redis.Redis:
    return _client_for(settings.REDIS_URL)


@cache
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, **settings.REDIS_CLIENT_OPTIONS)
