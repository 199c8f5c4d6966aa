"""A notification URL for tests: a tiny HTTP server that records what the sandbox POSTs to it
(Square's webhooks, Drive's push notifications)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from square.utils.webhooks_helper import verify_signature

PATH = "/hooks/square"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def event(self) -> dict:
        return json.loads(self.body)

    def signed_by(self, key: str, url: str) -> bool:
        """Checked with the official SDK's helper, not with the sandbox's own code."""
        return verify_signature(
            request_body=self.body.decode(),
            signature_header=self.headers.get("x-square-hmacsha256-signature", ""),
            signature_key=key,
            notification_url=url,
        )


class Receiver:
    """Answers 200 unless told otherwise: `answer(500, 302)` scripts the next answers."""

    def __init__(self, path: str = PATH) -> None:
        self.cond = threading.Condition()
        self.received: list[Received] = []
        self._script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.cond:
                    receiver.received.append(
                        Received(self.command, self.path, headers, body, time.monotonic())
                    )
                    status = receiver._script.pop(0) if receiver._script else 200
                    receiver.cond.notify_all()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/moved")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = _record

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def answer(self, *statuses: int) -> None:
        with self.cond:
            self._script.extend(statuses)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first `count` requests, once they have arrived; AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.received)} of {count} requests arrived"
                self.cond.wait(left)
            return list(self.received[:count])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
