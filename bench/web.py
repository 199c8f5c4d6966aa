"""Sous's web process for the bench, served as production serves it: daphne, one process
(Procfile `web`), so a webhook's answer time is real HTTP through the real ASGI stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import requests

from .environment import ROOT

WEBHOOK_PATH = "/integrations/webhooks/square"


@contextmanager
def daphne(port: int, env: dict):
    """`daphne sous.asgi:application` on 127.0.0.1:`port`; yields its pid once it answers."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "sous.asgi:application",
        ],
        cwd=ROOT,
        # The connection pool the Procfile gives the web process.
        env={"DATABASE_POOL_SIZE": "20", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_it_answers(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", process)
        yield process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _wait_until_it_answers(url: str, process: subprocess.Popen) -> None:
    # A GET on the webhook endpoint is refused (405) without touching the database: any
    # answer means Django is loaded and serving.
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("daphne did not start") from None
            time.sleep(0.2)
