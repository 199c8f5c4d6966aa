"""The default cache: Redis, but a cache all the same. While Redis is unreachable, reads miss
and writes are dropped (logged once a minute at most), so the pages that use it (the drawer's
health check, allauth's login rate limits) keep working on what the database knows. Login rate
limits do not hold while Redis is down."""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
_WARN_EVERY_SECONDS = 60


class ForgivingRedisCache(RedisCache):
    _warned_at = 0.0

    def _missed(self, operation: str, fallback):
        now = time.monotonic()
        if now - ForgivingRedisCache._warned_at > _WARN_EVERY_SECONDS:
            ForgivingRedisCache._warned_at = now
            log.warning("cache.unavailable", exc_info=True, extra={"operation": operation})
        return fallback

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError:
            return self._missed("get", default)

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError:
            return self._missed("get_many", {})

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError:
            return self._missed("has_key", False)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError:
            # As if stored: callers use add() as a lock (allauth's rate limits), and a lock
            # never granted would lock everyone out of logging in.
            return self._missed("add", True)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError:
            self._missed("set", None)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError:
            return self._missed("set_many", list(data))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError:
            return self._missed("touch", False)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError:
            return self._missed("delete", False)

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError:
            self._missed("delete_many", None)
