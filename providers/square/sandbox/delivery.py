"""Webhook delivery (README §10), in the background of the sandbox process.

Each event goes to every enabled subscription of its app that names its type, as a POST of the
bytes recorded for it, signed for the subscription's URL and key as they are at send time. A
2xx within 10 s is success; anything else, a 3xx included (redirects are not followed), is
retried on Square's schedule: after 1, 2, 4, 8, 16 and 32 minutes, then hourly, 78 retries over
about 72 hours, then given up ([D13] in the README's source key). A subscription gets one
attempt at a time, in order, so a slow receiver holds up only its own deliveries.

The `webhook_*` knobs (providers.sandbox.core.Knobs) shape what the receiver sees: a delay
before the first attempt, deliveries dropped for good (the event stays in the Events API, which
is what reconciliation is for), an acknowledged delivery sent again, a few held back and sent
shuffled, and the retry schedule compressed so tests run it in seconds.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from bisect import insort
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from providers.sandbox.core import Knobs

from .events import Event
from .timefmt import iso_ms, now_ms
from .webhooks import sign

RETRY_DELAYS_S = (60, 120, 240, 480, 960, 1920) + (3600,) * 72
TIMEOUT_S = 10
HOLD_S = 1.0  # a partial out-of-order batch goes out after this long
LOG_SIZE = 10_000  # deliveries the control API can show
ENVIRONMENT = "Sandbox"  # square-environment: Production or Sandbox (README §10)

Target = Callable[[str], tuple[str, str] | None]  # subscription id -> (url, signature key)


@dataclass(frozen=True)
class Attempt:
    retry_number: int
    sent_ms: int
    notification_url: str
    status_code: int | None
    outcome: str  # delivered | http_error | http_timeout | other_error | cancelled
    duplicate: bool  # a second send of an acknowledged attempt

    def as_dict(self) -> dict:
        return {
            "retry_number": self.retry_number,
            "sent_at": iso_ms(self.sent_ms),
            "notification_url": self.notification_url,
            "status_code": self.status_code,
            "outcome": self.outcome,
            "duplicate": self.duplicate,
        }


@dataclass
class Delivery:
    """One event on its way to one subscription."""

    id: int
    event: Event
    subscription_id: str
    status: str = "pending"  # pending | held | delivered | failed | dropped | cancelled
    duplicates: int = 0  # sends still owed after the acknowledgement
    retry_number: int = 0  # square-retry-number of the next attempt
    reason: str = ""  # why the last attempt failed: square-retry-reason
    resend: bool = False  # the next attempt repeats the acknowledged one
    initial_ms: int | None = None
    attempts: list[Attempt] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "event_id": self.event.event_id,
            "event_type": self.event.type,
            "merchant_id": self.event.merchant_id,
            "subscription_id": self.subscription_id,
            "status": self.status,
            "attempts": [a.as_dict() for a in self.attempts],
        }


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[str, int | None]:
    """Outcomes named as the v1 docs name square-retry-reason (http_timeout, http_error, ...)."""
    try:
        with requests.Session() as http:
            http.trust_env = False  # no proxy from the environment between Square and the app
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

    def __init__(self, knobs: Knobs, target: Target, seed: int) -> None:
        self.knobs = knobs
        self.target = target
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
            self.busy: set[str] = set()  # subscriptions with an attempt in flight
            self.log: deque[Delivery] = deque(maxlen=LOG_SIZE)
            self.running = False
            self._order = itertools.count()
            self._ids = itertools.count(1)
            self.cond.notify_all()

    # --- queueing -------------------------------------------------------------------------------

    def enqueue(self, event: Event, subscription_id: str) -> None:
        knobs = self.knobs
        with self.cond:
            delivery = Delivery(next(self._ids), event, subscription_id)
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
            thread = threading.Thread(
                target=self._run, args=(self.generation,), daemon=True, name="square-webhooks"
            )
            thread.start()
        self.cond.notify_all()

    # --- sending --------------------------------------------------------------------------------

    def _take(self) -> tuple[Delivery | None, float | None]:
        """The first due delivery whose subscription is free; else how long until one is due
        (None: until an attempt in flight ends)."""
        now = time.monotonic()
        for i, (due, _, delivery) in enumerate(self.queue):
            if delivery.subscription_id in self.busy:
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
                self.busy.add(delivery.subscription_id)
            sender = threading.Thread(
                target=self._attempt, args=(delivery, generation), daemon=True
            )
            sender.start()

    def _attempt(self, delivery: Delivery, generation: int) -> None:
        target = self.target(delivery.subscription_id)
        sent = now_ms()
        url, status_code, outcome = "", None, "cancelled"
        if target is not None:
            url, key = target
            body = delivery.event.body
            headers = {
                "content-type": "application/json",
                "x-square-hmacsha256-signature": sign(key, url, body),
                "square-environment": ENVIRONMENT,
                "square-initial-delivery-timestamp": iso_ms(delivery.initial_ms or sent),
            }
            if delivery.retry_number:  # README §10: the first delivery is not counted
                headers["square-retry-number"] = str(delivery.retry_number)
                headers["square-retry-reason"] = delivery.reason
            outcome, status_code = _post(url, body, headers)
        with self.cond:
            self.busy.discard(delivery.subscription_id)
            self.cond.notify_all()
            if generation == self.generation:
                self._settle(
                    delivery,
                    Attempt(
                        delivery.retry_number, sent, url, status_code, outcome, delivery.resend
                    ),
                )

    def _settle(self, delivery: Delivery, attempt: Attempt) -> None:
        delivery.attempts.append(attempt)
        if attempt.outcome == "cancelled":  # the subscription was disabled or deleted
            delivery.status = "cancelled"
            return
        if delivery.initial_ms is None:
            delivery.initial_ms = attempt.sent_ms
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
        if delivery.retry_number >= len(RETRY_DELAYS_S):
            delivery.status = "failed"
            return
        delay = RETRY_DELAYS_S[delivery.retry_number] * self.knobs.webhook_retry_scale
        delivery.retry_number += 1
        delivery.reason = attempt.outcome
        self._schedule(delivery, delay)

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
            pending = len(self.queue) + len(self.held) + len(self.busy)
        return {"idle": pending == 0, "pending": pending}

    def deliveries(self, **where: str) -> list[dict]:
        """Deliveries, oldest first, filtered on any of event_id, event_type, subscription_id."""
        with self.cond:
            found = [d.as_dict() for d in self.log]
        return [d for d in found if all(d[k] == v for k, v in where.items())]
