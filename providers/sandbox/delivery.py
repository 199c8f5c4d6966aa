"""Notification delivery, in the background of the sandbox process: one queue and scheduler
thread per half, shared by Square's webhooks and Drive's push channels.

A message goes to one target (a Square subscription, a Drive channel) as an HTTP POST; the
half's `Courier` says what to send for it, and after a failed attempt whether and when to try
again. A target gets one attempt at a time, in order (unless the `webhook_concurrency` knob
allows more), so a slow receiver holds up only its own deliveries. Success is a 2xx within
10 s; a 3xx is a failure (redirects are not followed).

The `webhook_*` knobs (providers.sandbox.core.Knobs) shape what the receiver sees: a delay
before the first attempt, deliveries dropped for good (Square keeps the event in its Events
API, which is what reconciliation is for), an acknowledged delivery sent again, a few held
back and sent shuffled, and retry delays compressed so tests run them in seconds.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from bisect import insort
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import requests

from .core import Knobs

TIMEOUT_S = 10
HOLD_S = 1.0  # a partial out-of-order batch goes out after this long
LOG_SIZE = 10_000  # deliveries the control API can show


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Attempt:
    retry_number: int
    sent_ms: int
    url: str
    status_code: int | None
    outcome: str  # delivered | http_error | http_timeout | other_error | cancelled
    duplicate: bool  # a second send of an acknowledged attempt
    duration_ms: int  # from sending to the receiver's answer (or the failure)

    def as_dict(self) -> dict:
        return {
            "retry_number": self.retry_number,
            "sent_at": datetime.fromtimestamp(self.sent_ms / 1000, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "notification_url": self.url,
            "status_code": self.status_code,
            "outcome": self.outcome,
            "duplicate": self.duplicate,
            "duration_ms": self.duration_ms,
        }


@dataclass
class Delivery:
    """One message on its way to one target."""

    id: int
    message: Any  # what the half queued: a Square event, a Drive notice
    target: str  # a subscription id, a channel id
    status: str = "pending"  # pending | held | delivered | failed | dropped | cancelled
    duplicates: int = 0  # sends still owed after the acknowledgement
    retry_number: int = 0  # attempts that failed so far
    reason: str = ""  # why the last attempt failed
    resend: bool = False  # the next attempt repeats the acknowledged one
    initial_ms: int | None = None
    attempts: list[Attempt] = field(default_factory=list)


class Courier(Protocol):
    """What a half knows about its notifications."""

    thread_name: str

    def request(self, delivery: Delivery) -> tuple[str, bytes, dict[str, str]] | None:
        """The URL, body and headers of the next attempt; None when the target is gone."""

    def retry_delay(self, delivery: Delivery, attempt: Attempt) -> float | None:
        """Seconds until the next attempt after a failed one (unscaled); None: give up."""

    def describe(self, delivery: Delivery) -> dict:
        """The delivery's fields for the control API (what `deliveries()` filters on)."""


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[str, int | None]:
    """Outcomes named as Square's v1 docs name square-retry-reason (http_timeout, ...)."""
    try:
        with requests.Session() as http:
            http.trust_env = False  # no proxy from the environment between provider and app
            response = http.post(
                url, data=body, headers=headers, timeout=TIMEOUT_S, allow_redirects=False
            )
    except requests.Timeout:
        return "http_timeout", None
    except requests.RequestException:
        return "other_error", None
    if 200 <= response.status_code < 300:
        return "delivered", response.status_code
    return "http_error", response.status_code


class Dispatcher:
    """The delivery queue and its scheduler thread, which runs only while work is queued."""

    def __init__(self, knobs: Knobs, courier: Courier, seed: int) -> None:
        self.knobs = knobs
        self.courier = courier
        self.seed = seed
        self.cond = threading.Condition()
        self.generation = 0
        self.reset()

    def reset(self) -> None:
        """Forget every delivery; attempts in flight finish unrecorded."""
        with self.cond:
            self.generation += 1
            self.rng = random.Random(self.seed)
            self.queue: list[tuple[float, int, Delivery]] = []  # (due, tie-break, ...), sorted
            self.held: list[Delivery] = []
            self.batch = 0  # which out-of-order batch is being held
            self.busy: Counter[str] = Counter()  # attempts in flight, per target
            self.log: deque[Delivery] = deque(maxlen=LOG_SIZE)
            self.running = False
            self._order = itertools.count()
            self._ids = itertools.count(1)
            self.cond.notify_all()

    # --- queueing -------------------------------------------------------------------------------

    def enqueue(self, message: Any, target: str) -> None:
        knobs = self.knobs
        with self.cond:
            delivery = Delivery(next(self._ids), message, target)
            self.log.append(delivery)
            if self.rng.random() < knobs.webhook_drop_rate:
                delivery.status = "dropped"
                return
            if self.rng.random() < knobs.webhook_duplicate_rate:
                delivery.duplicates = 1
            if knobs.webhook_out_of_order > 1:
                delivery.status = "held"
                self.held.append(delivery)
                if len(self.held) >= knobs.webhook_out_of_order:
                    self._release()
                elif len(self.held) == 1:
                    timer = threading.Timer(
                        HOLD_S, self._release_batch, args=(self.generation, self.batch)
                    )
                    timer.daemon = True
                    timer.start()
                return
            self._schedule(delivery, knobs.webhook_delay_ms / 1000)

    def _release_batch(self, generation: int, batch: int) -> None:
        with self.cond:
            if (generation, batch) == (self.generation, self.batch):
                self._release()

    def _release(self) -> None:
        held, self.held = self.held, []
        self.batch += 1
        shuffled = held[:]
        self.rng.shuffle(shuffled)
        if len(shuffled) > 1 and shuffled == held:
            shuffled.reverse()  # a shuffle that changed nothing would make the knob a no-op
        for delivery in shuffled:
            delivery.status = "pending"
            self._schedule(delivery, self.knobs.webhook_delay_ms / 1000)

    def _schedule(self, delivery: Delivery, delay_s: float) -> None:
        insort(self.queue, (time.monotonic() + delay_s, next(self._order), delivery))
        if not self.running:
            self.running = True
            name = self.courier.thread_name
            thread = threading.Thread(
                target=self._run, args=(self.generation,), daemon=True, name=name
            )
            thread.start()
        self.cond.notify_all()

    # --- sending --------------------------------------------------------------------------------

    def _take(self) -> tuple[Delivery | None, float | None]:
        """The first due delivery whose target has room; else how long until one is due
        (None: until an attempt in flight ends)."""
        now = time.monotonic()
        at_once = max(1, self.knobs.webhook_concurrency)
        for i, (due, _, delivery) in enumerate(self.queue):
            if self.busy[delivery.target] >= at_once:
                continue
            if due > now:
                return None, due - now
            del self.queue[i]
            return delivery, None
        return None, None

    def _run(self, generation: int) -> None:
        while True:
            with self.cond:
                if generation != self.generation:
                    return
                delivery, wait = self._take()
                if delivery is None:
                    if not self.queue:
                        self.running = False
                        return
                    self.cond.wait(wait)
                    continue
                self.busy[delivery.target] += 1
            sender = threading.Thread(
                target=self._attempt, args=(delivery, generation), daemon=True
            )
            sender.start()

    def _attempt(self, delivery: Delivery, generation: int) -> None:
        sent = _now_ms()
        if delivery.initial_ms is None:  # only this attempt's thread touches the delivery now
            delivery.initial_ms = sent
        request = self.courier.request(delivery)
        url, status_code, outcome = "", None, "cancelled"
        if request is not None:
            url, body, headers = request
            outcome, status_code = _post(url, body, headers)
        attempt = Attempt(
            delivery.retry_number,
            sent,
            url,
            status_code,
            outcome,
            delivery.resend,
            _now_ms() - sent,
        )
        with self.cond:
            self.busy[delivery.target] -= 1
            if not self.busy[delivery.target]:
                del self.busy[delivery.target]
            self.cond.notify_all()
            if generation == self.generation:
                self._settle(delivery, attempt)

    def _settle(self, delivery: Delivery, attempt: Attempt) -> None:
        delivery.attempts.append(attempt)
        if attempt.outcome == "cancelled":  # the target was disabled, deleted or stopped
            delivery.status = "cancelled"
            return
        if delivery.resend:  # whatever a duplicate's answer, the event was delivered before
            delivery.resend = False
            delivery.status = "delivered"
            return
        if attempt.outcome == "delivered":
            if delivery.duplicates:
                delivery.duplicates -= 1
                delivery.resend = True
                self._schedule(delivery, 0)
            else:
                delivery.status = "delivered"
            return
        delay = self.courier.retry_delay(delivery, attempt)
        if delay is None:
            delivery.status = "failed"
            return
        delivery.retry_number += 1
        delivery.reason = attempt.outcome
        self._schedule(delivery, delay * self.knobs.webhook_retry_scale)

    # --- for the control API ----------------------------------------------------------------------

    def flush(self, timeout_s: float) -> dict:
        """Send held deliveries now, then wait until nothing is queued or in flight."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            self._release()
            while self.queue or self.held or self.busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            pending = len(self.queue) + len(self.held) + self.busy.total()
        return {"idle": pending == 0, "pending": pending}

    def deliveries(self, **where: str) -> list[dict]:
        """Deliveries, oldest first, filtered on any of the courier's fields."""
        with self.cond:
            found = [self._describe(d) for d in self.log]
        return [d for d in found if all(d.get(k) == v for k, v in where.items())]

    def _describe(self, delivery: Delivery) -> dict:
        return {
            "id": delivery.id,
            **self.courier.describe(delivery),
            "status": delivery.status,
            "attempts": [a.as_dict() for a in delivery.attempts],
        }
