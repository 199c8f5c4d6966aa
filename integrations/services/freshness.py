"""How current Sous is, per data type, in the words a manager uses: "Sales complete through
yesterday", "Catalog updated 5 minutes ago", "Documents checked 2 hours ago"; amber, then red,
past the thresholds. A red one is an alert too (`check`, from beat), resolved once current.

- Sales (an action with a completeness ledger): complete through the newest business day up to
  which every synced location has every day pulled since its first pulled one in the last two
  weeks. Yesterday is due by INTEGRATIONS_SALES_DUE_HOUR, local time (the nightly run has
  happened by then); a day late is amber, more is red.
- Other data (catalog, documents): the age of the last successful sync, against its schedule:
  amber past 2 of its intervals, red past 6. No schedule on: words only, no mark (staff chose
  to sync by hand).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integrations.jobs import schedules
from integrations.models import IntegrationConfig, Schedule
from providers import locations as choices
from providers.base import Action
from sous.notifications import alerts
from sous.notifications.alerts import Problem
from sous.notifications.models import Alert
from sous.sales import ledger as sales_ledger

from . import alerting, apps, ledger

AMBER, RED = "amber", "red"
LOOKBACK_DAYS = 14
PULLED = {sales_ledger.State.COMPLETE, sales_ledger.State.LATE, sales_ledger.State.CHANGED}
AMBER_INTERVALS, RED_INTERVALS = 2, 6
SLACK = timedelta(minutes=5)  # a run takes a moment: exactly two intervals is not late yet


@dataclass(frozen=True)
class Freshness:
    kind: str  # the job kind: "square.sales"
    words: str
    level: str = ""  # "", AMBER or RED


def of(config: IntegrationConfig, *, now: datetime | None = None) -> list[Freshness]:
    """One line per data type staff sync (the drawer's sections, in order)."""
    now = now or timezone.now()
    provider = apps.provider(config.provider)
    planned = {s.action: s for s in schedules.of(config)}
    found = (
        for_action(config, action, planned.get(action.key), now=now)
        for action in provider.actions
        if action.manual
    )
    return [line for line in found if line is not None]


def for_action(
    config: IntegrationConfig, action: Action, schedule: Schedule | None, *, now: datetime
) -> Freshness | None:
    kind = action.kind(config.provider)
    if ledger.ledger_action(apps.provider(config.provider)) is action:
        return _sales(config, action, kind, now)
    if not action.freshness_words:
        return None
    last = parse_datetime(config.last_synced.get(kind) or "")
    words = f"{action.freshness_words} {naturaltime(last) if last else 'never'}"
    level = ""
    if schedule is not None and schedule.enabled and schedule.minutes:
        interval = timedelta(minutes=schedule.minutes)
        # Never synced: counted from the connection, so a new one is not late at once.
        age = now - (last or config.connected_at or now)
        if age > RED_INTERVALS * interval + SLACK:
            level = RED
        elif age > AMBER_INTERVALS * interval + SLACK:
            level = AMBER
    return Freshness(kind, words, level)


def _sales(config: IntegrationConfig, action: Action, kind: str, now: datetime) -> Freshness | None:
    known = config.settings.get(choices.KNOWN) or {}
    worst: tuple[int, date | None, date] | None = None  # (days late, complete through, today)
    days = ledger.locations(config, action, now)
    spans = {
        location_id: (today - timedelta(days=LOOKBACK_DAYS), today - timedelta(days=1))
        for location_id, today in days.items()
    }
    entries = sales_ledger.entries_of(config.organization, config.provider, spans, now=now)
    for location_id, today in days.items():
        done = _complete_through(entries[location_id])
        zone = (known.get(location_id) or {}).get("timezone") or "UTC"
        due = today - timedelta(days=1)
        if now.astimezone(ZoneInfo(zone)).hour < settings.INTEGRATIONS_SALES_DUE_HOUR:
            due -= timedelta(days=1)  # the nightly run has until then
        late = (due - done).days if done else LOOKBACK_DAYS
        if worst is None or late > worst[0]:
            worst = (late, done, today)
    if worst is None:
        return None
    late, done, today = worst
    level = "" if late <= 0 else AMBER if late == 1 else RED
    if done is None:
        # A new connection's first nightly run has not come yet: nothing is late.
        new = config.connected_at and now - config.connected_at < timedelta(days=2)
        return Freshness(kind, "Sales not pulled in the last two weeks", "" if new else level)
    return Freshness(kind, f"Sales complete through {_day_words(done, today)}", level)


def _complete_through(entries: list[sales_ledger.Entry]) -> date | None:
    """The last day of the unbroken run of pulled days from the first one pulled in the last
    two weeks (a hole holds it back: the days after it are not complete *through*)."""
    done = None
    for entry in entries:
        if entry.state in PULLED:
            done = entry.day
        elif done is not None:
            break
    return done


def _day_words(day: date, today: date) -> str:
    if (today - day).days == 1:
        return "yesterday"
    return day.strftime("%a %-d %b")


# --- Alerts --------------------------------------------------------------------------------------


def check(*, now: datetime | None = None) -> int:
    """Beat: a red data type opens a "stale" alert; a current one resolves it. Returns how
    many are red."""
    red = 0
    for config in IntegrationConfig.objects.filter(
        status=IntegrationConfig.Status.CONNECTED
    ).select_related("organization"):
        name = apps.provider(config.provider).name
        for line in of(config, now=now):
            if line.level == RED:
                red += 1
                alerts.open_(
                    config.organization,
                    Problem(
                        source=config.provider,
                        condition=Alert.Condition.STALE,
                        subject=line.kind,
                        title=f"{name}: {line.words}",
                        detail="Sous has not had this data for longer than its schedule "
                        "allows. Sync it now, or look at the recent jobs for why.",
                        action_label=f"Open {name}",
                        url=alerting.drawer_url(config.provider),
                    ),
                )
            else:
                alerts.resolve(
                    config.organization,
                    config.provider,
                    Alert.Condition.STALE,
                    subject=line.kind,
                    why=f"{line.words}",
                )
    return red
