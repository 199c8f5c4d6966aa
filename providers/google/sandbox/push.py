"""Drive push notifications (README §2.4): `changes.watch` channels, `channels.stop`, and the
notifications each change in an account's feed sends to its channels.

A channel lives until Drive's expiration (at most a week for `changes`, an hour when none is
asked for) or until the same user and OAuth client stop it; there is no renewal. Its first
message is `sync` (number 1), then one `change` per mutation of the account's feed, with
message numbers that grow but skip. The body is empty: a notification is its `X-Goog-*`
headers. Google retries 500, 502, 503 and 504 with exponential backoff and counts anything
else but a 2xx (or 102) as a failure.

Drive accepts only https addresses with a valid certificate. Loopback http addresses are the
sandbox's one allowance, so a developer's `make run` receives pushes.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from providers.sandbox.delivery import Attempt, Delivery

from .errors import DriveError, invalid_parameter, required_parameter

MAX_TTL_MS = 604_800_000  # a week, for changes (README §2.4)
DEFAULT_TTL_MS = 3_600_000  # an hour when `expiration` is omitted
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
RETRY_DELAYS_S = tuple(2**n for n in range(12))  # 1 s doubling to about 34 minutes
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class Channel:
    id: str
    resource_id: str
    resource_uri: str
    address: str
    token: str | None
    expiration_ms: int
    sub: str  # the user who opened it
    client_id: str  # with which OAuth client
    page_token: str
    opened_ms: int
    stopped: bool = False
    last_number: int = 0

    def live(self, now_ms: int) -> bool:
        return not self.stopped and now_ms < self.expiration_ms

    def body(self) -> dict:
        """The `Channel` resource changes.watch answers with."""
        found = {
            "kind": "api#channel",
            "id": self.id,
            "resourceId": self.resource_id,
            "resourceUri": self.resource_uri,
            "expiration": str(self.expiration_ms),
        }
        if self.token is not None:
            found["token"] = self.token
        return found

    def as_dict(self, now_ms: int) -> dict:
        """For the control API."""
        return {
            **self.body(),
            "address": self.address,
            "account": self.sub,
            "client_id": self.client_id,
            "stopped": self.stopped,
            "expired": now_ms >= self.expiration_ms,
            "messages": self.last_number,
        }


@dataclass(frozen=True)
class Notice:
    """One message on one channel."""

    channel_id: str
    number: int
    state: str  # sync | change


class Channels:
    """Every open channel; callers hold the half's lock."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self.by_id: dict[str, Channel] = {}
        self.rng = random.Random(self.seed)

    def watch(
        self, body: dict, *, sub: str, client_id: str, page_token: str, drive_url: str, now_ms: int
    ) -> Channel:
        channel_id = body.get("id")
        if not channel_id:
            raise required_parameter("id", "Required: id")
        if not isinstance(channel_id, str) or len(channel_id) > 64:
            raise invalid_parameter("id", detail="a channel id is a string of at most 64 chars")
        if channel_id in self.by_id:
            raise DriveError(
                400, "channelIdNotUnique", f"Channel id {channel_id} not unique", location="id"
            )
        if body.get("type") not in ("web_hook", "webhook"):
            raise invalid_parameter("type", detail='type must be "web_hook"')
        address = body.get("address")
        if not address:
            raise required_parameter("address", "Required: address")
        _check_address(address)
        token = body.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > 256):
            raise invalid_parameter("token", detail="a token is a string of at most 256 chars")
        asked = body.get("expiration")
        try:
            expiration = now_ms + DEFAULT_TTL_MS if asked in (None, "") else int(asked)
        except (TypeError, ValueError):
            raise invalid_parameter("expiration", detail="expiration is Unix time in ms") from None
        if expiration <= now_ms:
            raise invalid_parameter("expiration", detail="expiration is in the past")
        resource_id = uuid.uuid5(uuid.NAMESPACE_URL, f"changes:{sub}").hex[:27]
        channel = Channel(
            id=channel_id,
            resource_id=resource_id,
            resource_uri=f"{drive_url}/changes?alt=json&pageToken={page_token}",
            address=address,
            token=token,
            expiration_ms=min(expiration, now_ms + MAX_TTL_MS),
            sub=sub,
            client_id=client_id,
            page_token=page_token,
            opened_ms=now_ms,
        )
        self.by_id[channel_id] = channel
        return channel

    def stop(self, body: dict, *, sub: str, client_id: str) -> None:
        channel = self.by_id.get(body.get("id") or "")
        if (
            channel is None
            or channel.stopped
            or channel.resource_id != body.get("resourceId")
            or (channel.sub, channel.client_id) != (sub, client_id)
        ):
            # Only the same user and OAuth client can stop a channel (README §2.4).
            raise DriveError(404, "notFound", f"Channel '{body.get('id')}' not found for project")
        channel.stopped = True

    def notices(self, subs: set[str], now_ms: int) -> list[Notice]:
        """A `change` for each live channel of these accounts."""
        return [
            self.next_notice(channel, "change")
            for channel in self.by_id.values()
            if channel.sub in subs and channel.live(now_ms)
        ]

    def next_notice(self, channel: Channel, state: str) -> Notice:
        # Numbers grow but are not sequential (README §2.4); the first is always 1.
        step = 1 if channel.last_number == 0 else self.rng.randint(1, 3)
        channel.last_number += step
        return Notice(channel.id, channel.last_number, state)


def _check_address(address: str) -> None:
    parts = urlsplit(address)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return  # the sandbox's allowance for a developer's machine
    raise DriveError(
        400,
        "push.webhookUrlNotHttps",
        f"WebHook callback must be HTTPS: {address}",
        domain="push",
        location="address",
    )


class GoogleCourier:
    """How Drive sends a channel's notifications (for providers.sandbox.delivery)."""

    thread_name = "google-push"

    def __init__(self, channels: Channels, now_ms, lock) -> None:
        self.channels = channels
        self.now_ms = now_ms
        self.lock = lock

    def request(self, delivery: Delivery) -> tuple[str, bytes, dict[str, str]] | None:
        notice: Notice = delivery.message
        with self.lock:
            channel = self.channels.by_id.get(notice.channel_id)
            if channel is None or not channel.live(self.now_ms()):
                return None  # stopped or expired: Drive sends nothing more on it
            expires = datetime.fromtimestamp(channel.expiration_ms / 1000, UTC)
            headers = {
                "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
                "X-Goog-Channel-ID": channel.id,
                "X-Goog-Channel-Expiration": format_datetime(expires, usegmt=True),
                "X-Goog-Message-Number": str(notice.number),
                "X-Goog-Resource-ID": channel.resource_id,
                "X-Goog-Resource-State": notice.state,
                "X-Goog-Resource-URI": channel.resource_uri,
            }
            if channel.token is not None:
                headers["X-Goog-Channel-Token"] = channel.token
            return channel.address, b"", headers

    def retry_delay(self, delivery: Delivery, attempt: Attempt) -> float | None:
        retried = attempt.outcome in ("http_timeout", "other_error") or (
            attempt.status_code in RETRIED_STATUSES
        )
        if not retried or delivery.retry_number >= len(RETRY_DELAYS_S):
            return None
        return RETRY_DELAYS_S[delivery.retry_number]

    def describe(self, delivery: Delivery) -> dict:
        notice: Notice = delivery.message
        return {
            "channel_id": notice.channel_id,
            "message_number": notice.number,
            "state": notice.state,
        }
