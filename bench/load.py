"""Closed-loop clients for the web run: each of `clients` sends its next GET as soon as its last
one was answered, for a fixed time, over keep-alive connections on the loopback.

Closed loop is how staff use the page (one click waits for its answer), so the offered load
falls when the server slows down: what it shows is the throughput and the answer times N
people get at once, not an overload. The clients are coroutines on one event loop with
httpx (already installed), light on the two cores they share with the server; the CPU they
use is measured and reported beside the results.

Every answer but a 200 is an error, and so is any exception (refused, reset, timed out).
No Django here: the web process is measured from outside, over HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

TIMEOUT_S = 30
STAGGER_S = 0.02  # between two clients' first requests, at most
ERROR_SAMPLES = 5


@dataclass
class Load:
    clients: int
    seconds: float  # from the first measured request sent to the last answer
    latencies_ms: list[float]  # answered requests, errors included
    errors: int
    error_samples: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # share of one core over `seconds`

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run(
    url: str,
    *,
    clients: int,
    seconds: float,
    warm_up: float = 1.0,
    headers: Mapping[str, str] | None = None,
    meters: Mapping[str, Callable[[], float]] | None = None,
) -> Load:
    """`clients` closed loops on `url`: `warm_up` seconds not counted (connections opened, the
    server's workers warmed), then `seconds` measured. `meters` are CPU-seconds counters (the
    web process, the machine) read around the measured part, as this process's own CPU is."""
    return asyncio.run(_run(url, clients, seconds, warm_up, dict(headers or {}), meters or {}))


async def _run(url, clients, seconds, warm_up, headers, meters) -> Load:
    # One connection per client, as each browser has its own: a pool shared by all of them
    # costs CPU that grows with the number of clients (httpcore scans it on every request).
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    https = [
        httpx.AsyncClient(headers=headers, limits=limits, timeout=TIMEOUT_S) for _ in range(clients)
    ]
    try:
        if warm_up > 0:
            # The clients arrive one after the other, as people do: connections opened in the
            # same instant would all go to the one server process that wakes first (an asyncio
            # server accepts up to 100 at a time), which no real load does.
            stagger = min(STAGGER_S, warm_up / 2 / clients)
            warming = Load(clients, 0, [], 0)
            await _loops(https, url, time.monotonic() + warm_up, warming, stagger)
        load = Load(clients, 0.0, [], 0)
        before = {name: meter() for name, meter in meters.items()}
        own = time.process_time()
        began = time.monotonic()
        await _loops(https, url, began + seconds, load)
        load.seconds = time.monotonic() - began
        load.cpu["generator"] = (time.process_time() - own) / load.seconds
        for name, meter in meters.items():
            load.cpu[name] = (meter() - before[name]) / load.seconds
    finally:
        await asyncio.gather(*(http.aclose() for http in https))
    return load


async def _loops(https, url: str, deadline: float, load: Load, stagger: float = 0.0) -> None:
    await asyncio.gather(
        *(_client(http, url, deadline, load, n * stagger) for n, http in enumerate(https))
    )


async def _client(http, url: str, deadline: float, load: Load, delay: float = 0.0) -> None:
    if delay:
        await asyncio.sleep(delay)
    while time.monotonic() < deadline:
        sent = time.perf_counter()
        try:
            response = await http.get(url)
        except httpx.HTTPError as exc:
            _error(load, f"{type(exc).__name__}: {exc}")
        else:
            if response.status_code != 200:
                where = response.headers.get("location", "")
                _error(load, f"{response.status_code} {where}".strip())
        load.latencies_ms.append((time.perf_counter() - sent) * 1000)


def _error(load: Load, what: str) -> None:
    load.errors += 1
    if len(load.error_samples) < ERROR_SAMPLES and what not in load.error_samples:
        load.error_samples.append(what)
