"""The sandbox's own clock: generated orders complete as real time passes (orders.py).

A restaurant takes its orders on the POS, which publishes no order event (README §10); its
payments do. So once a second the clock finds the generated orders that completed since it last
looked and publishes their payments (payment.created, and payment.updated once a card payment
is captured) to the apps that may read that merchant's payments. It also forgets events older
than the Events API keeps.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from bisect import bisect_right
from typing import TYPE_CHECKING

from .merchants import Location
from .orders import INDEX_LIMIT, MAX_CLOSE_DELAY_MS, OrderGenerator, local_ordinal
from .timefmt import now_ms

if TYPE_CHECKING:
    from .state import SquareState

TICK_S = 1.0
CACHE_DAYS = 4096  # (location, day) close-time indexes kept between ticks
logger = logging.getLogger(__name__)


class LiveClock:
    def __init__(self, state: SquareState) -> None:
        self.state = state
        self.last_ms = now_ms()
        self._generator: OrderGenerator | None = None
        # (location key, day) -> close times of its completed orders, sorted, and their indexes
        self._closes: dict[tuple[int, int], tuple[list[int], list[int]]] = {}

    def start(self) -> None:
        # The thread holds the clock weakly: a sandbox that is dropped (tests start several
        # in one process) stops ticking instead of living on in its thread.
        thread = threading.Thread(
            target=_tick_forever, args=(weakref.ref(self),), daemon=True, name="square-clock"
        )
        thread.start()

    def reset(self) -> None:
        self.last_ms = now_ms()

    def tick(self) -> None:
        now = now_ms()
        with self.state.lock:
            since, self.last_ms = self.last_ms, now
            self.publish_closed(since, now)
            self.state.events.prune(now)

    def publish_closed(self, start_ms: int, end_ms: int) -> None:
        """Publish the payments of generated orders that completed in (start_ms, end_ms]."""
        state = self.state
        with state.lock:
            gen = state.generator
            for merchant in state.data.merchants:
                if not state.oauth.clients_with_grant(merchant.id, "PAYMENTS_READ"):
                    continue  # nobody may see them: Square records no event either
                for loc in merchant.locations:
                    for day, index in self._completed(gen, loc, start_ms, end_ms):
                        if (loc.key, day * INDEX_LIMIT + index) in state.orders_by_serial:
                            continue  # changed through the control API, which published it
                        order = gen.build(loc, day, index, end_ms)
                        state.publish_payment(None, order, merchant, durable=False)

    def _completed(
        self, gen: OrderGenerator, loc: Location, start_ms: int, end_ms: int
    ) -> list[tuple[int, int]]:
        """(day, index) of the location's orders completed in (start_ms, end_ms], by close."""
        if gen is not self._generator:  # other sizes: other orders
            self._generator, self._closes = gen, {}
        first, last = gen.history(loc, end_ms)
        # An order closes at most MAX_CLOSE_DELAY_MS after it opened, and a business day's
        # orders may open after midnight, on the next local date.
        day_lo = max(first, local_ordinal(start_ms - MAX_CLOSE_DELAY_MS, loc.tz) - 1)
        day_hi = min(last, local_ordinal(end_ms, loc.tz))
        found = []
        for day in range(day_lo, day_hi + 1):
            closes, indexes = self._by_close(gen, loc.key, day)
            lo, hi = bisect_right(closes, start_ms), bisect_right(closes, end_ms)
            found += [(closes[i], day, indexes[i]) for i in range(lo, hi)]
        found.sort()
        return [(day, index) for _, day, index in found]

    def _by_close(self, gen: OrderGenerator, loc_key: int, day: int) -> tuple[list[int], list[int]]:
        cached = self._closes.get((loc_key, day))
        if cached is None:
            keys = gen.day_keys(loc_key, day)
            completed = sorted((c, i) for i, c in enumerate(keys.closed) if not keys.canceled[i])
            cached = [c for c, _ in completed], [i for _, i in completed]
            if len(self._closes) >= CACHE_DAYS:
                self._closes.clear()
            self._closes[(loc_key, day)] = cached
        return cached


def _tick_forever(ref: weakref.ref[LiveClock]) -> None:
    while True:
        time.sleep(TICK_S)
        clock = ref()
        if clock is None:
            return
        try:
            clock.tick()
        except Exception:  # one bad tick must not stop time for the rest of the run
            logger.exception("square.sandbox.clock.tick_failed")
        del clock
