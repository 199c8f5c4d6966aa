"""Closed orders kept as the JSON they were served as, so a page is rendered only once.

A generated order is rebuilt from its seed on every request, which costs far more CPU than
serving it: about a tenth of a millisecond an order, a tenth of a second a page. Square serves
stored orders; on a machine shared with the importer (`make bench`) that rendering would be
counted against the importer. Once an order is COMPLETED or CANCELED its JSON never changes
(its state, times and version are fixed; only OPEN orders move with "now"), so its encoded
bytes are kept here, the least recently served dropped beyond a byte budget. Orders added or
changed through the control API are served from the overlay and never reach this cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import orjson

from .orders import INDEX_LIMIT, OrderGenerator

Serial = tuple[int, int]  # (location key, serial)


class RenderedOrders:
    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.size = 0
        self._lock = threading.Lock()
        self._by_serial: OrderedDict[Serial, bytes] = OrderedDict()
        self._generator: OrderGenerator | None = None  # whose orders are kept

    def __len__(self) -> int:
        return len(self._by_serial)

    def __contains__(self, key: Serial) -> bool:
        return key in self._by_serial

    def order(self, gen: OrderGenerator, loc_key: int, serial: int, now_ms: int):
        """The generated order behind a serial: a dict, or its JSON as an `orjson.Fragment`."""
        with self._lock:
            if gen is not self._generator:  # other seed or sizes (a reset): other orders
                self._by_serial.clear()
                self.size = 0
                self._generator = gen
            encoded = self._by_serial.get((loc_key, serial))
            if encoded is not None:
                self._by_serial.move_to_end((loc_key, serial))
                return orjson.Fragment(encoded)
        day, index = divmod(serial, INDEX_LIMIT)
        order = gen.build(gen.locations[loc_key], day, index, now_ms)
        if order["state"] == "OPEN" or self.budget <= 0:
            return order
        encoded = orjson.dumps(order)
        with self._lock:
            if gen is self._generator and (loc_key, serial) not in self._by_serial:
                self._by_serial[(loc_key, serial)] = encoded
                self.size += len(encoded)
            while self.size > self.budget and self._by_serial:
                _, dropped = self._by_serial.popitem(last=False)
                self.size -= len(dropped)
        return orjson.Fragment(encoded)
