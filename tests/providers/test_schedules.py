"""Cadences plan runs from settings alone: fixed slots that never drift, and Square's nightly
sales after each location's own close, right across daylight-saving changes."""

from datetime import UTC, date, datetime, timedelta

import pytest

from providers.schedules import Every
from providers.square.schedule import NightlySales

HOURLY = Every(default=60, choices=((15, "15 min"), (60, "hour"), (1440, "day")))
NY, LA = "America/New_York", "America/Los_Angeles"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_every_runs_at_the_connections_own_slots_strictly_after_the_moment_given():
    offset = timedelta(minutes=7)
    run = HOURLY.next_run(
        minutes=60, settings={}, cursor={}, after=utc(2026, 3, 2, 10, 7), offset=offset
    )
    assert run.at == utc(2026, 3, 2, 11, 7)
    # A late tick (10 minutes behind) keeps the slots where they were: no drift.
    late = HOURLY.next_run(
        minutes=60, settings={}, cursor={}, after=run.at + timedelta(minutes=10), offset=offset
    )
    assert late.at == utc(2026, 3, 2, 12, 7)


def test_every_has_nothing_to_plan_when_its_settings_give_it_nothing_to_do():
    watched = Every(default=15, choices=((15, "15 min"),), applies=lambda s: bool(s.get("folders")))
    after = utc(2026, 3, 2, 10)
    assert (
        watched.next_run(minutes=15, settings={}, cursor={}, after=after, offset=timedelta())
        is None
    )
    assert watched.next_run(
        minutes=15,
        settings={"folders": {"recipes": {}}},
        cursor={},
        after=after,
        offset=timedelta(),
    ).at == utc(2026, 3, 2, 10, 15)


def test_every_words():
    assert HOURLY.describe(60) == "Every hour" and HOURLY.label(60) == "Hourly"
    assert HOURLY.label(15) == "Every 15 min" and HOURLY.label(1440) == "Daily"


def _settings(*locations) -> dict:
    return {
        "locations": {
            loc_id: {"name": name, "timezone": zone} for loc_id, name, zone, _ in locations
        },
        "cutoffs": {loc_id: cutoff for loc_id, _, _, cutoff in locations},
        "excluded_locations": [],
    }


def _runs(settings, after, count, minutes=30):
    runs = []
    for _ in range(count):
        run = NightlySales().next_run(
            minutes=minutes, settings=settings, cursor={}, after=after, offset=timedelta()
        )
        runs.append(run)
        after = run.at
    return runs


@pytest.mark.parametrize(
    ("zone", "first_day", "expected"),
    [
        # Spring forward, 8 Mar 2026: 02:30 does not exist that night; the day still ends once
        # (at 03:30 EDT, the offset before the jump) and the next one is a day of 23 hours.
        (NY, date(2026, 3, 6), ["2026-03-07T08:00", "2026-03-08T08:00", "2026-03-09T07:00"]),
        (LA, date(2026, 3, 6), ["2026-03-07T11:00", "2026-03-08T11:00", "2026-03-09T10:00"]),
        # Fall back, 1 Nov 2026: 02:30 comes once (after 01:00–02:00 repeats), in standard time.
        (NY, date(2026, 10, 30), ["2026-10-31T07:00", "2026-11-01T08:00", "2026-11-02T08:00"]),
        (LA, date(2026, 10, 30), ["2026-10-31T10:00", "2026-11-01T11:00", "2026-11-02T11:00"]),
    ],
)
def test_nightly_sales_run_30_minutes_after_a_0230_cutoff_across_dst(zone, first_day, expected):
    settings = _settings(("L1", "SoHo", zone, "02:30"))
    runs = _runs(settings, utc(first_day.year, first_day.month, first_day.day, 12), 3)

    assert [run.at.strftime("%Y-%m-%dT%H:%M") for run in runs] == expected
    days = [date.fromisoformat(run.params["end"]) for run in runs]
    assert days == [first_day + timedelta(days=n) for n in range(3)]  # each day once, in order
    assert runs[0].params == {
        "mode": "range",
        "start": (first_day - timedelta(days=3)).isoformat(),  # late offline payments
        "end": first_day.isoformat(),
        "locations": ["L1"],
    }
    assert runs[0].covers == "SoHo" and runs[0].zone == zone


def test_each_location_runs_after_its_own_close_and_every_day_of_each_comes_once():
    settings = _settings(("NY1", "SoHo", NY, "02:30"), ("LA1", "Venice", LA, "04:00"))
    runs = _runs(settings, utc(2026, 10, 29, 12), 8)

    by_location = {"NY1": [], "LA1": []}
    for run in runs:
        (location,) = run.params["locations"]
        by_location[location].append(date.fromisoformat(run.params["end"]))
    for days in by_location.values():
        assert days == [days[0] + timedelta(days=n) for n in range(len(days))]
    assert [run.covers for run in runs[:2]] == ["SoHo", "Venice"]
    assert runs == sorted(runs, key=lambda run: run.at)


def test_locations_closing_together_share_one_run():
    settings = _settings(("A", "SoHo", NY, "04:00"), ("B", "Midtown", NY, "04:00"))
    (run,) = _runs(settings, utc(2026, 6, 1, 12), 1)
    assert run.params["locations"] == ["A", "B"] and run.covers == "Midtown, SoHo"


def test_without_known_locations_the_first_run_is_a_sync_today_that_learns_them():
    after = utc(2026, 6, 1, 12)
    cadence = NightlySales()
    first = cadence.next_run(
        minutes=30, settings={}, cursor={}, after=after, offset=timedelta(minutes=3)
    )
    assert first.params == {"mode": "today"} and after < first.at <= after + timedelta(minutes=6)
    no_offset = cadence.next_run(
        minutes=30, settings={}, cursor={}, after=after, offset=timedelta()
    )
    assert no_offset.at > after  # never due again at the tick that ran it
    # What that sync saw (its cursor) is enough to plan the nights after it.
    cursor = {"locations": {"L1": {"name": "SoHo", "timezone": NY}}}
    night = cadence.next_run(
        minutes=30, settings={}, cursor=cursor, after=after, offset=timedelta()
    )
    assert night.params["locations"] == ["L1"] and night.at == utc(2026, 6, 2, 4, 30)


def test_nothing_is_planned_when_every_location_is_excluded():
    settings = _settings(("L1", "SoHo", NY, "04:00"))
    settings["excluded_locations"] = ["L1"]
    assert (
        NightlySales().next_run(
            minutes=30, settings=settings, cursor={}, after=utc(2026, 6, 1), offset=timedelta()
        )
        is None
    )
