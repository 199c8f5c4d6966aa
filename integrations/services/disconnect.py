"""Disconnecting: revoke at the provider (best effort), stop the work, delete the credentials.

Imported records and job history stay: nothing imported points at the connection row.
"""

from __future__ import annotations

import logging

from django.db import transaction

from integrations import progress
from integrations.jobs import control
from integrations.models import IntegrationConfig, IntegrationEvent
from integrations.webhooks import channels
from providers.errors import ProviderError

from . import activity, alerting, apps, tokens

log = logging.getLogger(__name__)


def disconnect(config: IntegrationConfig, *, actor) -> str:
    """Returns a one-line message for staff."""
    name = apps.provider(config.provider).name
    # Jobs stop first: a page already on its way then meets the revoked token as part of a
    # cancelled job, not as a failure that would put the connection in Error.
    with transaction.atomic():
        control.cancel_active(config, reason=f"{name} was disconnected")
    # While the grant still works: the provider stops posting for a connection that is gone.
    channels.close(config, list(config.channels.all()))
    revoked = False
    try:
        grant = tokens.read(config)
        apps.provider(config.provider).oauth().revoke(
            access_token=grant.access_token, refresh_token=grant.refresh_token
        )
        revoked = True
    except (ProviderError, tokens.CredentialsUnavailable) as exc:
        # The provider being down must not keep credentials here that staff asked us to delete.
        log.warning(
            "%s.disconnect.revoke_failed", config.provider, extra={"why": type(exc).__name__}
        )
    org, key = config.organization, config.provider
    with transaction.atomic():
        activity.record(
            config,
            IntegrationEvent.Kind.DISCONNECTED,
            "Credentials deleted"
            + (
                ""
                if revoked
                else f" ({name} could not be told; access will lapse when its token expires)"
            ),
            actor=actor,
        )
        config.delete()
        alerting.disconnected(org, key)
    progress.publish(
        org.pk, {"type": "connection", "provider": key, "state": "not_connected", "reason": ""}
    )
    return f"{name} disconnected"
