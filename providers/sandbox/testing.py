"""Run the sandbox in a background thread over real HTTP, for tests and benchmarks."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

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
    args = parse_args([*(argv or []), "--port", str(port)])
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
