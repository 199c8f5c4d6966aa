"""A paced burst of order changes in the sandbox, and a watch on PostgreSQL for their rows.

The changes are made open loop: change `i` is due at `start + i / rate`, whatever became of
the ones before, so a slow answer somewhere delays the measurement, never the offered load
(a closed loop would slow down exactly when Sous does, and hide it). Sixteen sender threads
share the schedule so that slow control calls (the sandbox shares the machine's cores with
Sous) do not hold up the ones due after them.

Each change is a new version of one order (its metadata edited through the sandbox's control
API), which publishes one `order.updated` and no payment event (the payment does not change),
so N changes are N webhook deliveries. The time of a change is the order's `updated_at` as
the sandbox answered it (its clock is this machine's).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
import requests

SENDERS = 16
POLL_S = 0.05  # how often the watcher reads the rows: the resolution of change-to-row


@dataclass(frozen=True)
class Change:
    order_id: str
    version: int
    changed_ms: int  # the order's updated_at in the sandbox


def _ms(rfc3339: str) -> int:
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class Sent:
    changes: list[Change] = field(default_factory=list)
    first_s: float = 0.0  # wall clock of the first and last change made
    last_s: float = 0.0
    late_s: float = 0.0  # how far behind its schedule the latest change was made

    @property
    def rate(self) -> float:
        span = self.last_s - self.first_s
        return (len(self.changes) - 1) / span if span > 0 else 0.0


def change_orders(sandbox_url: str, order_ids: list[str], count: int, rate: float, watch) -> Sent:
    """`count` changes over `order_ids` in turn (each order changed every len(order_ids)/rate
    seconds), `rate` a second; each is handed to `watch` as soon as the sandbox answers."""
    url = f"{sandbox_url}/_sandbox/square/orders/"
    sent, lock = Sent(), threading.Lock()
    numbers = itertools.count()
    start = time.monotonic() + 0.05

    def sender() -> None:
        with requests.Session() as http:
            while (i := next(numbers)) < count:
                due = start + i / rate
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                order_id = order_ids[i % len(order_ids)]
                answer = http.patch(url + order_id, json={"metadata": {"bench_edit": str(i)}})
                answer.raise_for_status()
                order = answer.json()["order"]
                change = Change(order_id, order["version"], _ms(order["updated_at"]))
                watch.expect(change)
                now = time.time()
                with lock:
                    sent.changes.append(change)
                    sent.first_s = min(sent.first_s or now, now)
                    sent.last_s = max(sent.last_s, now)
                    sent.late_s = max(sent.late_s, time.monotonic() - due)

    threads = [threading.Thread(target=sender, name=f"bench-change-{n}") for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent


class RowWatch:
    """Reads the orders' stored versions every POLL_S on its own connection, and notes when
    each expected change (an order at a version, or newer) first shows."""

    def __init__(self, db_url: str, organization_id: int) -> None:
        self.db_url = db_url
        self.organization_id = organization_id
        self.lock = threading.Lock()
        self.pending: dict[str, deque[Change]] = {}
        self.seen: list[tuple[Change, int]] = []  # (change, wall ms its row was first read)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-row-watch", daemon=True)

    def expect(self, change: Change) -> None:
        with self.lock:
            self.pending.setdefault(change.order_id, deque()).append(change)

    def outstanding(self) -> int:
        with self.lock:
            return sum(len(q) for q in self.pending.values())

    def take_seen(self) -> list[tuple[Change, int]]:
        with self.lock:
            seen, self.seen = self.seen, []
        return seen

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()

    def wait(self, timeout_s: float) -> bool:
        """Until every expected change has shown, or `timeout_s`; whether all did."""
        deadline = time.monotonic() + timeout_s
        while self.outstanding():
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_S)
        return True

    def _run(self) -> None:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while not self.stopping.is_set():
                # The moment the read begins: any row it returns was committed by then.
                read_ms = time.time_ns() // 1_000_000
                rows = conn.execute(
                    "SELECT external_id, version FROM sales_order "
                    "WHERE organization_id = %s AND source = 'square'",
                    (self.organization_id,),
                ).fetchall()
                self._note(dict(rows), read_ms)
                self.stopping.wait(POLL_S)

    def _note(self, versions: dict[str, int], read_ms: int) -> None:
        with self.lock:
            for order_id, queue in self.pending.items():
                stored = versions.get(order_id, 0)
                while queue and queue[0].version <= stored:
                    self.seen.append((queue.popleft(), read_ms))
