"""Square's nightly sales: each location's previous business day, pulled a set delay after that
location's own cutoff in its own time zone, with the two days before it again (offline
payments can reach Square up to 72 hours late).

The locations' time zones and cutoffs come from the connection's settings (saved by the
drawer's location picker) or, before staff have saved any, from what the last sales sync saw
(its cursor). Knowing neither, the first run is a "Sync Today" right away, which learns them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from providers.schedules import Cadence, Run

from .business_day import BusinessClock, cutoff_of, excluded

# Days pulled again before the day just closed: offline payments reach Square up to 72 hours
# late (README §7), the same window as sales.LATE_ORDERS.
LATE_DAYS = 3
FIRST_RUN_WITHIN = timedelta(minutes=5)


@dataclass(frozen=True)
class NightlySales(Cadence):
    default: int = 30
    choices: tuple[tuple[int, str], ...] = (
        (15, "15 min"),
        (30, "30 min"),
        (60, "1 hour"),
        (120, "2 hours"),
        (240, "4 hours"),
    )
    spread: timedelta = timedelta(minutes=10)
    before: str = "Nightly,"
    after: str = "after each location's day closes"
    idle: str = "Include a location to sync its sales every night."

    def describe(self, minutes: int) -> str:
        return f"{self.before} {self.choice_label(minutes)} {self.after}"

    def label(self, minutes: int) -> str:
        return "Nightly"

    def next_run(
        self,
        *,
        minutes: int,
        settings: Mapping,
        cursor: Mapping,
        after: datetime,
        offset: timedelta,
    ) -> Run | None:
        clocks = known_clocks(settings, cursor)
        if clocks is None:
            # Strictly after `after`, whatever the offset: a run due at once would be due again
            # at the next tick.
            soon = timedelta(seconds=1) + min(offset, FIRST_RUN_WITHIN)
            return Run(at=after + soon, params={"mode": "today"})
        if not clocks:
            return None  # every location excluded
        delay = timedelta(minutes=minutes) + offset
        due: dict[tuple[datetime, date], list[str]] = {}
        for location_id, (_name, clock) in clocks.items():
            # The business day whose end, plus the delay, is the first strictly after `after`.
            day = clock.date_of(after - delay)
            due.setdefault((clock.start(day + timedelta(days=1)) + delay, day), []).append(
                location_id
            )
        at, day = min(due)
        ids = sorted(due[at, day])
        return Run(
            at=at,
            params={
                "mode": "range",
                "start": (day - timedelta(days=LATE_DAYS)).isoformat(),
                "end": day.isoformat(),
                "locations": ids,
            },
            covers=", ".join(sorted(clocks[i][0] for i in ids)),
            zone=clocks[ids[0]][1].timezone,
        )


def known_clocks(settings: Mapping, cursor: Mapping) -> dict[str, tuple[str, BusinessClock]] | None:
    """{location id: (name, clock)} of the included locations; None when none is known yet."""
    known = settings.get("locations") or cursor.get("locations") or {}
    if not isinstance(known, Mapping) or not known:
        return None  # nothing this cadence can read a time zone from
    skip = excluded(settings)
    return {
        location_id: (
            info.get("name") or location_id,
            BusinessClock(info.get("timezone") or "UTC", cutoff_of(settings, location_id)),
        )
        for location_id, info in known.items()
        if location_id not in skip
    }
