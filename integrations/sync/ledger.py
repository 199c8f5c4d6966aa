"""Ledger importer: "these business days were read whole" -> the completeness ledger.

A sales sync sends `BusinessDaysRead` once it has read its days, after their orders (see
providers/records/sales.py); `sous.sales.ledger` stamps the days pulled and notes what a
re-pull changed.
"""

from __future__ import annotations

from providers.records.sales import BusinessDaysRead
from sous.sales import ledger

from . import Counts


def bounds(record: BusinessDaysRead) -> list[ledger.DayBounds]:
    return [
        ledger.DayBounds(d.day, d.closes_at, d.closes_at + record.late_window) for d in record.days
    ]


def import_days_read(organization, source: str, records: list[BusinessDaysRead]) -> Counts:
    for record in records:
        ledger.record_pull(
            organization,
            source,
            record.location_id,
            currency=record.currency,
            read_at=record.read_at,
            days=bounds(record),
            changes_since=record.changes_since,
        )
    return Counts()
