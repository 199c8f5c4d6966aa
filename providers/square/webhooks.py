"""Square's webhook notifications: the signature, the envelope, and the work each event asks for.

The signature (reference README §10) is base64 of HMAC-SHA256, keyed with the subscription's
signature key as its literal string, over the notification URL exactly as registered followed
by the raw body. Payloads are hints: every event becomes a job that reads the current object
from the API (orders by id, the catalog since its cursor, the locations), so an event delivered
twice or out of order changes nothing the API would not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime

import msgspec

from providers.base import InvalidNotification, JobRequest, Notification

SIGNATURE_HEADER = "x-square-hmacsha256-signature"

ORDER_EVENTS = ("order.created", "order.updated", "order.fulfillment.updated")
# POS orders publish no order event (README §10): their payments do, naming the order.
PAYMENT_EVENTS = ("payment.created", "payment.updated")
CATALOG_EVENTS = ("catalog.version.updated",)
# data.id is the location's id and there is no data.object (SDK LocationCreatedEventData).
LOCATION_CREATED, LOCATION_UPDATED = "location.created", "location.updated"
REVOKED = "oauth.authorization.revoked"


def signature(key: str, url: str, body: bytes) -> str:
    digest = hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_valid(header: str, body: bytes, *, url: str, keys: Iterable[str]) -> bool:
    """Whether `header` signs `body` for `url` with any of `keys` (two during a rotation).
    Every key is compared, in constant time, so the answer's timing says nothing."""
    if not header:
        return False
    matches = [hmac.compare_digest(signature(key, url, body), header) for key in keys if key]
    return any(matches)


class _Data(msgspec.Struct, frozen=True):
    type: str = ""
    id: str = ""
    object: dict = {}


class _Envelope(msgspec.Struct, frozen=True):
    merchant_id: str
    type: str
    event_id: str
    created_at: datetime | None = None
    data: _Data = _Data()


def read(body: bytes) -> Notification:
    try:
        event = msgspec.json.decode(body, type=_Envelope)
    except msgspec.DecodeError as exc:
        raise InvalidNotification(f"not a Square event: {exc}") from None
    if not (event.merchant_id and event.event_id and event.type):
        raise InvalidNotification("a Square event names its merchant, id and type")
    return Notification(
        event_id=event.event_id,
        account_id=event.merchant_id,
        type=event.type,
        occurred_at=event.created_at,
        requests=tuple(_requests(event)),
        revoked=event.type == REVOKED,
    )


def _requests(event: _Envelope) -> list[JobRequest]:
    if event.type in ORDER_EVENTS:
        return _orders(event.data.id or _nested(event.data.object, "order_id"))
    if event.type in PAYMENT_EVENTS:
        payment = event.data.object.get("payment") or {}
        return _orders(payment.get("order_id", "") if isinstance(payment, Mapping) else "")
    if event.type in CATALOG_EVENTS:
        return [JobRequest("catalog", {}, "Catalog changed in Square")]
    if event.type == LOCATION_CREATED:
        # Named, so the refresh holds it out of sales even on a connection's first look.
        created = [event.data.id] if event.data.id else []
        return [JobRequest("locations", {"created": created}, "Location added in Square")]
    if event.type == LOCATION_UPDATED:
        return [JobRequest("locations", {}, "Location changed in Square")]
    return []


def _orders(order_id: str) -> list[JobRequest]:
    if not order_id:
        return []
    return [JobRequest("orders", {"order_ids": [order_id]}, "1 order changed")]


def _nested(obj: Mapping, key: str) -> str:
    """`order_id` inside data.object's one member (order_created, order_updated, ...)."""
    for value in obj.values():
        if isinstance(value, Mapping) and isinstance(value.get(key), str):
            return value[key]
    return ""
