"""Which of an account's locations Sous reads: the choices kept in the connection's settings, and
what happens when the provider lists a location Sous has not met. Plain data in, plain data out:
the provider's picker and syncs read these rules, and the integrations importer applies them.

The settings keys (a provider's picker saves them; `remember` keeps them current):

    locations            {id: {"name", "timezone"}}: every location Sous knows, as last listed
    excluded_locations   [id]: known locations left out of syncs
    new_locations        [id]: met since staff last saved their choice (the picker's "New")

A location missing from `locations` is new, and new locations are left out until staff include
them: a shop opened in Square does not start feeding sales into Sous unasked. A connection that
has never recorded its locations (no `locations` key: connected before Sous remembered them, or
just connected) reads every listed location, as it always did, and `remember` takes every one
listed at its first look as known, except ones the provider announced as just created. So
nothing a connection read before becomes excluded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from providers.records.locations import LocationRecord

KNOWN = "locations"
EXCLUDED = "excluded_locations"
NEW = "new_locations"


def remembers(settings: Mapping) -> bool:
    """Whether the connection has recorded which locations it knows."""
    return isinstance(settings.get(KNOWN), Mapping)


def included(settings: Mapping, location_id: str) -> bool:
    """Whether syncs read this location: known (or nothing recorded yet) and not excluded."""
    if location_id in (settings.get(EXCLUDED) or ()):
        return False
    return not remembers(settings) or location_id in settings[KNOWN]


def is_new(settings: Mapping, location_id: str) -> bool:
    """Met since staff last chose, or not met at all yet: the picker shows it as "New"."""
    if location_id in (settings.get(NEW) or ()):
        return True
    return remembers(settings) and location_id not in settings[KNOWN]


@dataclass(frozen=True)
class Remembered:
    settings: dict  # the connection's settings with what the provider lists now
    added: tuple[LocationRecord, ...] = ()  # met for the first time: excluded, marked new
    changed: tuple[LocationRecord, ...] = ()  # known ones renamed or moved to another zone


def remember(settings: Mapping, listed: Iterable[LocationRecord]) -> Remembered:
    """`settings` updated with the locations the provider lists now.

    Known locations take their current name and time zone (the nightly schedule plans with
    them). A location not known yet becomes known, excluded and new, except at a connection's
    first look, which adopts what is listed (see the module docstring). Locations no longer
    listed are kept: their sales stay in Sous, and Square never deletes a location anyway.
    """
    first_look = not remembers(settings)
    known = dict(settings.get(KNOWN) or {}) if not first_look else {}
    excluded = list(settings.get(EXCLUDED) or [])
    new = list(settings.get(NEW) or [])
    added, changed = [], []
    for record in listed:
        entry = {"name": record.name[:200], "timezone": record.timezone}
        before = known.get(record.external_id)
        known[record.external_id] = entry
        if before is not None:
            if before != entry:
                changed.append(record)
        elif not first_look or record.announced:
            added.append(record)
            excluded += [] if record.external_id in excluded else [record.external_id]
            new += [] if record.external_id in new else [record.external_id]
    updated = {**settings, KNOWN: known}
    if added:
        updated[EXCLUDED], updated[NEW] = excluded, new
    return Remembered(updated, tuple(added), tuple(changed))
