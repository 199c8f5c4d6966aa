"""Walk orders in timestamp order, generating only the business days a page touches.

Every order has a sort key `(timestamp ms, location key, serial)`: unique, totally ordered and
small enough to live in a cursor (keyset paging). Per location the generated orders come day
by day: business days never overlap in time (see `orders.MAX_CLOSE_DELAY_MS`), so sorting each
day and concatenating the days gives the location's stream in order. Locations and the
in-memory orders (added or changed through the control API) are merged with `heapq.merge`.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson

from .merchants import Location
from .orders import (
    ADDED_SERIAL_BASE,
    INDEX_LIMIT,
    MAX_CLOSE_DELAY_MS,
    VERSION,
    OrderGenerator,
    local_ordinal,
)
from .rendered import RenderedOrders

Key = tuple[int, int, int]  # (timestamp ms, location key, serial)
FIELDS = ("created_at", "updated_at", "closed_at")


@dataclass(frozen=True)
class StoredOrder:
    """An order held in memory: added through the control API, or a generated one changed."""

    order: dict
    loc_key: int
    serial: int
    created_ms: int
    updated_ms: int
    closed_ms: int | None
    state: str
    total: int

    def time(self, field: str) -> int | None:
        if field == "created_at":
            return self.created_ms
        if field == "updated_at":
            return self.updated_ms
        return self.closed_ms


@dataclass(frozen=True)
class Overlay:
    """A snapshot of the in-memory orders, taken under the lock and then read freely."""

    by_serial: dict[tuple[int, int], StoredOrder]

    def stored(self, loc_keys: set[int]) -> Iterable[StoredOrder]:
        return (s for (loc_key, _), s in self.by_serial.items() if loc_key in loc_keys)


@dataclass(frozen=True)
class Window:
    """Which orders a walk visits, and in which direction."""

    field: str  # created_at | updated_at | closed_at: filtered and sorted on
    lo: int | None  # inclusive bound in ms, or unbounded
    hi: int | None  # inclusive bound in ms, or unbounded
    states: frozenset[str] | None  # None: every state
    desc: bool


def _after(key: Key, after: Key | None, desc: bool) -> bool:
    return after is None or (key < after if desc else key > after)


def generated_keys(
    gen: OrderGenerator,
    loc: Location,
    window: Window,
    after: Key | None,
    now_ms: int,
    replaced: dict[tuple[int, int], StoredOrder],
) -> Iterator[Key]:
    """Keys of one location's generated orders in the window, lazily, day by day."""
    first, last = gen.history(loc, now_ms)
    lo, hi = window.lo, window.hi
    if after is not None:  # keyset paging: start from the cursor's position
        if window.desc:
            hi = after[0] if hi is None else min(hi, after[0])
        else:
            lo = after[0] if lo is None else max(lo, after[0])
    hi = now_ms if hi is None else min(hi, now_ms)  # nothing generated lies in the future
    if lo is not None and lo > hi:
        return
    # Business day d runs from its opening into the early hours of d+1: a window starting on
    # local date D can still catch the tail of business day D-1.
    day_lo = first if lo is None else max(first, local_ordinal(lo, loc.tz) - 1)
    day_hi = min(last, local_ordinal(hi, loc.tz))
    days = range(day_lo, day_hi + 1)
    field, states, desc = window.field, window.states, window.desc
    for day in reversed(days) if desc else days:
        keys = gen.day_keys(loc.key, day)
        created, closed, canceled = keys.created, keys.closed, keys.canceled
        start = 0
        if lo is not None:  # every timestamp of an order is at or after its creation
            start = bisect_left(created, lo if field == "created_at" else lo - MAX_CLOSE_DELAY_MS)
        base = day * INDEX_LIMIT
        batch: list[Key] = []
        for i in range(start, len(created)):
            made = created[i]
            if made > hi:
                break
            done = closed[i]
            state = ("CANCELED" if canceled[i] else "COMPLETED") if done <= now_ms else "OPEN"
            if states is not None and state not in states:
                continue
            if field == "created_at":
                at = made
            elif state == "OPEN":
                if field == "closed_at":
                    continue
                at = made  # an open order was last updated when it was created
            else:
                at = done
            if at > hi or (lo is not None and at < lo):
                continue
            serial = base + i
            if replaced and (loc.key, serial) in replaced:
                continue
            key = (at, loc.key, serial)
            if after is not None and not _after(key, after, desc):
                continue
            batch.append(key)
        if field != "created_at":
            batch.sort()
        if desc:
            batch.reverse()
        yield from batch


def stored_keys(
    overlay: Overlay, loc_keys: set[int], window: Window, after: Key | None
) -> list[Key]:
    keys = []
    for stored in overlay.stored(loc_keys):
        if window.states is not None and stored.state not in window.states:
            continue
        at = stored.time(window.field)
        if at is None:
            continue
        if (window.lo is not None and at < window.lo) or (window.hi is not None and at > window.hi):
            continue
        key = (at, stored.loc_key, stored.serial)
        if _after(key, after, window.desc):
            keys.append(key)
    keys.sort(reverse=window.desc)
    return keys


def walk(
    gen: OrderGenerator,
    locations: list[Location],
    window: Window,
    after: Key | None,
    now_ms: int,
    overlay: Overlay,
) -> Iterator[Key]:
    """Every matching order's key across `locations`, in window order, after `after`."""
    streams: list[Iterable[Key]] = [
        generated_keys(gen, loc, window, after, now_ms, overlay.by_serial) for loc in locations
    ]
    streams.append(stored_keys(overlay, {loc.key for loc in locations}, window, after))
    return heapq.merge(*streams, reverse=window.desc)


def resolve(
    gen: OrderGenerator,
    overlay: Overlay,
    key: Key,
    now_ms: int,
    rendered: RenderedOrders | None = None,
) -> dict | orjson.Fragment:
    """The full Order behind a key: a dict, or its JSON when `rendered` keeps it encoded."""
    _, loc_key, serial = key
    stored = overlay.by_serial.get((loc_key, serial))
    if stored is not None:
        return stored.order
    if rendered is not None:
        return rendered.order(gen, loc_key, serial, now_ms)
    day, index = divmod(serial, INDEX_LIMIT)
    return gen.build(gen.locations[loc_key], day, index, now_ms)


def entry(gen: OrderGenerator, overlay: Overlay, key: Key, now_ms: int) -> dict:
    """An OrderEntry (`return_entries`), without building the order."""
    _, loc_key, serial = key
    stored = overlay.by_serial.get((loc_key, serial))
    loc = gen.locations[loc_key]
    if stored is not None:
        return {
            "order_id": stored.order["id"],
            "version": stored.order.get("version", 1),
            "location_id": loc.id,
        }
    day, index = divmod(serial, INDEX_LIMIT)
    _, _, state = gen.light(loc, day, index, now_ms)
    return {
        "order_id": gen.order_id(loc, day, index),
        "version": VERSION[state],
        "location_id": loc.id,
    }


def is_added(serial: int) -> bool:
    return serial >= ADDED_SERIAL_BASE
