"""Drive push notifications (reference README §2.4): the channel Sous opens on the changes
feed, and the notifications Drive posts to it.

A notification is only headers, and says only that something in the account's feed changed:
it asks for one incremental scan, which reads the feed from the stored position (coalesced with
a scan already queued). The first message of a channel, `sync`, asks for nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from providers.base import InvalidNotification, JobRequest, Notification, Push

# Drive's docs name the state `change`; their example shows `changed` (README §2.4).
CHANGE_STATES = frozenset({"change", "changed"})
SYNC = "sync"


def read_push(headers: Mapping[str, str]) -> Push:
    channel_id = headers.get("X-Goog-Channel-ID", "")
    state = headers.get("X-Goog-Resource-State", "")
    number = headers.get("X-Goog-Message-Number", "")
    if not (channel_id and state and number.isdigit()):
        raise InvalidNotification("not a Drive notification: channel, state or number missing")
    return Push(
        channel_id=channel_id[:64],
        token=headers.get("X-Goog-Channel-Token", ""),
        state=state[:40],
        number=int(number),
    )


def read(body: bytes) -> Notification:
    stored = Push.from_stored(body)
    changed = stored.state in CHANGE_STATES
    return Notification(
        event_id=f"{stored.channel_id}:{stored.number}",
        account_id="",  # a channel belongs to one connection: Sous routes it by the channel
        type=stored.state,
        occurred_at=None,
        requests=(JobRequest("scan", {}, "Drive changed"),) if changed else (),
    )
