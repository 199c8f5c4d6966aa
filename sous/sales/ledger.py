"""The completeness ledger: per location and business day, what Sous holds and how final it is.

Two things write it. Every page of imported orders refreshes the figures of the days it
touched (`refresh`), from the stored orders, so they are exact to the cent whatever the page
order. A sync that has read whole days says so (`record_pull`): the days get their "last
pulled" time, days without orders get a row too, and a re-pull records what it changed
against the figures of the pull before. A failed sync marks the days it was reading
(`record_failure`).

States, in the order they win (`state`):

    never pulled         no row, or figures from single orders only (a webhook) with no pull
    failed               the latest sync of the day failed
    open day             the business day has not ended yet
    changed after close  a re-pull found other figures than a pull made after the late window
    late window          the day was last read before the provider's late orders were final
    complete             read after the late window, and unchanged since
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Q, Sum

from .models import Order, SalesDay

FIGURES = (
    "orders",
    "gross_sales",
    "discounts",
    "net_sales",
    "tax",
    "tips",
    "service_charges",
    "total",
)
FIGURE_LABELS = {
    "orders": "Orders",
    "gross_sales": "Gross sales",
    "discounts": "Discounts",
    "net_sales": "Net sales",
    "tax": "Tax",
    "tips": "Tips",
    "service_charges": "Service charges",
    "total": "Total collected",
}


class State(enum.StrEnum):
    NEVER = "never"
    FAILED = "failed"
    OPEN = "open"
    CHANGED = "changed"
    LATE = "late"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.NEVER: "never pulled",
    State.FAILED: "failed",
    State.OPEN: "open day",
    State.CHANGED: "changed after close",
    State.LATE: "in the late window",
    State.COMPLETE: "complete",
}

Key = tuple[str, date]  # (location external id, business date)


@dataclass(frozen=True)
class DayBounds:
    """A business day as the source defines it: when it ends and when late orders stop."""

    day: date
    closes_at: datetime
    final_at: datetime


def figures_of(organization, source: str, days: Iterable[Key]) -> dict[Key, dict]:
    """The figures of these days from the stored orders, in one aggregate query. Days
    without completed orders are all zeros. Per order, total = gross - discount + tax +
    tip + service charge (Square's `total_money`), so net and gross follow from the rest."""
    wanted = set(days)
    found = {key: {name: 0 for name in FIGURES} | {"currency": ""} for key in wanted}
    if not wanted:
        return found
    rows = (
        Order.objects.filter(
            organization=organization,
            source=source,
            state=Order.State.COMPLETED,
            location_external_id__in={loc for loc, _ in wanted},
            business_date__in={day for _, day in wanted},
        )
        .values("location_external_id", "business_date")
        .annotate(
            orders=Count("id"),
            total=Sum("total_money"),
            tax=Sum("total_tax_money"),
            discounts=Sum("total_discount_money"),
            tips=Sum("total_tip_money"),
            service_charges=Sum("total_service_charge_money"),
            currency=Max("currency"),
        )
    )
    for row in rows:
        key = (row["location_external_id"], row["business_date"])
        if key not in wanted:
            continue  # the query's cross product: another location's day
        net = row["total"] - row["tax"] - row["tips"] - row["service_charges"]
        found[key] = {
            "orders": row["orders"],
            "gross_sales": net + row["discounts"],
            "discounts": row["discounts"],
            "net_sales": net,
            "tax": row["tax"],
            "tips": row["tips"],
            "service_charges": row["service_charges"],
            "total": row["total"],
            "currency": row["currency"] or "",
        }
    return found


def refresh(organization, source: str, days: Iterable[Key]) -> None:
    """Bring these days' figures in line with their stored orders (after a page of orders)."""
    figures = figures_of(organization, source, days)
    if not figures:
        return
    rows = [
        SalesDay(
            organization=organization,
            source=source,
            location_external_id=loc,
            business_date=day,
            **_figures_only(values),
            currency=values["currency"],
        )
        for (loc, day), values in sorted(figures.items())
    ]
    # A day left without orders keeps the currency it had.
    _upsert([r for r in rows if r.currency], [*FIGURES, "currency", "updated_at"])
    _upsert([r for r in rows if not r.currency], [*FIGURES, "updated_at"])


def record_pull(
    organization,
    source: str,
    location_id: str,
    *,
    currency: str,
    read_at: datetime,
    days: Iterable[DayBounds],
    changes_since: datetime | None = None,
) -> None:
    """A sync read every order of `days` at this location, starting at `read_at`; with
    `changes_since`, it also read every change since then to the location's earlier days."""
    bounds = {b.day: b for b in days}
    with transaction.atomic():
        existing = {
            row.business_date: row
            for row in SalesDay.objects.select_for_update().filter(
                organization=organization,
                source=source,
                location_external_id=location_id,
                business_date__in=list(bounds),
            )
        }
        if changes_since is not None and bounds:
            # Pulled after the incremental read's start: nothing about them has escaped it.
            for row in SalesDay.objects.select_for_update().filter(
                organization=organization,
                source=source,
                location_external_id=location_id,
                business_date__lt=min(bounds),
                last_pulled_at__gte=changes_since,
            ):
                existing[row.business_date] = row
        figures = figures_of(organization, source, [(location_id, day) for day in existing])
        figures.update(figures_of(organization, source, [(location_id, day) for day in bounds]))
        rows = []
        for day, values in sorted(figures.items(), key=lambda item: item[0][1]):
            row = existing.get(day[1]) or SalesDay(
                organization=organization,
                source=source,
                location_external_id=location_id,
                business_date=day[1],
            )
            _pulled(row, values, bounds.get(day[1]), read_at, currency)
            rows.append(row)
        _upsert(rows, [f.attname for f in SalesDay._meta.concrete_fields if _writable(f)])


def record_failure(
    organization,
    source: str,
    location_id: str,
    *,
    days: Iterable[DayBounds],
    at: datetime,
    reason: str,
) -> None:
    """A sync reading these days failed: they say so until one reads them again."""
    rows = [
        SalesDay(
            organization=organization,
            source=source,
            location_external_id=location_id,
            business_date=b.day,
            closes_at=b.closes_at,
            final_at=b.final_at,
            failed_at=at,
            failure=reason[:300],
        )
        for b in days
    ]
    _upsert(rows, ["closes_at", "final_at", "failed_at", "failure", "updated_at"])


def state(row: SalesDay | None, now: datetime) -> State:
    """The day's state at `now` (the module docstring's order)."""
    if row is None or (row.last_pulled_at is None and row.failed_at is None):
        return State.NEVER
    if row.failed_at is not None and (
        row.last_pulled_at is None or row.failed_at > row.last_pulled_at
    ):
        return State.FAILED
    if row.closes_at is not None and now < row.closes_at:
        return State.OPEN
    if row.changed_after_close_at is not None:
        return State.CHANGED
    if row.final_at is not None and row.last_pulled_at < row.final_at:
        return State.LATE
    return State.COMPLETE


@dataclass(frozen=True)
class Entry:
    """One location's business day as the calendar and `integrations_ledger` show it."""

    location_id: str
    day: date
    state: State
    row: SalesDay | None

    @property
    def figures(self) -> dict:
        row = self.row
        return {name: getattr(row, name) if row else 0 for name in FIGURES}

    @property
    def currency(self) -> str:
        return self.row.currency if self.row else ""


def entries(
    organization, source: str, location_id: str, first: date, last: date, *, now: datetime
) -> list[Entry]:
    """Every business day from `first` to `last` at the location, never-pulled ones too."""
    return entries_of(organization, source, {location_id: (first, last)}, now=now)[location_id]


def entries_of(
    organization, source: str, spans: dict[str, tuple[date, date]], *, now: datetime
) -> dict[str, list[Entry]]:
    """`entries` of several locations, each over its own days (`spans`: location id ->
    (first, last)), in one query however many locations a restaurant group has."""
    if not spans:
        return {}
    wanted = Q()
    for location_id, (first, last) in spans.items():
        wanted |= Q(location_external_id=location_id, business_date__range=(first, last))
    rows = {
        (row.location_external_id, row.business_date): row
        for row in SalesDay.objects.filter(wanted, organization=organization, source=source)
    }
    result = {}
    for location_id, (first, last) in spans.items():
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        found = ((day, rows.get((location_id, day))) for day in days)
        result[location_id] = [Entry(location_id, day, state(row, now), row) for day, row in found]
    return result


def orders_per_day(
    organization, source: str, location_ids: Iterable[str], *, since: date
) -> dict[str, float]:
    """Each location's average completed orders a day over its pulled days since `since`,
    for estimates; locations with no pulled day are left out."""
    rows = (
        SalesDay.objects.filter(
            organization=organization,
            source=source,
            location_external_id__in=list(location_ids),
            business_date__gte=since,
            last_pulled_at__isnull=False,
        )
        .values("location_external_id")
        .annotate(days=Count("id"), orders=Sum("orders"))
    )
    return {r["location_external_id"]: r["orders"] / r["days"] for r in rows if r["days"]}


# --- rows --------------------------------------------------------------------------------------


def _pulled(
    row: SalesDay, values: dict, bounds: DayBounds | None, read_at: datetime, currency: str
) -> None:
    """Stamp a row read whole at `read_at`, noting what changed since the pull before."""
    figures = _figures_only(values)
    previous = row.last_pulled_at
    if previous is not None and read_at < previous:
        # A slower job that began before the last pull: its figures are the stored orders'
        # (always current), but the day was not read later than it already was.
        read_at = previous
    if previous is not None:
        change = {
            name: [row.pulled_figures.get(name, 0), figures[name]]
            for name in FIGURES
            if row.pulled_figures.get(name, 0) != figures[name]
        }
        row.last_change = change
        final_then = row.final_at is not None and previous >= row.final_at
        if change and final_then:
            row.changed_after_close_at = read_at
    for name, value in figures.items():
        setattr(row, name, value)
    row.currency = values["currency"] or row.currency or currency
    if bounds is not None:
        row.closes_at, row.final_at = bounds.closes_at, bounds.final_at
    row.pulled_figures = figures
    row.first_pulled_at = row.first_pulled_at or read_at
    row.last_pulled_at = read_at
    if row.failed_at is not None and row.failed_at <= read_at:
        row.failed_at, row.failure = None, ""


def _figures_only(values: dict) -> dict:
    return {name: values[name] for name in FIGURES}


def _writable(field) -> bool:
    return not field.primary_key and field.attname not in (
        "organization_id",
        "source",
        "location_external_id",
        "business_date",
    )


def _upsert(rows: list[SalesDay], fields: list[str]) -> None:
    if not rows:
        return
    SalesDay.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["organization", "source", "location_external_id", "business_date"],
        update_fields=fields,
    )
