"""Seeded merchants and their locations (README §5), each location in its own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from . import ids
from .config import Sizes
from .menu import MERCHANT_NAMES, SITES
from .timefmt import iso_ms

DAYS_OF_WEEK = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# The seeded accounts were "created" well before any order history (fixed, not relative to
# today, so their timestamps never move).
CREATED_AT_MS = int(datetime(2019, 3, 4, 16, 20, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Location:
    merchant_index: int
    index: int  # order of creation within the merchant; also part of order ids
    key: int  # unique across merchants; the tie-breaker between orders with equal timestamps
    id: str
    merchant_id: str
    name: str
    timezone: str
    tz: ZoneInfo
    open_minute: int  # minutes after local midnight
    close_minute: int  # may pass 1440: the bar serves after midnight
    body: dict  # the Location object as ListLocations returns it

    @property
    def late_night(self) -> bool:
        return self.close_minute > 24 * 60


@dataclass(frozen=True)
class Merchant:
    index: int
    id: str
    business_name: str
    locations: tuple[Location, ...]  # sorted by name, as ListLocations answers (README §3)
    body: dict  # the Merchant object

    @property
    def main_location(self) -> Location:
        return min(self.locations, key=lambda loc: loc.index)


def _clock(minute: int) -> str:
    minute %= 24 * 60
    return f"{minute // 60:02d}:{minute % 60:02d}:00"


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isascii() and c.isalnum())


def _business_name(index: int) -> str:
    if index < len(MERCHANT_NAMES):
        return MERCHANT_NAMES[index]
    return f"Demo Restaurant {index + 1}"


def _location(seed: int, merchant_index: int, merchant_id: str, business: str, index: int):
    site = SITES[index % len(SITES)]
    tz_name, city, state, postal, street, area, lat, lng, opens, closes, hoods = site
    round_ = index // len(SITES)
    name = hoods[(merchant_index + round_) % len(hoods)]
    if round_ >= len(hoods):
        name = f"{name} {round_ + 1}"
    location_id = ids.location_id(seed, merchant_index, index)
    periods = [
        {"day_of_week": day, "start_local_time": _clock(opens), "end_local_time": _clock(closes)}
        for day in DAYS_OF_WEEK
    ]
    body = {
        "id": location_id,
        "name": name,
        "address": {
            "address_line_1": street,
            "locality": city,
            "administrative_district_level_1": state,
            "postal_code": postal,
            "country": "US",
        },
        "timezone": tz_name,
        "capabilities": ["CREDIT_CARD_PROCESSING", "AUTOMATIC_TRANSFERS"],
        "status": "ACTIVE",
        "created_at": iso_ms(CREATED_AT_MS + index * 86_400_000)[:19] + "Z",
        "merchant_id": merchant_id,
        "country": "US",
        "language_code": "en-US",
        "currency": "USD",
        "phone_number": f"+1 {area}-555-{100 + merchant_index * 10 + index:04d}",
        "business_name": business,
        "type": "PHYSICAL",
        "business_hours": {"periods": periods},
        "business_email": f"hello+{_slug(name)}@example.com",
        "coordinates": {"latitude": lat, "longitude": lng},
        "mcc": "5812",  # eating places and restaurants
    }
    return Location(
        merchant_index=merchant_index,
        index=index,
        key=merchant_index * 1000 + index,
        id=location_id,
        merchant_id=merchant_id,
        name=name,
        timezone=tz_name,
        tz=ZoneInfo(tz_name),
        open_minute=opens,
        close_minute=closes,
        body=body,
    )


def build_merchants(seed: int, sizes: Sizes) -> tuple[Merchant, ...]:
    merchants = []
    for m in range(sizes.merchants):
        merchant_id = ids.merchant_id(seed, m)
        business = _business_name(m)
        locations = [_location(seed, m, merchant_id, business, i) for i in range(sizes.locations)]
        main = locations[0]
        locations.sort(key=lambda loc: (loc.name.casefold(), loc.id))
        body = {
            "id": merchant_id,
            "business_name": business,
            "country": "US",
            "language_code": "en-US",
            "currency": "USD",
            "status": "ACTIVE",
            "main_location_id": main.id,
            "created_at": iso_ms(CREATED_AT_MS + m * 7 * 86_400_000),
        }
        merchants.append(Merchant(m, merchant_id, business, tuple(locations), body))
    return tuple(merchants)
