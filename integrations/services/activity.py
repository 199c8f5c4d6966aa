"""Recording what happened to a connection (the drawer's Activity list)."""

from __future__ import annotations

import logging

from integrations.models import IntegrationConfig, IntegrationEvent

log = logging.getLogger("integrations.events")


def record(
    config: IntegrationConfig | None,
    kind: str,
    message: str = "",
    *,
    actor=None,
    actor_label: str = "",
    organization=None,
    provider: str = "",
) -> IntegrationEvent:
    organization = organization or config.organization
    provider = provider or config.provider
    event = IntegrationEvent.objects.create(
        organization=organization,
        provider=provider,
        config=config if config is not None and config.pk else None,
        kind=kind,
        message=message[:300],
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label,
    )
    log.info(
        "%s.%s",
        provider,
        kind,
        extra={"org_id": organization.pk, "config_id": event.config_id, "event_id": event.pk},
    )
    return event
