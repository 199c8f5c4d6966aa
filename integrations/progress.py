"""The one place that talks to the channel layer: events for an organisation's open pages.

Payloads carry ids, states, counts and messages for staff, never tokens. Publishing never
breaks the caller: a Redis hiccup loses a live update (the page polls as a fallback), not a sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .consumers import org_group

log = logging.getLogger(__name__)


def publish(org_id: int, payload: dict) -> None:
    publish_many([(org_id, payload)])


def publish_many(events: Iterable[tuple[int, dict]]) -> None:
    """Several events in one trip to the event loop (a beat tick starts thousands of jobs),
    one after the other: the channel layer's connection pool is small."""
    layer = get_channel_layer()
    events = list(events)
    if layer is None or not events:
        return

    async def send_all() -> None:
        for org_id, payload in events:
            try:
                await layer.group_send(
                    org_group(org_id), {"type": "integrations.event", "payload": payload}
                )
            except Exception:  # noqa: BLE001 - a lost live update must never fail the work
                log.warning("integrations.publish_failed", exc_info=True, extra={"org_id": org_id})

    try:
        async_to_sync(send_all)()
    except Exception:  # noqa: BLE001 - nor can the event loop's own trouble
        log.warning("integrations.publish_failed", exc_info=True)


def connection_payload(config) -> dict:
    """What the page needs to redraw a card: no secrets, just state."""
    return {
        "type": "connection",
        "provider": config.provider,
        "state": config.status,
        "reason": config.last_error,
        "connected_as": config.connected_as,
        "last_synced_at": config.last_synced_at.isoformat() if config.last_synced_at else None,
    }
