"""Square's events (README §10): the envelope, recorded once per app, searchable for 28 days.

An event is serialised once, when it happens. The Events API answers those bytes and every
webhook delivery sends (and signs) them, so a client comparing the two sees the same event.

Which events an app may see follows Square's Events API overview
(https://developer.squareup.com/docs/events-api/overview): "Your application must have OAuth
access to an event at the time it occurs", with the scope named by the event's `x-webhook`
entry in the spec. An event of a merchant that never authorised the app is not recorded at all.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import orjson

from . import cursor as cursors
from .errors import bad_request
from .search import expect_object, time_bound
from .timefmt import iso_ms

RETENTION_MS = 28 * 86_400_000  # SearchEvents: "events that occur within a 28-day timeframe"
MAX_LIMIT = 100  # SearchEvents: "The default value is 100, which is also the maximum"

# Event type -> the scope an app needs to see it (spec `x-webhook.scopes`; the location events'
# scope from Square's webhook events reference). Revocation needs none: it ends the access.
SCOPES: dict[str, str | None] = {
    "order.created": "ORDERS_READ",
    "order.updated": "ORDERS_READ",
    "order.fulfillment.updated": "ORDERS_READ",
    "payment.created": "PAYMENTS_READ",
    "payment.updated": "PAYMENTS_READ",
    "catalog.version.updated": "ITEMS_READ",
    "location.created": "MERCHANT_PROFILE_READ",
    "location.updated": "MERCHANT_PROFILE_READ",
    "oauth.authorization.revoked": None,
}
# What a subscription may name. The sandbox's orders have no fulfillments, so it never
# publishes order.fulfillment.updated; subscribing to it is still valid, as it is in Square.
EVENT_TYPES = frozenset(SCOPES)
SORT_ORDERS = ("ASC", "DESC")


# --- the envelope (spec `x-webhook-events` schemas and their examples) ------------------------


def envelope(
    merchant_id: str,
    kind: str,
    event_id: str,
    created_ms: int,
    data: dict,
    location_id: str | None = None,
) -> dict:
    body: dict = {"merchant_id": merchant_id}
    if location_id is not None:  # only location events carry it (SDK LocationCreatedEvent)
        body["location_id"] = location_id
    body.update(type=kind, event_id=event_id, created_at=iso_ms(created_ms), data=data)
    return body


def order_data(kind: str, order: dict) -> dict:
    """`kind` "created" or "updated": spec OrderCreated has no updated_at, OrderUpdated has."""
    summary = {
        "order_id": order["id"],
        "version": order["version"],
        "location_id": order["location_id"],
        "state": order["state"],
        "created_at": order["created_at"],
    }
    if kind == "updated":
        summary["updated_at"] = order["updated_at"]
    return {"type": f"order_{kind}", "id": order["id"], "object": {f"order_{kind}": summary}}


def payment_data(payment: dict) -> dict:
    return {"type": "payment", "id": payment["id"], "object": {"payment": payment}}


def approved(payment: dict) -> dict:
    """A card payment as payment.created shows it: authorised, not yet captured (spec
    PaymentCreatedEvent example: status APPROVED, card_details.status AUTHORIZED)."""
    early = {k: v for k, v in payment.items() if k != "processing_fee"}
    early["status"] = "APPROVED"
    early["updated_at"] = payment["created_at"]
    early["card_details"] = {**payment["card_details"], "status": "AUTHORIZED"}
    return early


def catalog_data(updated_ms: int) -> dict:
    # The spec's example gives data an id of its own although a catalog version is no object.
    return {
        "type": "catalog_version",
        "id": str(uuid.uuid4()),
        "object": {"catalog_version": {"updated_at": iso_ms(updated_ms)}},
    }


def location_data(location_id: str) -> dict:
    return {"type": "location", "id": location_id}  # SDK LocationCreatedEventData: no object


def revocation_data(revoked_ms: int, revoker_type: str) -> dict:
    return {
        "type": "revocation",
        "id": str(uuid.uuid4()),  # spec: "Not applicable"; its example still sends a uuid
        "object": {"revocation": {"revoked_at": iso_ms(revoked_ms), "revoker_type": revoker_type}},
    }


# --- the log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    seq: int  # total order of recording; created_ms never decreases along it
    client_id: str  # the app that may see it
    merchant_id: str
    location_id: str | None  # for SearchEvents' location filter; in the body of location events
    type: str
    event_id: str
    created_ms: int
    body: bytes
    # Kept across a restart (durable.py). The payments the live clock publishes for seeded
    # orders are not: like the orders, they follow from the seed.
    durable: bool = True


class EventLog:
    """Every app's events in the order they happened. Callers hold the half's lock."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.last_ms = 0
        self.last_seq = 0  # never reused, even once pruned: cursors hold sequence numbers

    def record(
        self,
        client_id: str,
        merchant_id: str,
        kind: str,
        data: dict,
        now_ms: int,
        location_id: str | None = None,
        durable: bool = True,
    ) -> Event:
        created = max(now_ms, self.last_ms)  # a clock step back must not reorder the log
        self.last_ms = created
        event_id = str(uuid.uuid4())
        in_body = location_id if kind.startswith("location.") else None
        body = orjson.dumps(envelope(merchant_id, kind, event_id, created, data, in_body))
        self.last_seq += 1
        event = Event(
            self.last_seq,
            client_id,
            merchant_id,
            location_id,
            kind,
            event_id,
            created,
            body,
            durable,
        )
        self.events.append(event)
        return event

    def prune(self, now_ms: int) -> None:
        cut = bisect_left(self.events, now_ms - RETENTION_MS, key=lambda e: e.created_ms)
        del self.events[:cut]


# --- SearchEvents (POST /v2/events) ------------------------------------------------------------


@dataclass(frozen=True)
class EventQuery:
    client_id: str
    types: frozenset[str] | None
    merchant_ids: frozenset[str] | None
    location_ids: frozenset[str] | None
    start_ms: int | None  # inclusive
    end_ms: int | None  # inclusive
    desc: bool
    limit: int
    fingerprint: str

    def matches(self, event: Event) -> bool:
        return (
            event.client_id == self.client_id
            and (self.types is None or event.type in self.types)
            and (self.merchant_ids is None or event.merchant_id in self.merchant_ids)
            and (self.location_ids is None or event.location_id in self.location_ids)
        )


def _known_keys(value: dict, known: tuple[str, ...], where: str) -> None:
    # Refused rather than ignored: a misspelt sort or filter would silently change the answer.
    for key in value:
        if key not in known:
            raise bad_request("BAD_REQUEST", f"Unknown field `{where}.{key}`.", f"{where}.{key}")


def _strings(value: object, field: str) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("EXPECTED_ARRAY", "Expected an array of strings.", field)
    return frozenset(value)


def plan_events(body: dict, client_id: str) -> EventQuery:
    """Validate a SearchEvents body (SDK SearchEventsQuery / SearchEventsFilter / Sort)."""
    query = expect_object(body.get("query"), "query")
    _known_keys(query, ("filter", "sort"), "query")
    filters = expect_object(query.get("filter"), "query.filter")
    _known_keys(
        filters, ("event_types", "merchant_ids", "location_ids", "created_at"), "query.filter"
    )
    start = end = None
    created = expect_object(filters.get("created_at"), "query.filter.created_at")
    if created.get("start_at") is not None:
        start = time_bound(created["start_at"], "query.filter.created_at.start_at", round_up=True)
    if created.get("end_at") is not None:
        end = time_bound(created["end_at"], "query.filter.created_at.end_at", round_up=False)
    if start is not None and end is not None and start > end:
        raise bad_request(
            "INVALID_TIME_RANGE",
            "The start of the time range is after its end.",
            "query.filter.created_at",
        )
    sort = expect_object(query.get("sort"), "query.sort")
    _known_keys(sort, ("field", "order"), "query.sort")
    if sort.get("field", "DEFAULT") != "DEFAULT":
        raise bad_request(
            "INVALID_ENUM_VALUE",
            f"`{sort['field']}` is not a valid value for SearchEventsSortField.",
            "query.sort.field",
        )
    # UNCONFIRMED: the docs name no default order; newest first, like SearchOrders.
    order = sort.get("order") or "DESC"
    if order not in SORT_ORDERS:
        raise bad_request(
            "INVALID_SORT_ORDER", "Sort order must be `ASC` or `DESC`.", "query.sort.order"
        )
    limit = body.get("limit")
    if limit is None:
        limit = MAX_LIMIT
    elif isinstance(limit, bool) or not isinstance(limit, int):
        raise bad_request("EXPECTED_INTEGER", "Expected `limit` to be an integer.", "limit")
    elif limit < 1:
        raise bad_request("VALUE_TOO_LOW", "`limit` must be at least 1.", "limit")
    return EventQuery(
        client_id=client_id,
        types=_strings(filters.get("event_types"), "query.filter.event_types"),
        merchant_ids=_strings(filters.get("merchant_ids"), "query.filter.merchant_ids"),
        location_ids=_strings(filters.get("location_ids"), "query.filter.location_ids"),
        start_ms=start,
        end_ms=end,
        desc=order == "DESC",
        limit=min(limit, MAX_LIMIT),  # above the maximum: capped (UNCONFIRMED), as SearchOrders
        fingerprint=cursors.fingerprint(client_id, query),
    )


def events_page(
    log: EventLog, plan: EventQuery, cursor: object, now_ms: int, api_version: str
) -> dict:
    """One SearchEvents response body; the events come as the bytes recorded."""
    events = log.events
    lo = bisect_left(events, max(plan.start_ms or 0, now_ms - RETENTION_MS), key=_created)
    hi = len(events) if plan.end_ms is None else bisect_right(events, plan.end_ms, key=_created)
    window = events[lo:hi]
    if cursor is not None:
        after = cursors.decode(cursor, plan.fingerprint).get("s")
        if not isinstance(after, int):
            raise bad_request("INVALID_CURSOR", "The cursor is invalid.", "cursor")
        if plan.desc:
            window = window[: bisect_left(window, after, key=_seq)]
        else:
            window = window[bisect_right(window, after, key=_seq) :]
    ordered = reversed(window) if plan.desc else iter(window)
    page: list[Event] = []
    more = False
    for event in ordered:
        if not plan.matches(event):
            continue
        if len(page) == plan.limit:
            more = True
            break
        page.append(event)
    answer: dict = {}
    if page:
        answer["events"] = [orjson.Fragment(e.body) for e in page]
        # EventMetadata.api_version: the app's default version when the event was created.
        answer["metadata"] = [{"event_id": e.event_id, "api_version": api_version} for e in page]
    if more:
        answer["cursor"] = cursors.encode({"s": page[-1].seq}, plan.fingerprint)
    return answer


def _created(event: Event) -> int:
    return event.created_ms


def _seq(event: Event) -> int:
    return event.seq
