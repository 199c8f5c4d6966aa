"""What a Square sales job tells the completeness ledger: the business days it read whole.

Every location of a job's plan had all its orders of days `first`..`last` read (completed
ones by closed time, open and cancelled ones by created time), so each of those days is
pulled, days without orders included. "Sync Today" also read every order changed since the
start of its changed-since query, which keeps days pulled after that start current.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from providers.records.sales import BusinessDay, BusinessDaysRead

from .business_day import BusinessClock

# Offline payments reach Square up to 72 hours after they were taken (README §7): a day read
# before its end plus this may still gain orders. The same window as sales.LATE_ORDERS.
LATE_WINDOW = timedelta(hours=72)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def days_read(plan, *, read_at: datetime | None = None) -> list[BusinessDaysRead]:
    """One record per location of a sales job's `Plan` (see sales.py)."""
    if read_at is None:
        read_at = _parse(plan.started_at) if plan.started_at else datetime.now(UTC)
    since = {}
    for query in plan.queries:
        if query.step.value == "updated":
            for loc_id in query.location_ids:
                since[loc_id] = _parse(query.start_at)
    records = []
    for loc_id, days in plan.locations.items():
        clock = BusinessClock(days.timezone, days.cutoff)
        count = (days.last - days.first).days + 1
        covered = tuple(
            BusinessDay(day, clock.start(day + timedelta(days=1)))
            for day in (days.first + timedelta(days=n) for n in range(count))
        )
        records.append(
            BusinessDaysRead(
                location_id=loc_id,
                currency=days.currency,
                read_at=read_at,
                days=covered,
                late_window=LATE_WINDOW,
                changes_since=since.get(loc_id),
            )
        )
    return records
