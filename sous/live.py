"""The one place that talks to the channel layer: events for the pages people have open.

Publishing never breaks the caller: a Redis hiccup loses a live update (pages poll or redraw as
a fallback), not a sync or a notification.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def send(messages: Iterable[tuple[str, str, dict]]) -> None:
    """(group, handler type, payload) messages in one trip to the event loop (a beat tick
    starts thousands of jobs), one after the other: the channel layer's pool is small."""
    layer = get_channel_layer()
    messages = list(messages)
    if layer is None or not messages:
        return

    async def send_all() -> None:
        for group, kind, payload in messages:
            try:
                await layer.group_send(group, {"type": kind, "payload": payload})
            except Exception:  # noqa: BLE001 - a lost live update must never fail the work
                log.warning("sous.live.publish_failed", exc_info=True, extra={"group": group})

    try:
        async_to_sync(send_all)()
    except Exception:  # noqa: BLE001 - nor can the event loop's own trouble
        log.warning("sous.live.publish_failed", exc_info=True)
