"""Gap-free notifications: read the merchant's events feed (SearchEvents, 28 days) from the
last event seen, so an event Square could not deliver (Sous down, a dropped delivery) is
still processed. Events already received are recognised by id and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import msgspec

from providers.base import Action, Checkpoint, Page, SyncRequest
from providers.records.notifications import MissedNotification
from providers.records.tally import Tally
from providers.schedules import Every

from .client import SquareClient

# Read again a little before the last event seen: the feed is eventually consistent.
OVERLAP = timedelta(minutes=5)


class EventsCheckpoint(Checkpoint):
    page: str = ""  # SearchEvents cursor of the next page
    since: str = ""  # where this run reads from (fixed on its first page)
    latest: str = ""  # the newest event's created_at seen


class MissedEventsAction(Action):
    key = "events"
    label = "Missed notifications check"
    description = "Square's events feed, read for notifications that never arrived."
    manual = False
    listed = False
    incremental = True
    # The safety net under webhooks (and a slow stand-in where none come): every half hour,
    # one SearchEvents call when nothing was missed.
    schedule = Every(default=30, choices=((10, "10 min"), (30, "30 min"), (60, "hour")))
    Checkpoint = EventsCheckpoint

    def summary(self, tally: Tally) -> str:
        if not tally.events_missed:
            return f"Notifications checked: none missed ({tally.events_read:,} read)"
        return f"Notifications checked: {tally.events_missed:,} missed, now processed"

    def pages(self, client: SquareClient, request: SyncRequest) -> Iterator[Page]:
        at: EventsCheckpoint = request.checkpoint
        if not at.since:
            last = request.cursor.get("latest")
            # The first run reads from now on: what came before, the syncs themselves read.
            start = _parse(last) if last else request.now
            at = EventsCheckpoint(since=_iso(start - OVERLAP), latest=_iso(start))
        while True:
            events, cursor = client.search_events(
                merchant_id=request.account_id, since=at.since, cursor=at.page or None
            )
            records = [
                MissedNotification(event_id=e["event_id"], body=msgspec.json.encode(e))
                for e in events
                if e.get("event_id")
            ]
            times = [_parse(e["created_at"]) for e in events if e.get("created_at")]
            latest = max([_parse(at.latest), *times])
            at = EventsCheckpoint(page=cursor, since=at.since, latest=_iso(latest))
            yield Page(records=records, checkpoint=at, cursor={"latest": at.latest})
            if not cursor:
                return


def _parse(text: str) -> datetime:
    # msgspec reads RFC 3339 with any number of fractional digits (Square sends nanoseconds).
    return msgspec.convert(text, datetime)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
