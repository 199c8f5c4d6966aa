"""When an action runs without a click: the plain-Python half of schedules.

An action that can run on its own declares a `Cadence` (`Action.schedule`). The cadence says,
from the connection's settings, when the next run is due after a given moment and what it asks
for; the engine (integrations/jobs/schedules.py) stores that, dispatches it when due and asks
again. Cadences never call the provider: a beat tick plans thousands of them at once.

`offset` is the connection's own fixed delay inside the cadence's `spread`, so that ten
thousand restaurants with the same cadence do not all start in the same second.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: "every N minutes" slots start here


@dataclass(frozen=True)
class Run:
    """One planned run."""

    at: datetime  # when it is due (UTC), offset included
    params: dict  # what the job asks for (the action's validated params)
    covers: str = ""  # what it covers, in words: "SoHo", "Mon 2 Nov"
    zone: str = "UTC"  # the time zone staff read `at` in ("tonight 3:30 AM" at SoHo)


class Cadence:
    """How often an action runs. `minutes` is the one figure staff choose (see `choices`)."""

    default: int
    choices: tuple[tuple[int, str], ...]  # (minutes, words) staff choose among
    spread: timedelta  # offsets are spread over this window

    def describe(self, minutes: int) -> str:
        """ "Every hour", "Nightly, 30 min after each location's day closes"."""
        raise NotImplementedError

    def label(self, minutes: int) -> str:
        """What its jobs say they came from: "Hourly", "Nightly"."""
        raise NotImplementedError

    def next_run(
        self,
        *,
        minutes: int,
        settings: Mapping,
        cursor: Mapping,
        after: datetime,
        offset: timedelta,
    ) -> Run | None:
        """The first run due strictly after `after`; None while there is nothing to run (no
        folder watched, say). `cursor` is what the action's last successful job left."""
        raise NotImplementedError

    # The words around staff's choice in the drawer: "Every [hour]", "Nightly, [30 min] after
    # each location's day closes".
    before: str = "Every"
    after: str = ""
    idle: str = "Nothing to run yet."  # enabled, but nothing is planned (see next_run)

    def choice_label(self, minutes: int) -> str:
        return dict(self.choices).get(minutes, f"{minutes} min")


@dataclass(frozen=True)
class Every(Cadence):
    """Every N minutes, at slots fixed per connection (so a late tick never drifts them)."""

    default: int
    choices: tuple[tuple[int, str], ...]
    params: dict = field(default_factory=dict)
    # Whether the connection's settings give it anything to do, and what staff read if not.
    applies: Callable[[Mapping], bool] = lambda settings: True
    idle: str = "Nothing to run yet."

    @property
    def spread(self) -> timedelta:  # type: ignore[override]
        # The longest choice: the offset, taken modulo whichever interval staff choose, then
        # spreads connections evenly over it (an hourly sync a minute: 1/60 of them).
        return timedelta(minutes=max(minutes for minutes, _ in self.choices))

    def describe(self, minutes: int) -> str:
        return f"Every {self.choice_label(minutes)}"

    def label(self, minutes: int) -> str:
        return {60: "Hourly", 24 * 60: "Daily"}.get(minutes, self.describe(minutes))

    def next_run(
        self,
        *,
        minutes: int,
        settings: Mapping,
        cursor: Mapping,
        after: datetime,
        offset: timedelta,
    ) -> Run | None:
        if not self.applies(settings):
            return None
        interval = timedelta(minutes=minutes)
        first = EPOCH + offset % interval
        slots = (after - first) // interval + 1
        return Run(at=first + slots * interval, params=dict(self.params))
