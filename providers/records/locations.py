"""A location (a shop, a bar: Square's Location) as the provider lists it now, so Sous keeps what
it knows of the account's locations up to date and notices ones it has not met."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocationRecord:
    external_id: str
    name: str
    timezone: str  # IANA, as the provider gives it
    status: str = "ACTIVE"
    # The provider announced it as just created (Square's location.created): even a connection
    # that has never recorded its locations does not take it as one staff already chose.
    announced: bool = False
