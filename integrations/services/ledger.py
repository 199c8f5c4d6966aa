"""The completeness ledger of a connection, for the drawer's calendar and `integrations_ledger`.

The ledger itself is the sales domain's (sous/sales/ledger.py); this module knows which
locations a connection syncs, their names and business days (asked of the provider's action),
and says each day in words. It also marks the days of a failed sales job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import msgspec
from django.utils import timezone

from integrations.models import IntegrationConfig, SyncJob
from integrations.sync.ledger import bounds
from providers import locations as choices
from providers.base import Action
from sous.sales import ledger
from sous.sales.money import format_money

from . import apps

log = logging.getLogger(__name__)

CALENDAR_WEEKS = 13
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The engine's own keys in SyncJob.checkpoint (integrations/jobs/execute.py), not the action's.
ENGINE_KEYS = ("_cursor", "_restarted")


def ledger_action(provider) -> Action | None:
    """The provider's action that keeps the ledger (Square's sales), if any."""
    return next((a for a in provider.actions if a.ledger_template), None)


# A glyph beside each state's colour (colour is never the only signal); patterns in CSS.
GLYPHS = {
    ledger.State.COMPLETE: "✓",
    ledger.State.LATE: "~",
    ledger.State.OPEN: "•",
    ledger.State.CHANGED: "!",
    ledger.State.FAILED: "×",
    ledger.State.NEVER: "",
}
LEGEND = [(state, state.label, GLYPHS[state]) for state in GLYPHS]


@dataclass(frozen=True)
class Day:
    """One business day of one location, in words."""

    entry: ledger.Entry
    location_name: str

    @property
    def day(self) -> date:
        return self.entry.day

    @property
    def state(self) -> ledger.State:
        return self.entry.state

    @property
    def glyph(self) -> str:
        return GLYPHS[self.state]

    @property
    def pulled(self) -> bool:
        return self.state is not ledger.State.NEVER

    @property
    def read(self) -> bool:
        """Whether a sync ever read the whole day (so its figures mean something)."""
        row = self.entry.row
        return self.pulled and row is not None and row.last_pulled_at is not None

    def money(self, amount: int) -> str:
        return format_money(amount, self.entry.currency)

    @property
    def heading(self) -> str:
        return f"{self.day:%a} {self.day.day} {self.day:%b %Y}"

    @property
    def label(self) -> str:
        """ "Tue 3 Nov, SoHo: complete, 412 orders, $18,204.50" (net sales)."""
        words = f"{self.day:%a} {self.day.day} {self.day:%b}, {self.location_name}: "
        words += self.state.label
        if self.read:
            figures = self.entry.figures
            orders = figures["orders"]
            words += f", {orders:,} order{'s' if orders != 1 else ''}"
            words += f", {self.money(figures['net_sales'])}"
        return words

    @property
    def figures(self) -> list[tuple[str, str]]:
        shown = self.entry.figures
        return [
            (ledger.FIGURE_LABELS[name], f"{value:,}" if name == "orders" else self.money(value))
            for name, value in shown.items()
        ]

    @property
    def change(self) -> str:
        """What the last re-pull changed, in words; "" before a second pull."""
        row = self.entry.row
        if row is None or row.last_change is None:
            return ""
        if not row.last_change:
            return "The last re-pull changed nothing."
        parts = []
        for name, (before, after) in row.last_change.items():
            label = ledger.FIGURE_LABELS.get(name, name).lower()
            if name == "orders":
                parts.append(f"{label} {before:,} → {after:,}")
            else:
                parts.append(f"{label} {self.money(before)} → {self.money(after)}")
        return "The last re-pull changed " + ", ".join(parts) + "."


@dataclass(frozen=True)
class LocationCalendar:
    location_id: str
    name: str
    today: date
    weeks: list[list[Day | None]]  # columns Monday..Sunday; None after today


def locations(config: IntegrationConfig, action: Action, now: datetime) -> dict[str, date]:
    """{location id: its business day under way} for the locations the connection syncs."""
    covered = action.days_covered({"mode": "today"}, None, settings=config.settings, now=now)
    return {record.location_id: record.days[-1].day for record in covered if record.days}


def name_of(config: IntegrationConfig, location_id: str) -> str:
    known = config.settings.get(choices.KNOWN) or {}
    return (known.get(location_id) or {}).get("name") or location_id


def calendars(config: IntegrationConfig, action: Action, *, now=None) -> list[LocationCalendar]:
    """Per synced location, its last 13 weeks (Monday first), today's week last."""
    now = now or timezone.now()
    result = []
    spans = {
        location_id: (today - timedelta(days=today.weekday(), weeks=CALENDAR_WEEKS - 1), today)
        for location_id, today in locations(config, action, now).items()
    }
    entries = ledger.entries_of(config.organization, config.provider, spans, now=now)
    for location_id, (_, today) in spans.items():
        name = name_of(config, location_id)
        days = [Day(entry, name) for entry in entries[location_id]]
        weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
        weeks[-1] = weeks[-1] + [None] * (7 - len(weeks[-1]))
        result.append(LocationCalendar(location_id, name, today, weeks))
    return sorted(result, key=lambda cal: cal.name.lower())


def day(config: IntegrationConfig, location_id: str, business_date: date, *, now=None) -> Day:
    now = now or timezone.now()
    (entry,) = ledger.entries(
        config.organization, config.provider, location_id, business_date, business_date, now=now
    )
    return Day(entry, name_of(config, location_id))


def rows(
    config: IntegrationConfig, location_ids: list[str], first: date, last: date, *, now=None
) -> list[Day]:
    """Every day of the range at each location (`integrations_ledger`)."""
    now = now or timezone.now()
    return [
        Day(entry, name_of(config, location_id))
        for location_id in location_ids
        for entry in ledger.entries(
            config.organization, config.provider, location_id, first, last, now=now
        )
    ]


def mark_failed(job: SyncJob) -> None:
    """The ledger days a failed job was reading say "failed" until a sync reads them."""
    try:
        config = job.config
        if config is None or job.children.exists():
            return  # a deep job's chunks marked their own days
        action = apps.provider(job.provider).action(job.kind.partition(".")[2])
        if action is None or not action.ledger_template:
            return
        saved = {k: v for k, v in (job.checkpoint or {}).items() if k not in ENGINE_KEYS}
        try:
            checkpoint = msgspec.convert(saved, action.Checkpoint)
        except msgspec.ValidationError:
            checkpoint = action.Checkpoint()
        now = timezone.now()
        for record in action.days_covered(
            job.params, checkpoint, settings=config.settings, now=job.started_at or now
        ):
            ledger.record_failure(
                job.organization,
                job.provider,
                record.location_id,
                days=bounds(record),
                at=now,
                reason=job.error,
            )
    except Exception:
        # The job's own outcome is recorded already: a ledger note must not undo that.
        log.exception("integrations.ledger.mark_failed_error", extra={"job_id": str(job.pk)})
