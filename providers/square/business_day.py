"""Business days: which day's takings an order belongs to, in its location's own time zone.

A location's business day D runs from D at its cutoff (default 00:00) to D+1 at its cutoff,
local time: with a 04:00 cutoff, a bar's Friday ends at 04:00 on Saturday. `start(D)` is the
one definition both the SearchOrders windows and each order's `business_date` use, so an order
is counted on exactly one day. On a daylight-saving change the local cutoff is read with
`fold=0` (the earlier of two repeated times; for a skipped time, the offset before the jump),
which keeps days contiguous and in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CUTOFF = "00:00"


def excluded(settings: Mapping) -> set[str]:
    """The locations staff left out of sales (the connection's settings)."""
    return set(settings.get("excluded_locations") or [])


def cutoff_of(settings: Mapping, location_id: str) -> str:
    return (settings.get("cutoffs") or {}).get(location_id) or DEFAULT_CUTOFF


def parse_cutoff(text: str) -> time:
    """ "04:00" -> time(4, 0); ValueError for anything but HH:MM on a 24-hour clock."""
    value = (text or "").strip()
    if len(value) != 5 or value[2] != ":":
        raise ValueError(value)
    parsed = time.fromisoformat(value)
    return parsed.replace(second=0, microsecond=0)


def known_zone(name: str) -> bool:
    """Whether `name` is a time zone of the IANA database (as Square's locations give)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(name)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class BusinessClock:
    """One location's business days."""

    timezone: str
    cutoff: str = DEFAULT_CUTOFF
    tz: ZoneInfo = field(init=False, repr=False, compare=False)
    at: time = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", zone(self.timezone))
        object.__setattr__(self, "at", parse_cutoff(self.cutoff))

    def start(self, day: date) -> datetime:
        """The UTC instant business day `day` begins."""
        return _day_start(self.tz, self.at, day)

    def window(self, first: date, last: date | None = None) -> tuple[datetime, datetime]:
        """[start, end) in UTC of business days `first`..`last` (inclusive)."""
        return self.start(first), self.start((last or first) + timedelta(days=1))

    def date_of(self, moment: datetime) -> date:
        day = moment.astimezone(self.tz).date()
        if moment < self.start(day):
            return day - timedelta(days=1)
        if moment >= self.start(day + timedelta(days=1)):
            return day + timedelta(days=1)
        return day

    def today(self, now: datetime) -> date:
        """The business day under way at `now` (before the cutoff it is still yesterday's)."""
        return self.date_of(now)

    def describe(self, day: date) -> str:
        """ "Fri 1 Nov 04:00 → Sat 2 Nov 04:00, America/New_York" (the drawer's window)."""
        start, end = self.window(day)

        def local(moment: datetime) -> str:
            value = moment.astimezone(self.tz)
            return f"{value:%a} {value.day} {value:%b %H:%M}"

        return f"{local(start)} → {local(end)}, {self.timezone}"


@lru_cache(maxsize=4096)
def _day_start(tz: ZoneInfo, at: time, day: date) -> datetime:
    # Cached: a sync asks for the same few days' bounds for every order it reads.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
