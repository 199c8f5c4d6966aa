"""ListPayments (README §8), derived from the completed orders' tenders.

A payment is captured when its order completes, so payments walk the same timeline as orders
sorted by `closed_at`. Filters other than time, location and order are not emulated (ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from . import cursor as cursors
from .catalog import money
from .errors import bad_request
from .merchants import Merchant
from .orders import OrderGenerator
from .timefmt import parse_rfc3339_us
from .timeline import Key, Overlay, Window, resolve, walk

MAX_LIMIT = 100  # README §3: default = max = 100; larger values are ignored
YEAR_MS = 365 * 86_400_000
SORT_FIELDS = ("CREATED_AT", "UPDATED_AT", "OFFLINE_CREATED_AT")


@dataclass(frozen=True)
class PaymentsPlan:
    location: object
    begin_ms: int | None
    end_ms: int | None
    desc: bool
    limit: int
    fingerprint: str


def _bound(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_rfc3339_us(value) // 1000
    except ValueError:
        raise bad_request("INVALID_TIME", f"Invalid RFC 3339 timestamp {value!r}.", name) from None


def plan_payments(params: dict[str, str], merchant: Merchant) -> PaymentsPlan:
    location_id = params.get("location_id")
    if location_id is None:
        location = merchant.main_location  # README §8: defaults to the main location only
    else:
        matches = [loc for loc in merchant.locations if loc.id == location_id]
        if not matches:
            raise bad_request("NOT_FOUND", f"Location `{location_id}` not found.", "location_id")
        location = matches[0]
    sort_order = params.get("sort_order", "DESC")
    if sort_order not in ("ASC", "DESC"):
        raise bad_request("INVALID_SORT_ORDER", "Sort order must be `ASC` or `DESC`.", "sort_order")
    sort_field = params.get("sort_field", "CREATED_AT")
    if sort_field not in SORT_FIELDS:
        raise bad_request(
            "INVALID_ENUM_VALUE", f"`{sort_field}` is not a valid sort field.", "sort_field"
        )
    limit = MAX_LIMIT
    if params.get("limit") is not None:
        try:
            limit = int(params["limit"])
        except ValueError:
            raise bad_request("EXPECTED_INTEGER", "Expected an integer.", "limit") from None
        if limit < 1:
            raise bad_request("VALUE_TOO_LOW", "`limit` must be at least 1.", "limit")
        if limit > MAX_LIMIT:
            limit = MAX_LIMIT
    begin = _bound(params.get("begin_time"), "begin_time")
    end = _bound(params.get("end_time"), "end_time")
    fingerprint = cursors.fingerprint(
        merchant.id, location.id, params.get("begin_time"), params.get("end_time"), sort_order
    )
    return PaymentsPlan(location, begin, end, sort_order == "DESC", limit, fingerprint)


def payment_from_order(order: dict, business_name: str) -> dict:
    """The Payment behind a completed order's tender."""
    tender = order["tenders"][0]
    total = tender["amount_money"]["amount"]
    tip = tender["tip_money"]["amount"]
    at = tender["created_at"]
    payment: dict = {
        "id": tender["payment_id"],
        "created_at": at,
        "updated_at": at,
        "amount_money": money(total - tip),  # spec Payment.amount_money: without the tip
        "tip_money": money(tip),
        "total_money": money(total),
        "approved_money": money(total - tip),
        "status": "COMPLETED",
        "source_type": tender["type"],
        "location_id": order["location_id"],
        "order_id": order["id"],
        "receipt_number": tender["payment_id"][:4],
        "receipt_url": f"https://squareup.com/receipt/preview/{tender['payment_id']}",
        "application_details": {"square_product": "SQUARE_POS"},
        "version_token": tender["payment_id"][-12:] + "6o",
    }
    if tender["type"] == "CARD":
        card = dict(tender["card_details"]["card"])
        card.update({"exp_month": 11, "exp_year": 2029, "card_type": "CREDIT"})
        payment["card_details"] = {
            "status": "CAPTURED",
            "card": card,
            "entry_method": tender["card_details"]["entry_method"],
            "cvv_status": "CVV_NOT_CHECKED",
            "avs_status": "AVS_NOT_CHECKED",
            "statement_description": "SQ *" + business_name.upper()[:18],
        }
        fee = (total * 26 + 500) // 1000 + 10  # 2.6 % + 10¢, Square's in-person rate
        payment["processing_fee"] = [
            {"effective_at": at, "type": "INITIAL", "amount_money": money(fee)}
        ]
    else:
        cash = tender["cash_details"]
        payment["cash_details"] = {
            "buyer_supplied_money": cash["buyer_tendered_money"],
            "change_back_money": cash["change_back_money"],
        }
    return payment


def payments_page(
    gen: OrderGenerator,
    overlay: Overlay,
    plan: PaymentsPlan,
    merchant: Merchant,
    cursor: str | None,
    now_ms: int,
) -> dict:
    after: Key | None = None
    first_request_ms = now_ms
    if cursor is not None:
        position = cursors.decode(cursor, plan.fingerprint)
        try:
            after = (int(position["k"][0]), int(position["k"][1]), int(position["k"][2]))
            first_request_ms = int(position["n"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise bad_request("INVALID_CURSOR", "The cursor is invalid.", "cursor") from None
    begin = plan.begin_ms if plan.begin_ms is not None else first_request_ms - YEAR_MS
    end = plan.end_ms if plan.end_ms is not None else first_request_ms
    # begin_time is inclusive (spec); end_time is not said to be, so the range is half-open.
    window = Window("closed_at", begin, end - 1, frozenset({"COMPLETED"}), plan.desc)
    walker = walk(gen, [plan.location], window, after, first_request_ms, overlay)
    keys = list(islice(walker, plan.limit + 1))
    more = len(keys) > plan.limit
    keys = keys[: plan.limit]
    body: dict = {}
    if keys:
        orders = [resolve(gen, overlay, key, first_request_ms) for key in keys]
        body["payments"] = [
            payment_from_order(order, merchant.business_name)
            for order in orders
            if order.get("tenders")
        ]
    if more:
        body["cursor"] = cursors.encode(
            {"k": list(keys[-1]), "n": first_request_ms}, plan.fingerprint
        )
    return body
