"""Real `celery worker` and `celery beat` processes for a test, pointed at its database and
Redis, their stderr (where our logging writes) kept in a file the test reads."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from tests.conftest import TEST_ENCRYPTION_KEYS, database_url

ROOT = Path(__file__).resolve().parents[2]


def environment(**overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "INTEGRATIONS_ENCRYPTION_KEYS": ",".join(TEST_ENCRYPTION_KEYS),
        "PROVIDER_SANDBOX_URL": settings.PROVIDER_SANDBOX_URL,
        "SQUARE_ENVIRONMENT": "local",
        "SQUARE_CLIENT_ID": settings.SQUARE_CLIENT_ID,
        "SQUARE_CLIENT_SECRET": settings.SQUARE_CLIENT_SECRET,
        "GOOGLE_ENVIRONMENT": "local",
        "GOOGLE_CLIENT_ID": settings.GOOGLE_CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": settings.GOOGLE_CLIENT_SECRET,
        "PYTHONPATH": str(ROOT),
        **overrides,
    }


@contextlib.contextmanager
def celery(args: list[str], stderr: Path, **env: str) -> Iterator[subprocess.Popen]:
    """`celery -A sous <args>` until the block ends; its stderr goes to `stderr`."""
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sous", *args],
            cwd=ROOT,
            env=environment(**env),
            stdout=subprocess.DEVNULL,
            stderr=sink,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def worker(stderr: Path, queues: str = "integrations,default", **env: str):
    return celery(
        [
            "worker",
            "-Q",
            queues,
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        stderr,
        **env,
    )


def beat(stderr: Path, schedule: Path, **env: str):
    return celery(["beat", "--schedule", str(schedule)], stderr, **env)
