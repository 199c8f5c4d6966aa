"""Whether a connection gets live updates (notifications), in words for the drawer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from integrations.models import IntegrationConfig, WebhookEvent
from integrations.services import apps


@dataclass(frozen=True)
class Live:
    on: bool
    last_event_at: datetime | None = None
    why_not: str = ""


def live(config: IntegrationConfig) -> Live | None:
    """None for a provider that sends no notifications."""
    provider = apps.provider(config.provider)
    if not provider.sends_notifications:
        return None
    if not apps.webhook_keys(provider.key):
        return Live(False, why_not="this deployment has no webhook signature key for it")
    last = (
        WebhookEvent.objects.filter(provider=provider.key, account_id=config.external_account_id)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    return Live(True, last_event_at=last)
