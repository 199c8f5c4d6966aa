"""Run the sandbox over real HTTP for tests and benchmarks: in a background thread, or in a
process of its own that a test can stop and start again (`SandboxProcess`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import requests
import uvicorn

from .__main__ import make_context, parse_args
from .app import build_app


class SandboxServer:
    """A running sandbox: `url`, plus helpers over its control API."""

    def __init__(self, url: str, app) -> None:
        self.url = url
        self.app = app
        self.http = requests.Session()
        # A fresh connection per control call: uvicorn closes idle keep-alive connections
        # after 5 s, and a call sent as it does so was reset ("Connection reset by peer").
        self.http.headers["Connection"] = "close"

    def control(self, method: str, path: str, **kwargs):
        response = self.http.request(method, f"{self.url}/_sandbox/{path.lstrip('/')}", **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control("POST", "reset")

    def knobs(self, **values) -> dict:
        return self.control("POST", "knobs", json=values)

    def counters(self) -> dict[str, int]:
        return self.control("GET", "counters")

    def issued_tokens(self) -> list[str]:
        return [t for tokens in self.control("GET", "tokens").values() for t in tokens]

    def half(self, key: str):
        return self.app.state.halves[key]


@contextmanager
def run_sandbox(argv: list[str] | None = None, timeout: float = 15.0):
    """Start the sandbox on a free loopback port; yields a `SandboxServer`."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only when the protocol says TCP, and
    # without it every response waits ~40 ms on Nagle's algorithm.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    argv = list(argv or [])
    if not any(arg.startswith("--state-dir") for arg in argv):
        argv += ["--state-dir", ""]  # in memory, whatever SANDBOX_STATE_DIR says
    args = parse_args([*argv, "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    app = build_app(make_context(args, url))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the provider sandbox did not start")
        time.sleep(0.02)
    try:
        yield SandboxServer(url, app)
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


class SandboxProcess:
    """`python -m providers.sandbox` as `make run` starts it, on one port across restarts."""

    def __init__(self, *args: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.process: subprocess.Popen | None = None
        self.output = ""  # what the last run wrote to stdout and stderr, once stopped

    def start(self, timeout: float = 30.0) -> SandboxProcess:
        env = {k: v for k, v in os.environ.items() if k != "SANDBOX_STATE_DIR"}
        self.process = subprocess.Popen(  # noqa: S603 (this interpreter, our own module)
            [sys.executable, "-m", "providers.sandbox", "--port", str(self.port), *self.args],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{self.url}/_sandbox/health", timeout=1).raise_for_status()
                return self
            except requests.RequestException:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop(signal.SIGKILL)
                    raise RuntimeError(f"the sandbox did not start:\n{self.output}") from None
                time.sleep(0.05)

    def stop(self, how: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `how` and wait for the process to end; its exit code."""
        process, self.process = self.process, None
        if process is None:  # not running
            return 0
        if process.poll() is None:
            process.send_signal(how)
        self.output, _ = process.communicate(timeout=timeout)
        return process.returncode

    def control(self, method: str, path: str, **kwargs):
        url = f"{self.url}/_sandbox/{path.lstrip('/')}"
        response = requests.request(method, url, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()
