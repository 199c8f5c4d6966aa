"""How big a Sync Range is before it runs: days × locations, orders and SearchOrders calls.

A range runs as one job per calendar month (sales.SalesAction.plan). Each job lists the
locations once, then reads each batch of up to ten locations with two SearchOrders queries
(open and cancelled orders by created time, completed ones by closed time), each at least one
call and then one call per 1,000 orders (client.ORDERS_PAGE_LIMIT). Orders a day come from
what Sous has already pulled for each location; a location never pulled counts as the
average of the others (or nothing, when none has been pulled).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

from providers.base import Estimate

from .client import MAX_LOCATIONS_PER_SEARCH, ORDERS_PAGE_LIMIT

QUERIES_PER_BATCH = 2  # created (open, cancelled) and closed (completed)
CALLS_PER_CHUNK = 1  # ListLocations, once per job


def of_range(
    first: date,
    last: date,
    location_ids: Sequence[str],
    *,
    chunks: int,
    orders_per_day: Mapping[str, float],
) -> Estimate:
    days = (last - first).days + 1
    known = [orders_per_day[loc] for loc in location_ids if loc in orders_per_day]
    fallback = sum(known) / len(known) if known else None
    rates = [orders_per_day.get(loc, fallback) for loc in location_ids]
    orders = None if fallback is None else round(sum(rates) * days)
    calls = 0
    batches = [
        rates[i : i + MAX_LOCATIONS_PER_SEARCH]
        for i in range(0, len(rates), MAX_LOCATIONS_PER_SEARCH)
    ]
    for batch in batches:
        per_chunk = sum(rate or 0 for rate in batch) * days / max(chunks, 1)
        pages = max(1, math.ceil(per_chunk / ORDERS_PAGE_LIMIT))
        # Completed orders fill the pages; the created-time query is usually one call.
        calls += chunks * (pages + QUERIES_PER_BATCH - 1)
    calls += chunks * CALLS_PER_CHUNK
    return Estimate(days=days, locations=len(location_ids), orders=orders, calls=calls)
