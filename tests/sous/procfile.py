"""The product's processes as a deployment starts them: the Procfile's web line through a shell,
and manage.py, each with only the environment a test gives it (a developer's .env stays out)."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def environment(**env: str | None) -> dict[str, str]:
    """A clean environment: no variable of this test process leaks into the product's."""
    base = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "sous.settings",
        "SOUS_ENV_FILE": os.devnull,
    }
    merged = {**base, **env}
    return {name: value for name, value in merged.items() if value is not None}


def manage(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def probe(code: str, *, env: dict[str, str], cwd: Path):
    """Run `code` in a fresh interpreter (settings imported as a deployment imports them) and
    read the JSON it prints last."""
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def issue_ids(output: str) -> set[str]:
    """The ids `manage.py check` reports, e.g. {"sous.E001", "security.W004"}."""
    return set(re.findall(r"\(([a-z_]+\.[A-Z]\w+)\)", output))


def web_line() -> str:
    (line,) = [
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    ]
    return line.removeprefix("web:").strip()


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@functools.cache
def collected_static() -> Path:
    """A STATIC_ROOT filled by the Procfile's release step (collectstatic, DEBUG off), once per
    test run: production's pages name their static files by hashes it records."""
    root = Path(tempfile.mkdtemp(prefix="sous-static-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    result = manage("collectstatic", "--noinput", env=environment(STATIC_ROOT=str(root)), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@contextlib.contextmanager
def web_process(env: dict[str, str]) -> Iterator[str]:
    """The Procfile's web line run by a shell, as a platform runs it; yields its base URL."""
    with web_server(env) as server:
        yield server.url


@dataclasses.dataclass
class WebServer:
    url: str
    # The shell running the line leads a session of its own: every process of the server has
    # this pid as its session id.
    session: int
    output: str = ""  # what the server wrote, once it has stopped


@contextlib.contextmanager
def web_server(env: dict[str, str]) -> Iterator[WebServer]:
    """web_process, yielding more of the server. Static files are collected first (the
    Procfile's release step), unless `env` names its own STATIC_ROOT."""
    port = free_port()
    process = subprocess.Popen(
        ["sh", "-c", web_line()],
        cwd=ROOT,
        env={"STATIC_ROOT": str(collected_static()), **env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = WebServer(f"http://127.0.0.1:{port}", process.pid)
    try:
        wait_for(
            lambda: _accepts(port) or process.poll() is not None,
            timeout=60,
            message="the web process did not start",
        )
        assert process.poll() is None, process.communicate()[0]
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        server.output, _ = process.communicate(timeout=30)
    assert "Traceback" not in server.output, server.output
