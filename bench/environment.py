"""The bench's own world: a PostgreSQL database, the sandbox in its own process, workers.

Nothing here touches a developer's data: the database is a dedicated `sous_bench` (dropped and
created afresh on each run), Celery keys get a per-run prefix so a `make run` worker on the
same Redis never takes the bench's tasks, and the encryption key is generated per run.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "sous_bench"
SANDBOX_CLIENT_ID = "sq0idp-sous-local"
SANDBOX_CLIENT_SECRET = "sq0csp-sous-local-secret"


def database_url() -> str:
    """BENCH_DATABASE_URL as given, else the `sous_bench` database on DATABASE_URL's PostgreSQL
    server (or on the local one): never the database a developer or the tests use."""
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        base = DEFAULT_SERVER
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure_environment(db_url: str, sandbox_url: str) -> dict:
    """Environment for this process and the workers; set before Django starts."""
    env = {
        "DJANGO_SETTINGS_MODULE": "sous.settings",
        "DATABASE_URL": db_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CELERY_KEY_PREFIX": f"sous-bench-{os.getpid()}:",
        "INTEGRATIONS_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
        "PROVIDER_SANDBOX_URL": sandbox_url,
        "SQUARE_ENVIRONMENT": "local",
        "SQUARE_CLIENT_ID": SANDBOX_CLIENT_ID,
        "SQUARE_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        # The web run connects Google too (the sandbox's registered app).
        "GOOGLE_ENVIRONMENT": "local",
        "GOOGLE_CLIENT_ID": "sous-local.apps.googleusercontent.com",
        "GOOGLE_CLIENT_SECRET": "GOCSPX-sous-local-secret",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
    }
    os.environ.update(env)
    return dict(os.environ)


class Sandbox:
    """`python -m providers.sandbox` in its own process (its own core, as Square would be)."""

    def __init__(
        self, *, days: int, orders_per_day: int, locations: int, render_cache_mb: int
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "providers.sandbox",
                "--port",
                str(self.port),
                "--square-merchants",
                "1",
                "--square-locations",
                str(locations),
                "--square-orders-per-day",
                str(orders_per_day),
                "--square-days",
                str(days),
                "--square-render-cache-mb",
                str(render_cache_mb),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = requests.Session()
        deadline = time.monotonic() + 30
        while True:
            try:
                self.control("GET", "health")
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.1)

    def control(self, method: str, path: str, **kwargs):
        response = self.http.request(method, f"{self.url}/_sandbox/{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def knobs(self, **values) -> None:
        self.control("POST", "knobs", json=values)

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def searches(self) -> int:
        return self.control("GET", "counters").get("square.orders.search", 0)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy so far (all cores, all processes: the sandbox,
    the workers, PostgreSQL, Redis), from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def workers(count: int, env: dict):
    """`count` Celery workers on the integrations queue, one task at a time each (solo pool),
    each in its own process; yields their pids once all answer a ping."""
    from sous.celery import app

    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "sous",
                "worker",
                "-Q",
                "integrations",
                "--pool",
                "solo",
                "--hostname",
                f"bench{n}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for n in range(count)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5) or []) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("the bench workers did not start")
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
