"""What every sandbox half shares: knobs, counters, the half interface.

A half (Square, Google) is built from a `SandboxContext` and returns a `SandboxHalf`. The
composing app mounts `half.routes` under `/<key>` and `half.control_routes` under
`/_sandbox/<key>`, applies latency and fault injection to every emulated request, and lets the
half render the fault in its provider's own error format.
"""

from __future__ import annotations

import argparse
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Protocol

from starlette.responses import Response
from starlette.routing import BaseRoute


@dataclass
class Knobs:
    """Realism knobs, switchable at run time through `POST /_sandbox/knobs`."""

    latency_ms: int = 0
    rate_429: float = 0.0  # fraction of emulated requests answered 429 with Retry-After
    retry_after: int = 1  # seconds, sent with each injected 429
    rate_5xx: float = 0.0  # fraction of emulated requests answered 500 or 503
    # Webhook delivery, as the receiving end sees it (providers/sandbox/delivery.py).
    webhook_delay_ms: int = 0  # before an event's first delivery attempt
    webhook_drop_rate: float = 0.0  # fraction never sent nor retried (the Events API keeps them)
    webhook_duplicate_rate: float = 0.0  # fraction sent a second time after being acknowledged
    webhook_out_of_order: int = 0  # hold this many deliveries, then send them shuffled (<2: off)
    webhook_retry_scale: float = 1.0  # multiplies the retry schedule: 0.001 makes 1 minute 60 ms
    # Attempts in flight per target at once. 1 (the default) sends a target's deliveries one
    # after the other, in order; Square sends from many machines at once, which is what a
    # burst of hundreds of events a second needs (`make bench`'s webhook run).
    webhook_concurrency: int = 1

    def update(self, values: dict) -> None:
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f"unknown knob {name!r}")
            current = getattr(self, name)
            setattr(self, name, type(current)(value))

    def as_dict(self) -> dict:
        return asdict(self)


class Counters:
    """Calls per named endpoint (e.g. `square.oauth.token.refresh_token`), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def incr(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._counts[name] += by

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass
class SandboxContext:
    """Handed to each half's `build()`: the shared knobs, counters and options."""

    base_url: str  # e.g. http://127.0.0.1:8765 (no trailing slash); a half lives at base_url/<key>
    seed: int
    args: argparse.Namespace  # the half's own flags, added by its `add_arguments()`
    knobs: Knobs = field(default_factory=Knobs)
    counters: Counters = field(default_factory=Counters)
    rng: random.Random = field(default_factory=random.Random)
    # Where grants, tokens and changes are kept across restarts (persistence.py); None: in
    # memory only, as tests and benchmarks run it.
    state_dir: str | None = None

    def half_url(self, key: str) -> str:
        return f"{self.base_url}/{key}"


class IncompatibleState(ValueError):
    """Saved state that cannot apply to this run (other sizes, other seed, other format). The
    message says why, in words for the person starting the sandbox; it never holds a token."""


class SandboxHalf(Protocol):
    key: str  # "square" | "google": the URL prefix and the control prefix
    routes: list[BaseRoute]  # the emulated API, mounted at /<key>
    control_routes: list[BaseRoute]  # test hooks, mounted at /_sandbox/<key>

    def reset(self) -> None:
        """Back to the seeded state: data, grants, tokens (counters are reset by the app)."""

    def issued_tokens(self) -> list[str]:
        """Every access and refresh token string this half has handed out since the reset."""

    def expire_all_tokens(self) -> None:
        """Make every access token issued so far expired (refresh tokens stay valid)."""

    def fault_response(self, status: int, retry_after: int) -> Response:
        """An injected 429/500/503 in this provider's own error format."""

    def changes_state(self, method: str, path: str, control: bool) -> bool:
        """Whether a request may change what `snapshot()` returns; `path` is below the half's
        mount (`/<key>`, or `/_sandbox/<key>` when `control`). Asked on every request when a
        state dir is set, so it must be cheap; when unsure, True (a needless save only costs
        time, a missed one loses a change)."""

    def snapshot(self) -> dict:
        """What differs from the seeded state, as JSON-ready data (taken under the half's lock)."""

    def restore(self, saved: dict) -> None:
        """Apply a `snapshot()` of an earlier run to the seeded state; `IncompatibleState` (or
        any error) leaves the app to reset the half and start fresh."""
