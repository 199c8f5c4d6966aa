"""A connection's state transitions: into Error and back, each recorded once and pushed live."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from integrations import progress
from integrations.models import IntegrationConfig, IntegrationEvent

from . import activity, alerting

REAUTH = "Re-auth required"


def mark_error(config: IntegrationConfig, reason: str, *, kind: str, actor_label: str = "") -> None:
    """Put the connection in Error with a one-line reason; record the event once, not per call."""
    already = config.in_error and config.last_error == reason
    config.status = IntegrationConfig.Status.ERROR
    config.last_error = reason[:300]
    config.error_since = config.error_since or timezone.now()
    config.save(update_fields=["status", "last_error", "error_since", "updated_at"])
    if not already:
        activity.record(config, kind, reason, actor_label=actor_label)
        _publish_on_commit(config)
    alerting.needs_reauth(config, reason)  # a repeat updates the open alert, tells nobody again


def mark_recovered(config: IntegrationConfig, message: str, *, actor_label: str = "") -> None:
    if not config.in_error:
        return
    config.status = IntegrationConfig.Status.CONNECTED
    config.last_error = ""
    config.error_since = None
    config.save(update_fields=["status", "last_error", "error_since", "updated_at"])
    activity.record(config, IntegrationEvent.Kind.RECOVERED, message, actor_label=actor_label)
    _publish_on_commit(config)
    alerting.reconnected(config, message)


def _publish_on_commit(config: IntegrationConfig) -> None:
    """Once committed: a page told of the change redraws the card from the database, and
    inside a longer transaction (a batch of notifications) it would read the old state."""
    payload = progress.connection_payload(config)
    transaction.on_commit(lambda: progress.publish(config.organization_id, payload))
