"""The live channel of Admin > Integrations: job and connection events for one organisation,
and the signed-in person's own notifications (the header's bell).

Read-only: the browser never sends commands over it. A connection is accepted only for a
logged-in member, and joins that member's current organisation's group and their own
notification group; nothing else reaches it.
"""

import contextlib
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from sous.notifications.notify import user_group
from sous.orgs import mfa
from sous.orgs.middleware import membership_for

log = logging.getLogger(__name__)


def org_group(org_id: int) -> str:
    """The channel-layer group every event of one organisation's integrations goes to."""
    return f"org-{org_id}-integrations"


@database_sync_to_async
def _current_org_id(user, session) -> int | None:
    membership = membership_for(user, session)
    # An owner or admin held at two-factor setup gets no page, so no live events either.
    if not membership or mfa.is_held(membership, user):
        return None
    return membership.organization_id


class IntegrationsConsumer(AsyncJsonWebsocketConsumer):
    # Not `groups`: channels joins that list itself, before connect().
    joined: list[str] | tuple = ()

    async def connect(self):
        self.joined = []
        user = self.scope.get("user")
        org_id = await _current_org_id(user, self.scope.get("session"))
        if org_id is None:
            await self.close(code=4403)
            return
        try:
            for group in (org_group(org_id), user_group(user.pk)):
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        except RedisError:
            # No channel layer, no live updates: the page says so and polls its jobs.
            log.warning("integrations.live.unavailable", extra={"org_id": org_id})
            await self.close(code=1011)
            return
        await self.accept()

    async def disconnect(self, code):
        for group in self.joined:
            with contextlib.suppress(RedisError):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """Ignore whatever the browser sends: this socket only pushes."""

    async def integrations_event(self, event):
        await self.send_json(event["payload"])

    async def notifications_event(self, event):
        await self.send_json(event["payload"])
