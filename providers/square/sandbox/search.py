"""SearchOrders (README §7): validate the request like Square does, then page with a cursor.

Error codes for the rules Square documents but does not name (sort/filter mismatch, CLOSED_AT
with open states) are UNCONFIRMED (README §11.2); we answer 400 INVALID_REQUEST_ERROR with
INVALID_VALUE and a `field` pointing at the offending part of the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from . import cursor as cursors
from .errors import SquareError, bad_request
from .merchants import Merchant
from .orders import OrderGenerator
from .rendered import RenderedOrders
from .timefmt import parse_rfc3339_us
from .timeline import Key, Overlay, Window, entry, resolve, walk

MAX_LOCATIONS = 10  # README §7
DEFAULT_LIMIT = 500  # README §3
MAX_LIMIT = 1000
STATES = frozenset({"OPEN", "COMPLETED", "CANCELED", "DRAFT"})
SORT_FIELDS = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "CLOSED_AT": "closed_at"}
CLOSED_STATES = frozenset({"COMPLETED", "CANCELED"})


@dataclass(frozen=True)
class SearchPlan:
    locations: list
    window: Window
    limit: int
    return_entries: bool
    fingerprint: str
    end_defaulted: bool  # no end_at given: it becomes the time of the first request


def time_bound(value: object, field: str, *, round_up: bool) -> int:
    """An RFC 3339 bound in ms; start bounds round up so a bound is never widened."""
    try:
        micros = parse_rfc3339_us(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise bad_request("INVALID_TIME", f"Invalid RFC 3339 timestamp {value!r}.", field) from None
    return -(-micros // 1000) if round_up else micros // 1000


def expect_object(value: object, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("EXPECTED_OBJECT", f"Expected `{field}` to be an object.", field)
    return value


def required_strings(body: dict, field: str) -> list[str]:
    """A required array of strings (location ids, order ids), refused as Square refuses it."""
    value = body.get(field)
    if value is None:
        raise bad_request("MISSING_REQUIRED_PARAMETER", f"Field must be set: `{field}`.", field)
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise bad_request("EXPECTED_ARRAY", "Expected an array of strings.", field)
    return value


def plan_search(body: dict, merchant: Merchant) -> SearchPlan:
    location_ids = required_strings(body, "location_ids")
    if not location_ids:
        raise bad_request(
            "ARRAY_LENGTH_TOO_SHORT",
            "At least one location ID is required: `location_ids` has 0 elements.",
            "location_ids",
        )
    if len(location_ids) > MAX_LOCATIONS:
        raise bad_request(
            "ARRAY_LENGTH_TOO_LONG",
            f"`location_ids` must have at most {MAX_LOCATIONS} elements, "
            f"but it has {len(location_ids)}.",
            "location_ids",
        )
    by_id = {loc.id: loc for loc in merchant.locations}
    unknown = [i for i in location_ids if i not in by_id]
    if unknown:
        # README §7: all locations must belong to the merchant behind the token; another
        # merchant's location is an authorization failure (status UNCONFIRMED, README §11.2).
        raise SquareError(
            403,
            "FORBIDDEN",
            f"Location `{unknown[0]}` does not belong to this merchant.",
            "location_ids",
        )
    locations = [by_id[i] for i in dict.fromkeys(location_ids)]

    query = expect_object(body.get("query"), "query")
    filters = expect_object(query.get("filter"), "query.filter")
    for unsupported in ("fulfillment_filter", "source_filter", "customer_filter"):
        if filters.get(unsupported):
            raise bad_request(
                "BAD_REQUEST",
                f"The sandbox does not emulate `{unsupported}`.",
                f"query.filter.{unsupported}",
            )

    states = None
    if filters.get("state_filter") is not None:
        state_filter = expect_object(filters["state_filter"], "query.filter.state_filter")
        wanted = state_filter.get("states")
        if not isinstance(wanted, list) or not wanted:
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER",
                "Field must be set: `states`.",
                "query.filter.state_filter.states",
            )
        for state in wanted:
            if state not in STATES:
                raise bad_request(
                    "INVALID_ENUM_VALUE",
                    f"`{state}` is not a valid value for OrderState.",
                    "query.filter.state_filter.states",
                )
        states = frozenset(wanted)

    date_field = None
    lo = hi = None
    end_defaulted = False
    dates = expect_object(filters.get("date_time_filter"), "query.filter.date_time_filter")
    given = [f for f in ("created_at", "updated_at", "closed_at") if dates.get(f) is not None]
    if len(given) > 1:
        raise bad_request(
            "INVALID_VALUE",
            "Only one of `created_at`, `updated_at` or `closed_at` may be set in a "
            "date_time_filter.",
            "query.filter.date_time_filter",
        )
    if given:
        date_field = given[0]
        where = f"query.filter.date_time_filter.{date_field}"
        time_range = expect_object(dates[date_field], where)
        if time_range.get("start_at") is not None:
            lo = time_bound(time_range["start_at"], f"{where}.start_at", round_up=True)
        if time_range.get("end_at") is not None:
            hi = time_bound(time_range["end_at"], f"{where}.end_at", round_up=False)
        else:
            end_defaulted = True
        if lo is not None and hi is not None and lo > hi:
            raise bad_request(
                "INVALID_TIME_RANGE", "The start of the time range is after its end.", where
            )

    sort = expect_object(query.get("sort"), "query.sort")
    sort_field = "CREATED_AT"
    sort_order = "DESC"
    if sort:
        sort_field = sort.get("sort_field")
        if sort_field is None:
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER",
                "Field must be set: `sort_field`.",
                "query.sort.sort_field",
            )
        if sort_field not in SORT_FIELDS:
            raise bad_request(
                "INVALID_ENUM_VALUE",
                f"`{sort_field}` is not a valid value for SearchOrdersSortField.",
                "query.sort.sort_field",
            )
        sort_order = sort.get("sort_order") or "DESC"
        if sort_order not in ("ASC", "DESC"):
            raise bad_request(
                "INVALID_SORT_ORDER", "Sort order must be `ASC` or `DESC`.", "query.sort.sort_order"
            )
    field = SORT_FIELDS[sort_field]
    if date_field is not None and date_field != field:
        raise bad_request(
            "INVALID_VALUE",
            f"The sort field `{sort_field}` must match the date_time_filter field `{date_field}`.",
            "query.sort.sort_field",
        )
    if field == "closed_at" and (states is None or not states <= CLOSED_STATES):
        raise bad_request(
            "INVALID_VALUE",
            "Sorting by `CLOSED_AT` requires a state_filter with only closed states "
            "(`COMPLETED`, `CANCELED`).",
            "query.sort.sort_field",
        )

    limit = body.get("limit")
    if limit is None:
        limit = DEFAULT_LIMIT
    elif isinstance(limit, bool) or not isinstance(limit, int):
        raise bad_request("EXPECTED_INTEGER", "Expected `limit` to be an integer.", "limit")
    elif limit < 1:
        raise bad_request("VALUE_TOO_LOW", "`limit` must be at least 1.", "limit")
    limit = min(limit, MAX_LIMIT)  # README §3: max 1000; larger limits are capped (UNCONFIRMED)

    return_entries = bool(body.get("return_entries", False))
    fingerprint = cursors.fingerprint(merchant.id, location_ids, query, return_entries)
    window = Window(field=field, lo=lo, hi=hi, states=states, desc=sort_order == "DESC")
    return SearchPlan(locations, window, limit, return_entries, fingerprint, end_defaulted)


def search_page(
    gen: OrderGenerator,
    overlay: Overlay,
    plan: SearchPlan,
    cursor: object,
    now_ms: int,
    rendered: RenderedOrders | None = None,
) -> dict:
    """One SearchOrders response body (orders kept by `rendered` come as JSON fragments)."""
    after: Key | None = None
    first_request_ms = now_ms
    if cursor is not None:
        position = cursors.decode(cursor, plan.fingerprint)
        try:
            after = (int(position["k"][0]), int(position["k"][1]), int(position["k"][2]))
            first_request_ms = int(position["n"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise bad_request("INVALID_CURSOR", "The cursor is invalid.", "cursor") from None
    window = plan.window
    if plan.end_defaulted:
        # spec SearchOrdersDateTimeFilter: a missing end_at is the time of the first request.
        window = Window(window.field, window.lo, first_request_ms, window.states, window.desc)
    # The first request's time also freezes which generated orders exist and their states, so
    # a long backfill sees one consistent history.
    keys = list(
        islice(walk(gen, plan.locations, window, after, first_request_ms, overlay), plan.limit + 1)
    )
    more = len(keys) > plan.limit
    keys = keys[: plan.limit]
    body: dict = {}
    if keys:
        if plan.return_entries:
            body["order_entries"] = [entry(gen, overlay, k, first_request_ms) for k in keys]
        else:
            body["orders"] = [resolve(gen, overlay, k, first_request_ms, rendered) for k in keys]
    if more:
        body["cursor"] = cursors.encode(
            {"k": list(keys[-1]), "n": first_request_ms}, plan.fingerprint
        )
    return body
