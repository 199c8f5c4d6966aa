"""Sync Sales: Square orders -> neutral order records, by business day and location.

Which orders belong to a business day (the drawer states it too): completed orders by their
closed time, open and cancelled ones by their created time. SearchOrders takes one date filter
per query and its sort field must match it (README §7), so each batch of at most ten locations
is read with two queries: OPEN and CANCELED by `created_at`, COMPLETED by `closed_at`, both
ascending, 1000 orders a page. Locations in one batch may have different time zones and
cutoffs: the query asks for the union of their windows and each order is then kept only if it
falls in its own location's business days (`business_day.BusinessClock`).

"Sync Today" reads each location's business day under way, then every order updated since the
last successful pull (Square can deliver offline orders up to 72 hours late, keeping their
original `created_at`); the time of that pull is the cursor the next one starts from.
"Sync Range" splits into one chunk per calendar month, run as parallel jobs.

A job's plan (locations, clocks, queries) is fixed on its first page and kept in the
checkpoint, so a resumed job repeats exactly the queries it began with.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import msgspec
from django.core import signing

from providers import locations as choices
from providers.base import (
    Action,
    Checkpoint,
    Estimate,
    InvalidParams,
    Page,
    Progress,
    SyncRequest,
)
from providers.errors import ApiError
from providers.records.sales import AppliedModifierRecord, LineItemRecord, OrderRecord
from providers.records.tally import Tally

from . import estimate, ledger, schemas
from .business_day import (
    DEFAULT_CUTOFF,
    BusinessClock,
    cutoff_of,
    excluded,
    known_zone,
    parse_cutoff,
)
from .client import MAX_LOCATIONS_PER_SEARCH, SquareClient
from .locations import listed_records
from .prefetch import ahead
from .schedule import NightlySales
from .webhooks import ORDER_EVENTS, PAYMENT_EVENTS

MAX_RANGE_YEARS = 3
# Square's data begins with Square (2009). An older start only makes a job that reads empty
# months for minutes (and dates before year 2 cannot even be shifted into a time zone).
EARLIEST_DAY = date(2009, 1, 1)
# Offline POS orders can reach Square up to 72 hours late (README §7): a first "Sync Today"
# also reads what changed in the three days before today.
LATE_ORDERS = timedelta(hours=72)
# Each incremental pull overlaps the previous one a little: search results are eventually
# consistent, so an order updated just before a pull may only be searchable just after it.
OVERLAP = timedelta(minutes=5)
# Where a business day can begin relative to its local date (cutoffs from 00:00 to 23:59 and
# offsets from UTC-12 to UTC+14): used when the locations' own zones are not known yet.
EARLIEST_ZONE = "Etc/GMT-14"
ONE_MS = timedelta(milliseconds=1)


class Step(enum.Enum):
    """What one SearchOrders query of a job's plan reads (see the module docstring)."""

    CREATED = "created"  # open and cancelled orders of the business days, by created time
    CLOSED = "closed"  # completed orders of the business days, by closed time
    UPDATED = "updated"  # "Sync Today": earlier days' orders changed since the last pull


STATES_BY_STEP = {
    Step.CLOSED: ["COMPLETED"],
    Step.CREATED: ["OPEN", "CANCELED"],
    Step.UPDATED: ["OPEN", "COMPLETED", "CANCELED"],
}
FIELD_BY_STEP = {Step.CLOSED: "closed_at", Step.CREATED: "created_at", Step.UPDATED: "updated_at"}
# Each step's share of the progress bar, by the orders it usually reads: completed orders are
# most of a day; open and cancelled ones few; the changed-since step mostly re-reads today's.
WEIGHT_BY_STEP = {Step.CLOSED: 8, Step.CREATED: 1, Step.UPDATED: 1}


# --- settings: which locations, and their cutoffs ---------------------------------------------


@dataclass(frozen=True)
class SalesLocation:
    id: str
    name: str
    timezone: str
    cutoff: str
    status: str = "ACTIVE"
    currency: str = ""

    @property
    def clock(self) -> BusinessClock:
        return BusinessClock(self.timezone, self.cutoff)


def locations_with_settings(
    locations: list[schemas.Location], settings: Mapping
) -> list[tuple[SalesLocation, bool]]:
    """Every location Square lists (inactive ones too: they have history), with its cutoff
    and whether it is synced: known to the connection and not excluded. One Sous has not met
    is left out until staff include it (providers/locations.py)."""
    return [
        (
            SalesLocation(
                loc.id,
                loc.name or loc.id,
                loc.timezone,
                cutoff_of(settings, loc.id),
                loc.status,
                loc.currency,
            ),
            choices.included(settings, loc.id),
        )
        for loc in locations
    ]


# The locations picker's list comes back signed with the merchant's id: what staff save are
# locations Square listed for this connection, with the time zones Square gave them.
CHOICES_SALT = "providers.square.location-choices"
CHOICES_MAX_AGE = 24 * 3600  # a drawer left open overnight must be reopened


def sign_locations(merchant_id: str, locations: list[SalesLocation]) -> str:
    listed = [[loc.id, loc.name, loc.timezone] for loc in locations]
    return signing.dumps(listed, salt=f"{CHOICES_SALT}:{merchant_id}", compress=True)


def read_locations(value: str, merchant_id: str) -> dict[str, tuple[str, str]]:
    """{location id: (name, time zone)} from the picker's signed list, or InvalidParams."""
    try:
        listed = signing.loads(value, salt=f"{CHOICES_SALT}:{merchant_id}", max_age=CHOICES_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidParams("The locations list has expired. Reopen the drawer.") from None
    except signing.BadSignature:
        raise InvalidParams("Choose among the listed locations.") from None
    return {loc_id: (name, zone) for loc_id, name, zone in listed}


def clean_location_settings(data, current: dict, *, account_id: str) -> dict:
    """The drawer's location form -> settings; InvalidParams for a bad cutoff or none chosen.

    Fields: `locations` (the picker's signed list), `include` (the ticked ids) and
    `cutoff.<id>` (HH:MM). Names and zones are kept so ranges can be checked without a call.
    """
    known = read_locations(data.get("locations") or "", account_id)
    getlist = getattr(data, "getlist", None)
    included = set(getlist("include") if getlist else data.get("include", []))
    if not known:
        raise InvalidParams("No locations to choose from.")
    if included - set(known):
        raise InvalidParams("Choose among the listed locations.")
    if not included:
        raise InvalidParams("Choose at least one location.")
    cutoffs, snapshot = {}, {}
    # Locations met after this list was signed are not the staff's to decide yet: they stay as
    # they are (new and excluded), and so do their cutoffs.
    later = {
        loc_id: info
        for loc_id, info in (current.get(choices.KNOWN) or {}).items()
        if loc_id not in known
    }
    for location_id in later:
        if location_id in (current.get("cutoffs") or {}):
            cutoffs[location_id] = current["cutoffs"][location_id]
    for location_id, (name, zone) in known.items():
        raw = (data.get(f"cutoff.{location_id}") or DEFAULT_CUTOFF).strip()
        try:
            cutoff = parse_cutoff(raw).strftime("%H:%M")
        except ValueError:
            raise InvalidParams(f"Cutoffs are times of day like 04:00 (got {raw[:8]!r}).") from None
        if cutoff != DEFAULT_CUTOFF:
            cutoffs[location_id] = cutoff
        if not known_zone(zone):
            raise InvalidParams(f"{name} has a time zone Sous does not know ({zone[:64]!r}).")
        snapshot[location_id] = {"name": name[:200], "timezone": zone}
    updated = {
        **current,
        choices.EXCLUDED: sorted((set(known) - included) | (excluded(current) & set(later))),
        "cutoffs": cutoffs,
        choices.KNOWN: {**later, **snapshot},
    }
    # Staff have seen the listed ones now: only locations met since stay "New".
    still_new = [loc_id for loc_id in current.get(choices.NEW) or [] if loc_id in later]
    updated.pop(choices.NEW, None)
    return {**updated, choices.NEW: still_new} if still_new else updated


def _latest_business_date(settings: Mapping, now: datetime) -> date:
    """The latest business day already begun at any chosen location (for "no future end")."""
    known = settings.get(choices.KNOWN) or {}
    skip = excluded(settings)
    days = [
        BusinessClock(info.get("timezone") or "UTC", cutoff_of(settings, loc_id)).today(now)
        for loc_id, info in known.items()
        if loc_id not in skip and info.get("timezone")
    ]
    if days:
        return max(days)
    return BusinessClock(EARLIEST_ZONE).today(now)


def synced_locations(settings: Mapping) -> dict[str, BusinessClock]:
    """The locations syncs read, with their clocks, as the connection's settings know them
    (names and zones saved by the picker or learned by syncs; see providers/locations.py)."""
    known = settings.get(choices.KNOWN) or {}
    return {
        loc_id: BusinessClock(info.get("timezone") or "UTC", cutoff_of(settings, loc_id))
        for loc_id, info in known.items()
        if choices.included(settings, loc_id)
    }


def _scope(params: Mapping) -> set[str] | None:
    """The locations a job reads: a nightly run names them, staff's ranges read all."""
    ids = params.get("locations")
    return None if ids is None else set(ids)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _month_label(first: date, last: date) -> str:
    whole_month = first.day == 1 and last.day == calendar.monthrange(last.year, last.month)[1]
    if whole_month and (first.year, first.month) == (last.year, last.month):
        return f"{first:%b %Y}"
    if first == last:
        return f"{first.day} {first:%b %Y}"
    return f"{first.day} {first:%b} → {last.day} {last:%b %Y}"


# --- Square orders -> neutral records ---------------------------------------------------------


def _amount(money: schemas.Money | None) -> int | None:
    return money.amount if money is not None else None


def _currency(order: schemas.Order) -> str:
    for money in (order.total_money, order.total_tax_money, order.total_tip_money):
        if money is not None and money.currency:
            return money.currency
    for line in order.line_items or ():
        for money in (line.total_money, line.base_price_money):
            if money is not None and money.currency:
                return money.currency
    return ""


def attribution_time(order: schemas.Order) -> datetime:
    """The time that decides an order's business day: closed time if completed, else created."""
    if order.state == "COMPLETED" and order.closed_at is not None:
        return order.closed_at
    return order.created_at


def _modifiers(line: schemas.OrderLineItem) -> tuple[AppliedModifierRecord, ...]:
    if not line.modifiers:
        return ()
    return tuple(
        AppliedModifierRecord(
            name=m.name or "",
            catalog_object_id=m.catalog_object_id or "",
            quantity=m.quantity or "1",
            base_price=_amount(m.base_price_money),
            total_price=_amount(m.total_price_money),
        )
        for m in line.modifiers
    )


def order_record(order: schemas.Order, business_date: date) -> OrderRecord:
    lines = []
    seen: set[str] = set()
    for index, line in enumerate(order.line_items or ()):
        uid = line.uid or f"line-{index}"
        if uid in seen:
            uid = f"{uid}-{index}"
        seen.add(uid)
        lines.append(
            LineItemRecord(
                uid=uid,
                name=line.name or "",
                quantity=line.quantity,
                variation_name=line.variation_name or "",
                catalog_object_id=line.catalog_object_id or "",
                catalog_version=line.catalog_version,
                item_type=line.item_type or "",
                base_price=_amount(line.base_price_money),
                gross_sales=_amount(line.gross_sales_money),
                discount=_amount(line.total_discount_money) or 0,
                tax=_amount(line.total_tax_money) or 0,
                total=_amount(line.total_money),
                modifiers=_modifiers(line),
            )
        )
    return OrderRecord(
        external_id=order.id,
        location_id=order.location_id,
        version=order.version or 0,
        state=order.state or "OPEN",
        business_date=business_date,
        created_at=order.created_at.astimezone(UTC),
        updated_at=order.updated_at.astimezone(UTC),
        closed_at=order.closed_at.astimezone(UTC) if order.closed_at else None,
        currency=_currency(order),
        total=_amount(order.total_money) or 0,
        tax=_amount(order.total_tax_money) or 0,
        discount=_amount(order.total_discount_money) or 0,
        tip=_amount(order.total_tip_money) or 0,
        service_charge=_amount(order.total_service_charge_money) or 0,
        source_name=order.source.name or "" if order.source else "",
        line_items=tuple(lines),
    )


# --- the action ---------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as Square writes times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _leading(records: list, pages: Iterator[Page]) -> Iterator[Page]:
    """`pages` with `records` saved alongside the first one."""
    try:
        for page in pages:
            if records:
                page.records, records = [*records, *page.records], []
            yield page
    finally:
        pages.close()  # stops the prefetching threads when the engine stops early


class Query(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One step of a job's plan: a SearchOrders query over a batch of locations."""

    step: Step
    location_ids: tuple[str, ...]  # at most ten
    # RFC 3339 as sent to Square: a resumed job sends the very same query with its cursor.
    start_at: str
    end_at: str


class Days(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """A location's business clock and the business days a job reads for it."""

    timezone: str
    cutoff: str
    first: date
    last: date
    currency: str = ""  # the location's, for the ledger's days without orders


class Plan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a job reads, fixed on its first page (see the module docstring)."""

    locations: dict[str, Days]
    queries: tuple[Query, ...]
    cursor: dict | None  # what a successful "Sync Today" leaves for the next one (Page.cursor)
    label: str  # "today", "Mar 2025": the progress line's
    started_at: str = ""  # RFC 3339: when the job began reading (the ledger's "pulled at")


class SalesCheckpoint(Checkpoint):
    """A job's plan, then the query under way and Square's cursor within it."""

    plan: Plan | None = None  # None until the first page
    orders: int = 0  # orders kept so far
    index: int = 0  # the query under way, in plan.queries (len(plan.queries): finished)
    page: str | None = None  # Square's cursor within that query
    # Where that query starts, when it began again after Square refused a stale page cursor.
    start_at: str | None = None
    last: str | None = None  # the latest order time that query has seen (RFC 3339)


class SalesAction(Action):
    key = "sales"
    label = "Sales sync"
    description = "Orders with their line items, per location and business day."
    template = "square/sales.html"
    ledger_template = "square/calendar.html"
    ledger_day_template = "square/ledger_day.html"
    takes_dates = True
    earliest_day = EARLIEST_DAY
    chunk_unit = "months"
    schedule = NightlySales()
    notifications = ORDER_EVENTS + PAYMENT_EVENTS
    Checkpoint = SalesCheckpoint

    # --- what staff asked for

    def validate(self, data: Mapping[str, str], *, settings: dict, now: datetime) -> dict:
        start_text = (data.get("start") or "").strip()
        end_text = (data.get("end") or "").strip()
        mode = data.get("mode") or ("range" if start_text or end_text else "today")
        if mode == "today":
            return {"mode": "today"}
        if mode != "range":
            raise InvalidParams("Choose Sync Today or Sync Range.")
        if not start_text or not end_text:
            raise InvalidParams("Choose both a start and an end date.")
        try:
            start, end = date.fromisoformat(start_text), date.fromisoformat(end_text)
        except ValueError:
            raise InvalidParams("Dates look like 2024-11-01.") from None
        if start < EARLIEST_DAY:
            raise InvalidParams(
                f"Square has no sales before {EARLIEST_DAY.year}: start on {EARLIEST_DAY:%-d %b %Y}"
                " or later."
            )
        if start > end:
            raise InvalidParams("The start date must be on or before the end date.")
        if end > _latest_business_date(settings, now):
            raise InvalidParams("The end date is in the future: choose today or earlier.")
        if end >= _add_years(start, MAX_RANGE_YEARS):
            raise InvalidParams("A range can cover at most three years.")
        params = {"mode": "range", "start": start.isoformat(), "end": end.isoformat()}
        location = (data.get("location") or "").strip()
        if location:
            # One location's days (the completeness calendar's "Re-pull this day").
            if location not in synced_locations(settings):
                raise InvalidParams("Choose one of the synced locations.")
            params["locations"] = [location]
        return params

    def overlaps(self, a: dict, b: dict) -> bool:
        """An active job answers a new request when it already covers all of it."""
        if a.get("mode") != b.get("mode"):
            return False
        if a.get("mode") == "today":
            return True
        covered = _scope(a) is None or (_scope(b) is not None and _scope(b) <= _scope(a))
        return covered and a["start"] <= b["start"] and b["end"] <= a["end"]

    def merge(self, pending: dict, new: dict) -> dict | None:
        """Two ranges become the range spanning both (re-reading a day between them changes
        nothing), while it stays within three years; "today" and a range stay apart."""
        if pending.get("mode") != "range" or new.get("mode") != "range":
            return None
        start, end = min(pending["start"], new["start"]), max(pending["end"], new["end"])
        if date.fromisoformat(end) >= _add_years(date.fromisoformat(start), MAX_RANGE_YEARS):
            return None
        merged = {"mode": "range", "start": start, "end": end}
        scopes = (_scope(pending), _scope(new))
        if None not in scopes:  # both for some locations only (nightly runs): the union
            merged["locations"] = sorted(scopes[0] | scopes[1])
        return merged

    def plan(self, params: dict, *, settings: dict, now: datetime) -> list[dict]:
        """A range becomes one chunk per calendar month (parallel child jobs)."""
        if params.get("mode") != "range":
            return [params]
        first, last = date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
        chunks = []
        while first <= last:
            month_end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
            chunk_end = min(last, month_end)
            chunks.append({**params, "start": first.isoformat(), "end": chunk_end.isoformat()})
            first = chunk_end + timedelta(days=1)
        return chunks if len(chunks) > 1 else [params]

    def days_covered(self, params: dict, checkpoint, *, settings: dict, now: datetime) -> list:
        """The business days a job of these params reads, per location (the ledger's days
        when the job fails): its plan's once made, else what its params and settings say."""
        plan = getattr(checkpoint, "plan", None)
        if plan is None:  # failed before its first page: plan it as it would have
            known = settings.get(choices.KNOWN) or {}
            listed = [
                schemas.Location(id=loc_id, name=info.get("name") or "", timezone=info["timezone"])
                for loc_id, info in known.items()
                if info.get("timezone")
            ]
            request = SyncRequest(
                params=params, checkpoint=self.Checkpoint(), cursor={}, settings=settings, now=now
            )
            plan = self.make_plan(listed, request)
        return ledger.days_read(plan, read_at=now)

    def estimate(
        self, params: dict, *, settings: dict, now: datetime, orders_per_day: Mapping
    ) -> Estimate | None:
        """How big a range is, for the preview staff confirm; None for "Sync Today"."""
        if params.get("mode") != "range":
            return None
        locations = synced_locations(settings)
        scope = _scope(params)
        ids = [loc_id for loc_id in locations if scope is None or loc_id in scope]
        months = len(self.plan(params, settings=settings, now=now))
        return estimate.of_range(
            date.fromisoformat(params["start"]),
            date.fromisoformat(params["end"]),
            ids,
            chunks=months,
            orders_per_day=orders_per_day,
        )

    def summary(self, tally: Tally) -> str:
        orders = tally.orders
        return (
            f"Sales synced: {orders:,} order{'s' if orders != 1 else ''} "
            f"({tally.orders_new:,} new, {tally.orders_changed:,} changed)"
        )

    # --- the work

    def pages(self, client: SquareClient, request: SyncRequest) -> Iterator[Page]:
        at: SalesCheckpoint = request.checkpoint
        if at.plan is not None:
            # Two stages, each a page ahead of the next: while page N is saved, page N+1 is
            # parsed and page N+2 is on its way.
            return ahead(self._pages(at, ahead(self._fetch(client, at))))
        listed = client.locations()
        at = SalesCheckpoint(plan=self.make_plan(listed, request))
        pages = ahead(self._pages(at, ahead(self._fetch(client, at))))
        # What Square lists goes with the first page: a location met here for the first time
        # (webhooks off) is recorded as new, as its location.created event would have.
        return _leading(listed_records(listed, request.account_id), pages)

    def make_plan(self, listed: list[schemas.Location], request: SyncRequest) -> Plan:
        """The job's plan over the locations Square lists now (names, zones) that it syncs."""
        params, now = request.params, request.now
        scope = _scope(params)
        chosen = [
            loc
            for loc, included in locations_with_settings(listed, request.settings)
            if included and (scope is None or loc.id in scope)
        ]
        clocks = {loc.id: loc.clock for loc in chosen}
        batches = [
            chosen[i : i + MAX_LOCATIONS_PER_SEARCH]
            for i in range(0, len(chosen), MAX_LOCATIONS_PER_SEARCH)
        ]
        queries: list[Query] = []
        days: dict[str, tuple[date, date]] = {}
        for loc in chosen:
            if params.get("mode") == "range":
                days[loc.id] = (
                    date.fromisoformat(params["start"]),
                    date.fromisoformat(params["end"]),
                )
            else:
                today = clocks[loc.id].today(now)
                days[loc.id] = (today, today)
        for batch in batches:
            windows = [clocks[loc.id].window(*days[loc.id]) for loc in batch]
            low = min(start for start, _ in windows)
            high = max(end for _, end in windows) - ONE_MS
            # Created first: an order closing while the job runs is still read once.
            for step in (Step.CREATED, Step.CLOSED):
                queries.append(Query(step, tuple(loc.id for loc in batch), _iso(low), _iso(high)))
        cursor = None
        if params.get("mode") != "range" and chosen:
            since_text = (request.cursor or {}).get("updated_since")
            earliest = min(clocks[loc.id].window(days[loc.id][0])[0] for loc in chosen)
            since = _parse(since_text) if since_text else earliest - LATE_ORDERS
            since = min(since, now - OVERLAP)  # never an empty (refused) time range
            for batch in batches:
                queries.append(
                    Query(Step.UPDATED, tuple(loc.id for loc in batch), _iso(since), _iso(now))
                )
            # The locations' zones let the nightly schedule plan before staff have saved any
            # location settings (schedule.py).
            cursor = {
                "updated_since": _iso(now - OVERLAP),
                "locations": {
                    loc.id: {"name": loc.name, "timezone": loc.timezone} for loc in chosen
                },
            }
        if params.get("mode") == "range":
            label = _month_label(
                date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
            )
        else:
            label = "today"
        return Plan(
            locations={
                loc.id: Days(loc.timezone, loc.cutoff, *days[loc.id], loc.currency)
                for loc in chosen
            },
            queries=tuple(queries),
            cursor=cursor,
            label=label,
            started_at=_iso(now),
        )

    def _fetch(self, client: SquareClient, at: SalesCheckpoint) -> Iterator[tuple]:
        """Stage one (its own thread): ask for page after page as fast as cursors come back;
        yields (query index, the query's start, the lazily parsed page)."""
        queries = at.plan.queries
        cursor, start_at, last_seen = at.page, at.start_at, at.last
        for index in range(at.index, len(queries)):
            query = queries[index]
            field = FIELD_BY_STEP[query.step]
            start_at = start_at or query.start_at
            while True:
                body = {
                    "filter": {
                        "state_filter": {"states": STATES_BY_STEP[query.step]},
                        "date_time_filter": {field: {"start_at": start_at, "end_at": query.end_at}},
                    },
                    "sort": {"sort_field": field.upper(), "sort_order": "ASC"},
                }
                try:
                    page = client.search_orders_lazily(
                        location_ids=list(query.location_ids), query=body, cursor=cursor
                    )
                except ApiError as exc:
                    if exc.code != "INVALID_CURSOR" or not cursor:
                        raise
                    # The page cursor expired: ask again from the last order time the
                    # checkpoint saw, else from the query's own start (re-reading orders is
                    # harmless: every write is an idempotent upsert).
                    cursor, start_at, last_seen = None, last_seen or start_at, None
                    continue
                yield index, start_at, page
                cursor = page.cursor
                if not cursor:
                    break
            cursor = start_at = last_seen = None

    def _pages(self, at: SalesCheckpoint, fetched: Iterator[tuple]) -> Iterator[Page]:
        """Stage two (its own thread): parse, keep each location's own business days, and
        say where a resumed job starts."""
        plan = at.plan
        clocks = {
            loc_id: (BusinessClock(days.timezone, days.cutoff), days.first, days.last)
            for loc_id, days in plan.locations.items()
        }
        done, current, last_seen = at.orders, at.index, at.last
        if not plan.queries:
            yield self._page([], SalesCheckpoint(plan=plan, orders=done))
            return
        try:
            for index, start_at, page in fetched:
                if index != current:
                    current, last_seen = index, None
                step = plan.queries[index].step
                field = FIELD_BY_STEP[step]
                records = []
                latest = None
                for order in page.parse().orders:
                    record = self._keep(order, step, clocks)
                    if record is not None:
                        records.append(record)
                    moment = getattr(order, field)
                    if moment is not None and (latest is None or moment > latest):
                        latest = moment
                if latest is not None:
                    last_seen = max(last_seen or "", _iso(latest))
                done += len(records)
                if page.cursor:
                    position = SalesCheckpoint(
                        plan=plan,
                        orders=done,
                        index=index,
                        page=page.cursor,
                        start_at=start_at,
                        last=last_seen,
                    )
                else:
                    position = SalesCheckpoint(plan=plan, orders=done, index=index + 1)
                yield self._page(records, position)
        finally:
            close = getattr(fetched, "close", None)
            if close is not None:
                close()

    @staticmethod
    def _keep(order: schemas.Order, step: Step, clocks: dict) -> OrderRecord | None:
        """The order's record if it belongs to this step's business days, else None."""
        found = clocks.get(order.location_id)
        if found is None:
            return None
        clock, first, last = found
        business_date = clock.date_of(attribution_time(order))
        if step is Step.UPDATED:
            # Today's own orders were read by the steps before: only earlier days' late ones.
            if business_date >= first:
                return None
        elif not first <= business_date <= last:
            return None  # another location's window, or the neighbouring chunk's day
        elif order.state not in STATES_BY_STEP[step]:
            return None
        return order_record(order, business_date)

    @staticmethod
    def _page(records: list, at: SalesCheckpoint) -> Page:
        plan, done = at.plan, at.orders
        queries = plan.queries
        finished = at.index >= len(queries)
        if finished:
            fraction = 1.0
            # After the last orders: the ledger stamps the whole days read, empty ones too.
            records = [*records, *ledger.days_read(plan)]
        else:
            weights = [WEIGHT_BY_STEP[query.step] for query in queries]
            done_weight = sum(weights[: at.index])
            if at.page and at.last:  # within a query: as far as its orders' times have come
                query = queries[at.index]
                low, high = _parse(query.start_at), _parse(query.end_at)
                if high > low:
                    within = min(1.0, max(0.0, (_parse(at.last) - low) / (high - low)))
                    done_weight += within * weights[at.index]
            fraction = done_weight / sum(weights)
        total = done if finished else (round(done / fraction) if fraction > 0 and done else None)
        message = f"{done:,} orders · {plan.label}" if plan.label else f"{done:,} orders"
        return Page(
            records=records,
            checkpoint=at,
            progress=Progress(
                done=done, total=total, unit="orders", message=message, fraction=fraction
            ),
            cursor=plan.cursor,
        )
