"""What SearchOrders *should* return for a range: count and sum of `total_money`.

Deliberately a separate, naive walk (every day, every order, no cursors, no merging), so tests
comparing a paged backfill with it check the paging machinery against something independent.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import money
from .merchants import Location
from .orders import INDEX_LIMIT, MAX_CLOSE_DELAY_MS, OrderGenerator, state_at
from .timefmt import iso_ms
from .timeline import Overlay

ALL_STATES = frozenset({"OPEN", "COMPLETED", "CANCELED"})


@dataclass(frozen=True)
class GroundTruth:
    location_id: str
    field: str
    start_ms: int
    end_ms: int
    states: frozenset[str]
    count: int
    total: int
    order_ids: frozenset[str] | None = None  # filled when asked for (small ranges in tests)

    def as_dict(self) -> dict:
        body = {
            "location_id": self.location_id,
            "field": self.field,
            "start": iso_ms(self.start_ms),
            "end": iso_ms(self.end_ms),
            "states": sorted(self.states),
            "count": self.count,
            "total_money": money(self.total),
        }
        if self.order_ids is not None:
            body["order_ids"] = sorted(self.order_ids)
        return body


def ground_truth(
    gen: OrderGenerator,
    overlay: Overlay,
    loc: Location,
    start_ms: int,
    end_ms: int,
    field: str,
    states: frozenset[str] | None,
    now_ms: int,
    with_ids: bool = False,
) -> GroundTruth:
    """Orders of `loc` whose `field` lies in [start_ms, end_ms] (inclusive), as of `now_ms`."""
    wanted = states or ALL_STATES
    count = total = 0
    order_ids: set[str] = set()
    first, last = gen.history(loc, now_ms)
    for day in range(first, last + 1):
        keys = gen.day_keys(loc.key, day)
        if not keys.created:
            continue
        if keys.created[-1] + MAX_CLOSE_DELAY_MS < start_ms or keys.created[0] > end_ms:
            continue
        for index, created in enumerate(keys.created):
            if created > now_ms:
                break
            closed = keys.closed[index]
            state = state_at(closed, bool(keys.canceled[index]), now_ms)
            if state not in wanted:
                continue
            if field == "created_at":
                at = created
            elif field == "updated_at":
                at = created if state == "OPEN" else closed
            else:
                at = None if state == "OPEN" else closed
            if at is None or not start_ms <= at <= end_ms:
                continue
            if (loc.key, day * INDEX_LIMIT + index) in overlay.by_serial:
                continue  # changed through the control API: counted below as it is now
            count += 1
            total += gen.total(loc, day, index, now_ms)
            if with_ids:
                order_ids.add(gen.order_id(loc, day, index))
    for stored in overlay.stored({loc.key}):
        at = stored.time(field)
        if stored.state in wanted and at is not None and start_ms <= at <= end_ms:
            count += 1
            total += stored.total
            if with_ids:
                order_ids.add(stored.order["id"])
    return GroundTruth(
        location_id=loc.id,
        field=field,
        start_ms=start_ms,
        end_ms=end_ms,
        states=wanted,
        count=count,
        total=total,
        order_ids=frozenset(order_ids) if with_ids else None,
    )
