"""A provider event found by reading its events feed rather than received as a webhook (one
that was dropped, or sent while Sous was down): stored and processed as if delivered."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MissedNotification:
    event_id: str
    body: bytes  # the event as the provider's feed gives it: the webhook's envelope
