"""Webhook subscriptions (Square's Webhook Subscriptions API) and the signature (README §10).

Square keeps subscriptions per application, not per seller; so does the sandbox, per OAuth
client id. The API is called with the application's personal access token, never a seller's
OAuth token (https://developer.squareup.com/docs/webhooks/webhook-subscriptions-api); the
sandbox's app has no such token, so its client secret stands in for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass, replace
from urllib.parse import urlsplit

from . import cursor as cursors
from .errors import SquareError, bad_request
from .events import EVENT_TYPES
from .timefmt import iso_ms

MAX_NAME = 64  # WebhookSubscription.name: "Max Length: 64"
MAX_PAGE = 100  # ListWebhookSubscriptions: "The default value of 100 is also the maximum"
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Square wants an HTTPS notification URL ("use the HTTPS protocol"); like its OAuth redirect
# rule for the Sandbox (README §4.1), plain http is let through to this machine only.
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def sign(signature_key: str, notification_url: str, body: bytes) -> str:
    """README §10: base64(HMAC-SHA256(key=utf8(key), msg=utf8(notification_url + raw body)))."""
    digest = hmac.new(signature_key.encode(), notification_url.encode() + body, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def new_signature_key() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, like the reference's "Ibxx_5AKakO-3qeNVR61Dw"


@dataclass(frozen=True)
class Subscription:
    id: str
    client_id: str
    name: str
    enabled: bool
    event_types: tuple[str, ...]
    notification_url: str
    api_version: str
    signature_key: str
    created_ms: int
    updated_ms: int

    def body(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "enabled": self.enabled,
            "event_types": list(self.event_types),
            "notification_url": self.notification_url,
            "api_version": self.api_version,
            "signature_key": self.signature_key,
            "created_at": iso_ms(self.created_ms),
            "updated_at": iso_ms(self.updated_ms),
        }


def _not_found(subscription_id: str) -> SquareError:
    return SquareError(
        404, "NOT_FOUND", f"Subscription `{subscription_id}` not found.", "subscription_id"
    )


def _fields(spec: dict) -> dict:
    """The editable fields of a WebhookSubscription body, checked; only those present."""
    clean: dict = {}
    where = "subscription"
    if "name" in spec:
        name = spec["name"]
        if not isinstance(name, str):
            raise bad_request("EXPECTED_STRING", "Expected a string.", f"{where}.name")
        if len(name) > MAX_NAME:
            raise bad_request(
                "INVALID_VALUE", f"`name` must be at most {MAX_NAME} characters.", f"{where}.name"
            )
        clean["name"] = name
    if "enabled" in spec:
        if not isinstance(spec["enabled"], bool):
            raise bad_request("EXPECTED_BOOLEAN", "Expected a boolean.", f"{where}.enabled")
        clean["enabled"] = spec["enabled"]
    if "event_types" in spec:
        kinds = spec["event_types"]
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise bad_request(
                "EXPECTED_ARRAY", "Expected an array of strings.", f"{where}.event_types"
            )
        if not kinds:
            raise bad_request(
                "ARRAY_LENGTH_TOO_SHORT",
                "At least one event type is required.",
                f"{where}.event_types",
            )
        unknown = [k for k in kinds if k not in EVENT_TYPES]
        if unknown:
            raise bad_request(
                "INVALID_VALUE",
                f"`{unknown[0]}` is not an event type the sandbox knows "
                f"(one of {', '.join(sorted(EVENT_TYPES))}).",
                f"{where}.event_types",
            )
        clean["event_types"] = tuple(dict.fromkeys(kinds))
    if "notification_url" in spec:
        url = spec["notification_url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        secure = parts is not None and parts.scheme == "https" and bool(parts.hostname)
        local = parts is not None and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if not (secure or local):
            raise bad_request(
                "INVALID_VALUE",
                "`notification_url` must be an HTTPS URL (the sandbox also takes http to "
                "localhost).",
                f"{where}.notification_url",
            )
        clean["notification_url"] = url
    if "api_version" in spec:
        version = spec["api_version"]
        if not isinstance(version, str) or not _VERSION.match(version):
            raise bad_request(
                "INVALID_VALUE", "`api_version` must look like 2025-08-20.", f"{where}.api_version"
            )
        clean["api_version"] = version
    return clean


class Subscriptions:
    """Every app's webhook subscriptions. Callers hold the half's lock."""

    def __init__(self) -> None:
        self.by_id: dict[str, Subscription] = {}
        # (client id, operation, idempotency key) -> what that request answered
        self._replies: dict[tuple[str, str, str], str] = {}

    def _idempotent(self, client_id: str, operation: str, key: object) -> str | None:
        if key is None:
            return None
        if not isinstance(key, str) or not key:
            raise bad_request("INVALID_VALUE", "Expected a non-empty string.", "idempotency_key")
        return self._replies.get((client_id, operation, key))

    def create(
        self,
        client_id: str,
        body: dict,
        default_version: str,
        now_ms: int,
        signature_key: str | None = None,
    ) -> Subscription:
        """CreateWebhookSubscription; `signature_key` lets the control API choose the key."""
        key = body.get("idempotency_key")
        earlier = self._idempotent(client_id, "create", key)
        if earlier is not None and earlier in self.by_id:
            return self.by_id[earlier]
        spec = body.get("subscription")
        if not isinstance(spec, dict):
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER", "Field must be set: `subscription`.", "subscription"
            )
        fields = _fields(spec)
        for required in ("event_types", "notification_url"):
            if required not in fields:
                raise bad_request(
                    "MISSING_REQUIRED_PARAMETER",
                    f"Field must be set: `{required}`.",
                    f"subscription.{required}",
                )
        subscription = Subscription(
            id="wbhk_" + secrets.token_hex(16),
            client_id=client_id,
            name=fields.get("name", ""),
            enabled=fields.get("enabled", True),
            event_types=fields["event_types"],
            notification_url=fields["notification_url"],
            # WebhookSubscription.api_version: "defaults to the API version used by the app".
            api_version=fields.get("api_version", default_version),
            signature_key=signature_key or new_signature_key(),
            created_ms=now_ms,
            updated_ms=now_ms,
        )
        self.by_id[subscription.id] = subscription
        if key is not None:
            self._replies[(client_id, "create", key)] = subscription.id
        return subscription

    def get(self, client_id: str, subscription_id: str) -> Subscription:
        found = self.by_id.get(subscription_id)
        if found is None or found.client_id != client_id:  # another app's: not even its id
            raise _not_found(subscription_id)
        return found

    def update(self, client_id: str, subscription_id: str, body: dict, now_ms: int) -> Subscription:
        current = self.get(client_id, subscription_id)
        spec = body.get("subscription") or {}
        if not isinstance(spec, dict):
            raise bad_request("EXPECTED_OBJECT", "Expected `subscription` to be an object.")
        updated = replace(current, **_fields(spec), updated_ms=now_ms)
        self.by_id[subscription_id] = updated
        return updated

    def delete(self, client_id: str, subscription_id: str) -> None:
        self.get(client_id, subscription_id)
        del self.by_id[subscription_id]

    def rotate(self, client_id: str, subscription_id: str, body: dict, now_ms: int) -> str:
        """UpdateWebhookSubscriptionSignatureKey: a new key; the old one stops signing at once."""
        current = self.get(client_id, subscription_id)
        key = body.get("idempotency_key")
        if self._idempotent(client_id, f"rotate:{subscription_id}", key) is not None:
            return current.signature_key
        rotated = replace(current, signature_key=new_signature_key(), updated_ms=now_ms)
        self.by_id[subscription_id] = rotated
        if key is not None:
            self._replies[(client_id, f"rotate:{subscription_id}", key)] = rotated.signature_key
        return rotated.signature_key

    def page(self, client_id: str, params: dict[str, str]) -> dict:
        """ListWebhookSubscriptions: enabled ones unless include_disabled, by creation time."""
        include_disabled = params.get("include_disabled", "false").lower() == "true"
        order = params.get("sort_order", "ASC")
        if order not in ("ASC", "DESC"):
            raise bad_request(
                "INVALID_SORT_ORDER", "Sort order must be `ASC` or `DESC`.", "sort_order"
            )
        limit = MAX_PAGE
        if params.get("limit") is not None:
            try:
                limit = int(params["limit"])
            except ValueError:
                raise bad_request("EXPECTED_INTEGER", "Expected an integer.", "limit") from None
            if limit < 1:
                raise bad_request("VALUE_TOO_LOW", "`limit` must be at least 1.", "limit")
            limit = min(limit, MAX_PAGE)
        fingerprint = cursors.fingerprint(client_id, include_disabled, order)
        offset = 0
        if params.get("cursor") is not None:
            offset = cursors.decode(params["cursor"], fingerprint).get("o")
            if not isinstance(offset, int) or offset < 0:
                raise bad_request("INVALID_CURSOR", "The cursor is invalid.", "cursor")
        mine = [
            s
            for s in self.by_id.values()
            if s.client_id == client_id and (s.enabled or include_disabled)
        ]
        mine.sort(key=lambda s: (s.created_ms, s.id), reverse=order == "DESC")
        answer: dict = {}
        chosen = mine[offset : offset + limit]
        if chosen:
            answer["subscriptions"] = [s.body() for s in chosen]
        if offset + limit < len(mine):
            answer["cursor"] = cursors.encode({"o": offset + limit}, fingerprint)
        return answer

    def saved(self) -> dict:
        """For durable.py: every subscription, and the idempotency keys' answers."""
        return {
            "by_id": [asdict(s) for s in self.by_id.values()],
            "replies": [[*key, value] for key, value in self._replies.items()],
        }

    def apply_saved(self, saved: dict) -> None:
        self.by_id = {
            s["id"]: Subscription(**{**s, "event_types": tuple(s["event_types"])})
            for s in saved["by_id"]
        }
        self._replies = {
            (client_id, operation, key): value
            for client_id, operation, key, value in saved["replies"]
        }

    def matching(self, client_id: str, kind: str) -> list[Subscription]:
        return [
            s
            for s in self.by_id.values()
            if s.client_id == client_id and s.enabled and kind in s.event_types
        ]

    def target(self, subscription_id: str) -> tuple[str, str] | None:
        """Where a delivery goes now, and the key that signs it; None once disabled or deleted."""
        found = self.by_id.get(subscription_id)
        if found is None or not found.enabled:
            return None
        return found.notification_url, found.signature_key
