"""Events for an organisation's open Admin › Integrations pages (through sous.live).

Payloads carry ids, states, counts and messages for staff, never tokens.
"""

from __future__ import annotations

from collections.abc import Iterable

from sous import live

from .consumers import org_group


def publish(org_id: int, payload: dict) -> None:
    publish_many([(org_id, payload)])


def publish_many(events: Iterable[tuple[int, dict]]) -> None:
    live.send((org_group(org_id), "integrations.event", payload) for org_id, payload in events)


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
