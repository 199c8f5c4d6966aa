"""Whether a connection gets live updates (notifications), in words for the drawer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from integrations.models import IntegrationConfig, WebhookEvent
from integrations.services import apps
from providers.base import Action

from . import channels


@dataclass(frozen=True)
class Live:
    on: bool
    last_event_at: datetime | None = None
    why_not: str = ""


def live(config: IntegrationConfig, action: Action | None = None) -> Live | None:
    """For the connection, or for one action's data (the notifications about it); None when
    none come for it."""
    provider = apps.provider(config.provider)
    if not provider.sends_notifications or (action is not None and not action.notifications):
        return None
    events = WebhookEvent.objects.filter(provider=provider.key)
    if action is not None:
        events = events.filter(event_type__in=action.notifications)
    if provider.push_channels:
        if channels.address(provider) is None:
            why = f"Sous has no public https address {provider.name} can reach"
            return Live(False, why_not=why)
        if not provider.wants_push(config.settings):
            return Live(False, why_not="nothing is watched yet")
        if not config.channels.exists():
            return Live(False, why_not=f"{provider.name} has not opened Sous's channel yet")
        events = events.filter(config=config)
    elif not apps.webhook_keys(provider.key):
        return Live(False, why_not="this deployment has no webhook signature key for it")
    else:
        events = events.filter(account_id=config.external_account_id)
    last = events.order_by("-received_at").values_list("received_at", flat=True).first()
    return Live(True, last_event_at=last)
