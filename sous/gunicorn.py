"""The web process in production (Procfile `web`): gunicorn keeps one uvicorn worker process per
core, each serving sous.asgi (HTTP and websockets), and replaces any that dies.

Django's deployment guide: https://docs.djangoproject.com/en/5.2/howto/deployment/asgi/uvicorn/
Gunicorn's settings: https://gunicorn.org/reference/settings/
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import environ
from uvicorn_worker import UvicornWorker

from sous import logs

# What settings.py reads, read the same way: the real environment wins over the env file, and
# an empty assignment means the default.
environ.Env.read_env(
    os.environ.get("SOUS_ENV_FILE") or Path(__file__).resolve().parents[1] / ".env",
    overwrite=False,
)

# Together, this instance's web processes keep at most this many PostgreSQL connections
# (WEB_DATABASE_CONNECTIONS), leaving the rest of PostgreSQL's default 100 to the Celery
# workers, beat, operators and other web instances: size it per instance.
WEB_DATABASE_CONNECTIONS = int(os.environ.get("WEB_DATABASE_CONNECTIONS") or 40)


def cores() -> int:
    """The cores this process may use: its CPU affinity (a taskset, a cpuset), further capped
    by a cgroup CPU quota (Docker's --cpus, a Kubernetes limit), which affinity does not see."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    quota = cgroup_quota()
    return max(1, min(available, math.ceil(quota))) if quota else available


def cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs the cgroup may use (quota / period), None when unlimited or not in a cgroup."""
    try:  # cgroup v2: "max 100000" or "200000 100000"
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1: -1 when unlimited
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


class Worker(UvicornWorker):
    """uvicorn as gunicorn's worker, leaving the client's address and scheme alone: with proxy
    headers on (and FORWARDED_ALLOW_IPS, which platforms set to "*"), uvicorn would put an
    X-Forwarded-For entry the client may have written in REMOTE_ADDR. Django reads the trusted
    proxies' headers itself (TRUSTED_PROXY_COUNT)."""

    CONFIG_KWARGS = {
        **UvicornWorker.CONFIG_KWARGS,
        "proxy_headers": False,
        # Named, so a missing websockets library fails the start instead of every socket.
        "ws": "websockets-sansio",
        # Django's ASGI handler has no lifespan events.
        "lifespan": "off",
    }


bind = f"0.0.0.0:{os.environ.get('PORT') or 8000}"
worker_class = "sous.gunicorn.Worker"
# A process runs Python on one core at a time (the GIL), whatever its threads: one per core.
workers = int(os.environ.get("WEB_CONCURRENCY") or cores())
# Each worker process has its own pool (settings.py); DATABASE_POOL_SIZE sets it outright.
raw_env = [
    "DATABASE_POOL_SIZE="
    + (os.environ.get("DATABASE_POOL_SIZE") or str(max(1, WEB_DATABASE_CONNECTIONS // workers)))
]
# Platforms send SIGKILL 30 s after SIGTERM: requests in flight finish before that.
graceful_timeout = 25
# Longer than a load balancer's idle timeout (60 s on AWS and GCP), so it is always the load
# balancer that closes an idle connection, never this side while a request is on its way.
keepalive = 75
# No access log: the load balancer logs every request. Gunicorn's and uvicorn's own lines
# (starts, worker restarts, errors) go out as the app's do (settings.py's LOG_FORMAT).
accesslog = None
# Its control socket is one path per user ($HOME/.gunicorn): two servers on a machine would
# take each other's. Nothing here uses it.
control_socket_disable = True
_format = os.environ.get("LOG_FORMAT") or (
    "plain" if environ.Env().bool("DEBUG", False) else "json"
)
logconfig_dict = {
    **logs.config(
        "plain" if _format.lower() == "plain" else "json", os.environ.get("LOG_LEVEL") or "INFO"
    ),
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
