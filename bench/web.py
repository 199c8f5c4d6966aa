"""Sous's web process for the bench, started as production starts it: the static files
collected by the Procfile's `release` line, then its `web` line, read when the bench runs,
so the bench measures whatever production runs (one daphne, or several ASGI workers).

Two changes to production, both for the loopback: the port is a free one (`PORT`), and the
server listens on 127.0.0.1 only (the line's 0.0.0.0 is rewritten; for a gunicorn config file,
GUNICORN_CMD_ARGS, which outranks it). The bench checks the listening sockets and refuses to
measure a server reachable from elsewhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from .environment import ROOT, cpu_seconds

WEBHOOK_PATH = "/integrations/webhooks/square"
LOOPBACK = "127.0.0.1"
# Addresses as /proc/net/tcp{,6} spell them: 127.0.0.1 and ::1.
LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000"}
_released: list[bool] = []  # whether this process already ran the release line


def procfile_line(name: str) -> str:
    """A process's command in the Procfile, parsed as honcho (and platforms) parse it."""
    from honcho.environ import parse_procfile

    processes = parse_procfile((ROOT / "Procfile").read_text()).processes
    if name not in processes:
        raise RuntimeError(f"the Procfile has no {name!r} line")
    return processes[name]


def on_loopback(command: str) -> str:
    return command.replace("0.0.0.0", LOOPBACK)  # noqa: S104 - the address being replaced


def process_env(env: dict, **extra: str) -> dict:
    """The bench's environment for a Procfile line: the venv's commands first on PATH (the
    Procfile names `python`, `daphne`, ... as a deployment's image has them)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', os.environ['PATH'])}"
    return {**env, "PATH": path, **extra}


def server_env(env: dict, port: int) -> dict:
    """The web line's environment: the port, and the loopback for a gunicorn whose config file
    binds elsewhere (its command-line settings in GUNICORN_CMD_ARGS outrank the file's)."""
    return process_env(env, PORT=str(port), GUNICORN_CMD_ARGS=f"--bind {LOOPBACK}:{port}")


def release(env: dict) -> None:
    """The static files collected as the Procfile's release line collects them, once per bench
    process. Only that part of the line: its `migrate` runs Django's system checks, which
    rightly refuse providers pointed at the sandbox with DEBUG off; every bench run migrates
    its fresh database itself (call_command, no checks)."""
    if _released:
        return
    steps = [s.strip() for s in procfile_line("release").split("&&") if "collectstatic" in s]
    if not steps:
        raise RuntimeError("the Procfile's release line collects no static files")
    for step in steps:
        result = subprocess.run(
            ["sh", "-c", step],
            cwd=ROOT,
            env=process_env(env),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{step} failed:\n{result.stdout}{result.stderr}")
    _released.append(True)


class WebProcess:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.url = f"http://{LOOPBACK}:{port}"

    def pids(self) -> list[int]:
        """The shell, the server and its worker processes (gunicorn forks them)."""
        return [self.process.pid, *descendants(self.process.pid)]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def errors(self) -> list[str]:
        """Lines of its log that report an error (a traceback, an ERROR record)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [
            line
            for line in text.splitlines()
            if "Traceback" in line or '"level": "ERROR"' in line or " ERROR " in line
        ]


@contextmanager
def serve(port: int, env: dict):
    """The Procfile's web line on 127.0.0.1:`port`, the static files collected first; yields a
    WebProcess once it answers."""
    release(env)
    command = on_loopback(procfile_line("web"))
    with tempfile.TemporaryDirectory(prefix="sous-bench-web-") as tmp:
        log = Path(tmp) / "web.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["sh", "-c", command],
                cwd=ROOT,
                env=server_env(env, port),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        web = WebProcess(process, port, log)
        try:
            _wait_until_it_answers(f"{web.url}{WEBHOOK_PATH}", process, log)
            _refuse_beyond_loopback(port)
            yield web
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_until_it_answers(url: str, process: subprocess.Popen, log: Path) -> None:
    # A GET on the webhook endpoint is refused (405) without touching the database: any
    # answer means Django is loaded and serving.
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise RuntimeError(f"the web process did not start:\n{tail}") from None
            time.sleep(0.2)


def _refuse_beyond_loopback(port: int) -> None:
    exposed = [a for a in listening_addresses(port) if a not in LOOPBACK_HEX]
    if exposed:
        raise RuntimeError(
            f"the Procfile's web line listens on port {port} beyond the loopback "
            f"({', '.join(exposed)} in /proc/net/tcp): the bench only measures on 127.0.0.1"
        )


def listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net spells them) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found
