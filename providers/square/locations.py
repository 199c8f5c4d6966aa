"""Square's locations as Sous knows them: refreshed when Square says one was created or changed
(location.created / location.updated), and read again by every sales sync.

The records go to the locations importer (integrations/sync/locations.py), which keeps names
and time zones current and holds a new location out of sales until staff include it
(providers/locations.py). Syncs never plan from what is stored: they read ListLocations when
they start, so a rename or a new time zone applies to the next sync whatever the notifications.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from providers.base import Action, Page, Progress, SyncRequest
from providers.records.locations import LocationRecord
from providers.records.lookups import LookupData
from providers.records.tally import Tally

from . import schemas
from .client import SquareClient


def location_records(
    listed: Iterable[schemas.Location], announced: Iterable[str] = ()
) -> list[LocationRecord]:
    """ListLocations' answer as records; `announced`: ids Square said were just created."""
    created = set(announced)
    return [
        LocationRecord(
            external_id=loc.id,
            name=loc.name or loc.id,
            timezone=loc.timezone,
            status=loc.status,
            announced=loc.id in created,
        )
        for loc in listed
    ]


def lookup_data(listed: Iterable[schemas.Location]) -> dict:
    """ListLocations' answer as the drawer's `locations` lookup keeps it (see
    SquareProvider.show_lookup)."""
    return {
        "locations": [
            {
                "id": loc.id,
                "name": loc.name,
                "status": loc.status,
                "timezone": loc.timezone,
                "currency": loc.currency,
            }
            for loc in listed
        ]
    }


def listed_records(
    listed: list[schemas.Location], account_id: str, announced: Iterable[str] = ()
) -> list:
    """What a job that listed the locations saves: the records, and the drawer's lookup data
    (so a sync or a location event refreshes the picker too)."""
    return [
        *location_records(listed, announced),
        LookupData("locations", lookup_data(listed), account_id),
    ]


class LocationsAction(Action):
    """One ListLocations call. Params: {"created": [ids from location.created events]}."""

    key = "locations"
    label = "Locations refresh"
    description = "Square's locations, read again after Square said one was added or changed."
    manual = False
    listed = False
    # A refresh that already listed may have missed the change a new event is about.
    incremental = True

    def overlaps(self, a: dict, b: dict) -> bool:
        return set(b.get("created", ())) <= set(a.get("created", ()))

    def merge(self, pending: dict, new: dict) -> dict | None:
        created = sorted({*pending.get("created", ()), *new.get("created", ())})
        return {"created": created} if created else {}

    def summary(self, tally: Tally) -> str:
        count = tally.locations
        new = f", {tally.locations_new:,} new" if tally.locations_new else ""
        return f"Locations refreshed: {count:,} location{'s' if count != 1 else ''}{new}"

    def pages(self, client: SquareClient, request: SyncRequest) -> Iterator[Page]:
        listed = client.locations()
        records = listed_records(listed, request.account_id, request.params.get("created", ()))
        yield Page(
            records=records,
            checkpoint=self.Checkpoint(),
            progress=Progress(done=len(listed), total=len(listed), unit="locations"),
        )
