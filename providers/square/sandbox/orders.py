"""Orders as a pure function of (location, business day, index) (README §7).

Two years of a busy merchant is close to a million orders, so nothing is stored. For each
(location, business day) a seeded RNG yields the day's light keys: when each order was created,
when it closes, whether it is cancelled. The keys are sorted by creation time, so an order's
index is its rank in the day. A full order is built only when a page needs it, from its own
seeded RNG. Everything is a function of the seed, the sizes and "now":

- "Today" is the real current date in the location's time zone; history ends today.
- An order exists once its `created_at` has passed. It stays OPEN until its close time passes,
  then it is COMPLETED (or CANCELED), so OPEN orders only ever exist for the last hour or so.
- Opening hours are local; the bar locations serve after midnight, and those orders belong to
  the previous business day (README §7 slicing, the product's bar-cutoff rule).
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from . import ids
from .catalog import Menu, MenuDiscount, MenuItem, MenuModifier, MenuTax, MenuVariation, money
from .config import Sizes
from .merchants import Location, Merchant
from .timefmt import iso_ms

DAY_MS = 86_400_000
MINUTE_MS = 60_000
# The slowest table closes 75 minutes after it opened its order. Together with opening hours
# (menu.SITES) this keeps business days apart in created, updated and closed time alike.
MAX_CLOSE_DELAY_MS = 75 * MINUTE_MS
INDEX_LIMIT = 100_000  # serial = day ordinal * INDEX_LIMIT + index
ADDED_SERIAL_BASE = 10**12  # serials of orders added through the control API
# Monday .. Sunday; averages to 1.0 so `orders_per_day` stays the mean.
WEEKDAY_FACTOR = (0.8, 0.85, 0.9, 1.0, 1.25, 1.3, 0.9)
# Square bumps `version` on each update; a POS order is created, filled, paid and closed.
VERSION = {"OPEN": 2, "CANCELED": 3, "COMPLETED": 4}
CLOSED_STATES = frozenset({"COMPLETED", "CANCELED"})
AUTO_GRATUITY_RATE = 18_000  # 18 %, per 100 000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def pct(amount: int, rate: int) -> int:
    """`amount` × rate / 100 000, rounded half up, in whole cents."""
    return (amount * rate + 50_000) // 100_000


# A search may be bounded anywhere RFC 3339 reaches (year 1 to 9999). Shifted into a local
# zone those bounds fall outside what datetime holds, and nothing was generated out there.
_FIRST_SAFE_MS = int(datetime(1, 1, 2, tzinfo=UTC).timestamp() * 1000)
_LAST_SAFE_MS = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp() * 1000)


def local_ordinal(ms: int, tz: ZoneInfo) -> int:
    ms = min(max(ms, _FIRST_SAFE_MS), _LAST_SAFE_MS)
    return datetime.fromtimestamp(ms / 1000, tz).date().toordinal()


def state_at(closed_ms: int, canceled: bool, now_ms: int) -> str:
    if closed_ms <= now_ms:
        return "CANCELED" if canceled else "COMPLETED"
    return "OPEN"


@dataclass(frozen=True)
class DayKeys:
    """One location's business day: parallel tuples, sorted by creation time."""

    created: tuple[int, ...]  # ms, strictly increasing
    closed: tuple[int, ...]  # ms at which the order completes or is cancelled
    canceled: bytes  # 1 where the order ends CANCELED


@dataclass
class Line:
    item: MenuItem
    variation: MenuVariation
    quantity: int
    modifiers: tuple[MenuModifier, ...]
    gross: int = 0
    discount: int = 0
    taxes: tuple[tuple[MenuTax, int], ...] = ()

    @property
    def tax(self) -> int:
        return sum(amount for _, amount in self.taxes)

    @property
    def total(self) -> int:
        return self.gross - self.discount + self.tax


@dataclass
class Ticket:
    """The priced content of one order, before it is rendered as Square JSON."""

    lines: list[Line]
    discount: MenuDiscount | None
    discount_percentage: str | None
    service_charge: int
    tip: int
    tender: str  # CARD | CASH

    @property
    def gross(self) -> int:
        return sum(line.gross for line in self.lines)

    @property
    def total_discount(self) -> int:
        return sum(line.discount for line in self.lines)

    @property
    def total_tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def total(self) -> int:
        # README §7 / spec: the order total includes tax, service charges and tip.
        return self.gross - self.total_discount + self.total_tax + self.service_charge + self.tip


class OrderGenerator:
    """All merchants' orders for one (seed, sizes). Immutable; safe to share between threads."""

    def __init__(
        self, seed: int, sizes: Sizes, merchants: tuple[Merchant, ...], menus: dict[int, Menu]
    ) -> None:
        self.seed = seed
        self.sizes = sizes
        self.menus = menus
        self.codec = ids.OrderIdCodec(seed)
        self.locations: dict[int, Location] = {
            loc.key: loc for merchant in merchants for loc in merchant.locations
        }
        self.day_keys = lru_cache(maxsize=1024)(self._day_keys)

    # --- the light keys -----------------------------------------------------------------------

    def history(self, loc: Location, now_ms: int) -> tuple[int, int]:
        """First and last business day (date ordinals) of the location's history."""
        today = local_ordinal(now_ms, loc.tz)
        return today - self.sizes.days + 1, today

    @staticmethod
    def _minute(rng: random.Random, loc: Location) -> float:
        opens, closes = loc.open_minute, loc.close_minute
        roll = rng.random()
        if roll < 0.35:
            minute = rng.gauss(12.5 * 60, 50)  # lunch
        elif roll < 0.80:
            minute = rng.gauss(19 * 60, 75)  # dinner
        elif roll < 0.92 or not loc.late_night:
            minute = rng.uniform(opens, closes)
        else:
            minute = rng.uniform(22.5 * 60, closes)  # the late bar crowd, past midnight
        if not opens <= minute < closes:
            minute = rng.uniform(opens, closes)
        return minute

    def _day_keys(self, loc_key: int, day: int) -> DayKeys:
        loc = self.locations[loc_key]
        rng = random.Random(ids.hash64(self.seed, "day", loc_key, day))
        when = date.fromordinal(day)
        count = round(
            self.sizes.orders_per_day * WEEKDAY_FACTOR[when.weekday()] * rng.uniform(0.9, 1.1)
        )
        count = min(count, INDEX_LIMIT - 1)
        drafts = []
        for _ in range(count):
            wall_ms = int(self._minute(rng, loc) * MINUTE_MS)  # after local midnight
            canceled = rng.random() < 0.03
            if canceled:
                delay = rng.uniform(1, 12)
            elif rng.random() < 0.3:
                delay = rng.uniform(3, 12)  # counter service
            else:
                delay = rng.uniform(25, 75)  # a table
            drafts.append((wall_ms, int(delay * MINUTE_MS), canceled))
        midnight_ms = (day - _EPOCH_ORDINAL) * DAY_MS  # local midnight, as if local were UTC
        noon = datetime(when.year, when.month, when.day, 12)
        offset = loc.tz.utcoffset(noon)
        if offset == loc.tz.utcoffset(noon + timedelta(days=1)):
            shift = int(offset.total_seconds() * 1000)
            stamped = [(midnight_ms + t - shift, d, c) for t, d, c in drafts]
        else:  # a DST change tonight: convert each wall-clock time on its own
            base = datetime(when.year, when.month, when.day, tzinfo=loc.tz)
            stamped = [
                (int((base + timedelta(milliseconds=t)).timestamp() * 1000), d, c)
                for t, d, c in drafts
            ]
        stamped.sort()
        created, closed, canceled_flags = [], [], bytearray()
        previous = -1
        for t, delay, canceled in stamped:
            t = max(t, previous + 1)  # strictly increasing: (time) alone orders a location's day
            previous = t
            created.append(t)
            closed.append(t + delay)
            canceled_flags.append(1 if canceled else 0)
        return DayKeys(tuple(created), tuple(closed), bytes(canceled_flags))

    # --- identities ---------------------------------------------------------------------------

    def order_id(self, loc: Location, day: int, index: int) -> str:
        return self.codec.encode(loc.merchant_index, loc.index, day, index)

    def locate(self, order_id: str) -> tuple[Location, int, int] | None:
        """(location, day, index) of a generated order id, or None."""
        decoded = self.codec.decode(order_id)
        if decoded is None:
            return None
        merchant, location, day, index = decoded
        loc = self.locations.get(merchant * 1000 + location)
        if loc is None or index >= len(self.day_keys(loc.key, day).created):
            return None
        return loc, day, index

    # --- tickets and JSON ---------------------------------------------------------------------

    def ticket(self, loc: Location, rng: random.Random, state: str) -> Ticket:
        menu = self.menus[loc.merchant_index]
        count = min(self.sizes.line_items, 1 + int(rng.expovariate(0.7)))
        lines = []
        for item in rng.choices(menu.items, cum_weights=menu.cum_weights, k=count):
            variations = item.variations
            variation = variations[0] if rng.random() < 0.65 else rng.choice(variations)
            quantity = 1 if rng.random() < 0.82 else rng.choice((2, 2, 3))
            chosen: list[MenuModifier] = []
            for modifier_list in item.modifier_lists:
                options = modifier_list.modifiers
                low = min(modifier_list.min_selected, len(options))
                high = min(modifier_list.max_selected, len(options))
                picks = low + (
                    rng.randint(0, high - low) if high > low and rng.random() < 0.4 else 0
                )
                chosen.extend(rng.sample(options, picks))
            line = Line(item, variation, quantity, tuple(chosen))
            line.gross = quantity * (variation.price + sum(m.price for m in chosen))
            lines.append(line)

        discount = None
        percentage = None
        if rng.random() < 0.08:
            discount = rng.choices(menu.discounts, weights=(5, 1.5, 2.5, 1), k=1)[0]
            percentage = discount.percentage or ("25.0" if discount.amount is None else None)
            subtotal = sum(line.gross for line in lines)
            if percentage is not None:
                rate = int(float(percentage) * 1000)
                for line in lines:
                    line.discount = pct(line.gross, rate)
            elif subtotal:
                # A fixed amount is spread over the lines in proportion to their gross sales,
                # the remainder on the biggest line, so the parts add up exactly.
                amount = min(discount.amount or 0, subtotal)
                for line in lines:
                    line.discount = amount * line.gross // subtotal
                biggest = max(lines, key=lambda line: line.gross)
                biggest.discount += amount - sum(line.discount for line in lines)
        for line in lines:
            base = line.gross - line.discount
            line.taxes = tuple((tax, pct(base, tax.rate)) for tax in line.item.taxes)

        net = sum(line.gross - line.discount for line in lines)
        service_charge = pct(net, AUTO_GRATUITY_RATE) if len(lines) >= 6 else 0
        tender = "CARD" if rng.random() < 0.82 else "CASH"
        tip = 0
        if state == "COMPLETED" and tender == "CARD" and not service_charge and rng.random() < 0.8:
            tip = pct(net, rng.choice((15_000, 18_000, 20_000, 22_000, 25_000)))
        return Ticket(lines, discount, percentage, service_charge, tip, tender)

    def _order_rng(self, loc: Location, day: int, index: int, revision: int = 0) -> random.Random:
        # Revision 0 is the order as generated; each later one draws different line items.
        parts = (self.seed, "order", loc.key, day, index) + ((revision,) if revision else ())
        return random.Random(ids.hash64(*parts))

    def light(self, loc: Location, day: int, index: int, now_ms: int) -> tuple[int, int, str]:
        keys = self.day_keys(loc.key, day)
        created, closed = keys.created[index], keys.closed[index]
        return created, closed, state_at(closed, bool(keys.canceled[index]), now_ms)

    def total(self, loc: Location, day: int, index: int, now_ms: int) -> int:
        """total_money.amount of a generated order, without rendering it (for ground truth)."""
        _, _, state = self.light(loc, day, index, now_ms)
        return self.ticket(loc, self._order_rng(loc, day, index), state).total

    def build(self, loc: Location, day: int, index: int, now_ms: int) -> dict:
        """The full Square Order of a generated order, as of `now_ms`."""
        created, closed, state = self.light(loc, day, index, now_ms)
        order, _ = self.build_as(
            loc,
            day,
            index,
            state=state,
            closed_ms=closed if state != "OPEN" else None,
            updated_ms=closed if state != "OPEN" else created,
            version=VERSION[state],
        )
        return order

    def build_as(
        self,
        loc: Location,
        day: int,
        index: int,
        *,
        state: str,
        closed_ms: int | None,
        updated_ms: int,
        version: int,
        revision: int = 0,
    ) -> tuple[dict, int]:
        """A generated order's content with the given state and times; also its total."""
        rng = self._order_rng(loc, day, index, revision)
        ticket = self.ticket(loc, rng, state)
        order = render(
            ticket,
            rng,
            order_id=self.order_id(loc, day, index),
            seed=self.seed,
            loc=loc,
            state=state,
            created_ms=self.day_keys(loc.key, day).created[index],
            closed_ms=closed_ms,
            updated_ms=updated_ms,
            version=version,
        )
        return order, ticket.total

    def build_added(
        self,
        loc: Location,
        serial: int,
        order_id: str,
        *,
        state: str,
        created_ms: int,
        closed_ms: int | None,
        updated_ms: int,
        version: int,
        revision: int = 0,
    ) -> tuple[dict, int]:
        """An order added through the control API: generated content, given times and state."""
        parts = (self.seed, "added", order_id, serial) + ((revision,) if revision else ())
        rng = random.Random(ids.hash64(*parts))
        ticket = self.ticket(loc, rng, state)
        order = render(
            ticket,
            rng,
            order_id=order_id,
            seed=self.seed,
            loc=loc,
            state=state,
            created_ms=created_ms,
            closed_ms=closed_ms,
            updated_ms=updated_ms,
            version=version,
        )
        return order, ticket.total


# --- rendering ---------------------------------------------------------------------------------

# base64 digits mapped onto base62 ones ("+" and "/" become "x" and "Q"): Square's uids are
# alphanumeric, and this is much faster than drawing 22 characters one by one.
_ALNUM = bytes.maketrans(b"+/", b"xQ")
_CARDS = (("VISA", 50), ("MASTERCARD", 30), ("AMERICAN_EXPRESS", 12), ("DISCOVER", 8))
_ENTRY = (("CONTACTLESS", 60), ("EMV", 30), ("SWIPED", 5), ("KEYED", 5))
_SOURCES = (("Square Point of Sale", 85), ("Square Online", 10), ("DoorDash", 5))


def _alnum(rng: random.Random, length: int) -> str:
    size = (length * 6 + 7) // 8
    raw = rng.getrandbits(size * 8).to_bytes(size, "big")
    return base64.b64encode(raw).translate(_ALNUM)[:length].decode()


def _uid(rng: random.Random) -> str:
    return _alnum(rng, 22)


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in table], weights=[w for _, w in table], k=1)[0]


def payment_id_for(seed: int, order_id: str) -> str:
    return ids.seeded(ids.BASE62, 29, seed, "payment", order_id)


def render(
    ticket: Ticket,
    rng: random.Random,
    *,
    order_id: str,
    seed: int,
    loc: Location,
    state: str,
    created_ms: int,
    closed_ms: int | None,
    updated_ms: int,
    version: int,
) -> dict:
    """Square's Order JSON for a ticket. Empty lists are left out, as Square leaves them out."""
    tax_uids = {tax.id: _uid(rng) for line in ticket.lines for tax, _ in line.taxes}
    discount_uid = _uid(rng) if ticket.discount else None
    line_items = []
    tax_totals: dict[str, int] = dict.fromkeys(tax_uids, 0)
    for line in ticket.lines:
        variation = line.variation
        entry: dict = {
            "uid": _uid(rng),
            "catalog_object_id": variation.id,
            "catalog_version": variation.version,
            "quantity": str(line.quantity),
            "name": line.item.name,
            "variation_name": variation.name,
            "item_type": "ITEM",
            "base_price_money": money(variation.price),
            "variation_total_price_money": money(variation.price * line.quantity),
            "gross_sales_money": money(line.gross),
            "total_tax_money": money(line.tax),
            "total_discount_money": money(line.discount),
            "total_money": money(line.total),
            "total_service_charge_money": money(0),
        }
        if line.modifiers:
            entry["modifiers"] = [
                {
                    "uid": _uid(rng),
                    "catalog_object_id": modifier.id,
                    "catalog_version": modifier.version,
                    "name": modifier.name,
                    "quantity": "1",
                    "base_price_money": money(modifier.price),
                    "total_price_money": money(modifier.price * line.quantity),
                }
                for modifier in line.modifiers
            ]
        if line.taxes:
            entry["applied_taxes"] = [
                {"uid": _uid(rng), "tax_uid": tax_uids[tax.id], "applied_money": money(amount)}
                for tax, amount in line.taxes
            ]
            for tax, amount in line.taxes:
                tax_totals[tax.id] += amount
        if discount_uid and line.discount:
            entry["applied_discounts"] = [
                {
                    "uid": _uid(rng),
                    "discount_uid": discount_uid,
                    "applied_money": money(line.discount),
                }
            ]
        line_items.append(entry)

    order: dict = {
        "id": order_id,
        "location_id": loc.id,
        "source": {"name": _pick(rng, _SOURCES)},
        "line_items": line_items,
    }
    taxes_used = {tax.id: tax for line in ticket.lines for tax, _ in line.taxes}
    if taxes_used:
        order["taxes"] = [
            {
                "uid": tax_uids[tax.id],
                "catalog_object_id": tax.id,
                "catalog_version": tax.version,
                "name": tax.name,
                "percentage": tax.percentage,
                "type": "ADDITIVE",
                "applied_money": money(tax_totals[tax.id]),
                "scope": "LINE_ITEM",
            }
            for tax in taxes_used.values()
        ]
    if ticket.discount and discount_uid:
        discount = ticket.discount
        entry = {
            "uid": discount_uid,
            "catalog_object_id": discount.id,
            "catalog_version": discount.version,
            "name": discount.name,
            "type": discount.type,
            "applied_money": money(ticket.total_discount),
            "scope": "ORDER",
        }
        if ticket.discount_percentage is not None:
            entry["percentage"] = ticket.discount_percentage
        if discount.amount is not None:
            entry["amount_money"] = money(discount.amount)
        order["discounts"] = [entry]
    if ticket.service_charge:
        order["service_charges"] = [
            {
                "uid": _uid(rng),
                "name": "Auto Gratuity (parties of 6+)",
                "percentage": "18",
                "applied_money": money(ticket.service_charge),
                "total_money": money(ticket.service_charge),
                "total_tax_money": money(0),
                "calculation_phase": "SUBTOTAL_PHASE",
                "taxable": False,
                "type": "AUTO_GRATUITY",
                "treatment_type": "LINE_ITEM_TREATMENT",
                "scope": "ORDER",
            }
        ]
    total = ticket.total
    if state == "COMPLETED":
        payment_id = payment_id_for(seed, order_id)
        tender: dict = {
            "id": payment_id,
            "location_id": loc.id,
            "transaction_id": order_id,
            "created_at": iso_ms(closed_ms or updated_ms),
            # spec Tender.amount_money: the total of the tender, tip included.
            "amount_money": money(total),
            "tip_money": money(ticket.tip),
            "type": ticket.tender,
            "payment_id": payment_id,
        }
        if ticket.tender == "CARD":
            tender["card_details"] = {
                "status": "CAPTURED",
                "card": {
                    "card_brand": _pick(rng, _CARDS),
                    "last_4": f"{rng.randrange(10_000):04d}",
                    "fingerprint": "sq-1-" + _alnum(rng, 40),
                },
                "entry_method": _pick(rng, _ENTRY),
            }
        else:
            handed = -(-total // 2000) * 2000  # the next $20 note
            tender["cash_details"] = {
                "buyer_tendered_money": money(handed),
                "change_back_money": money(handed - total),
            }
        order["tenders"] = [tender]
    order["net_amounts"] = {
        "total_money": money(total),
        "tax_money": money(ticket.total_tax),
        "discount_money": money(ticket.total_discount),
        "tip_money": money(ticket.tip),
        "service_charge_money": money(ticket.service_charge),
    }
    order["created_at"] = iso_ms(created_ms)
    order["updated_at"] = iso_ms(updated_ms)
    if closed_ms is not None:
        order["closed_at"] = iso_ms(closed_ms)
    order["state"] = state
    order["version"] = version
    order["total_money"] = money(total)
    order["total_tax_money"] = money(ticket.total_tax)
    order["total_discount_money"] = money(ticket.total_discount)
    order["total_tip_money"] = money(ticket.tip)
    order["total_service_charge_money"] = money(ticket.service_charge)
    if rng.random() < 0.4:
        order["ticket_name"] = f"Table {rng.randint(1, 40)}"
    order["net_amount_due_money"] = money(total if state == "OPEN" else 0)
    return order


def local_ms(loc: Location, when: datetime) -> int:
    """A wall-clock time at the location (naive datetime) as epoch milliseconds."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=loc.tz)
    return int(when.astimezone(UTC).timestamp() * 1000)
