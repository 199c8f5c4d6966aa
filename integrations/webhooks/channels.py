"""Push channels (Drive): opened per connection while it has something to watch, renewed before
the expiration the provider granted, stopped when there is nothing to watch any more (folders
cleared, disconnect, account switch), and the notifications they bring.

`reconcile` makes the provider's channels match what the connection wants; it runs when the
settings change, on connect, and from beat (renewal). A channel's token is
`<org>.<connection>.<HMAC of org, connection and channel id>`: a notification proves without a
lookup that it came through a channel Sous opened for that connection, and a forged one is
refused before anything is stored.
"""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from integrations.models import IntegrationConfig, NotificationChannel, WebhookEvent
from integrations.services import apps, tokens
from providers import registry
from providers.base import InvalidNotification, Provider, PushChannel
from providers.errors import ProviderError
from sous import redis_client
from sous.celery import app

from .receive import Answer, count_refused, wake

log = logging.getLogger(__name__)

# Beat looks every 15 minutes; a channel is replaced this long before its end, so a provider
# or Sous outage of a few hours still leaves no gap.
RENEW_WITHIN = timedelta(hours=12)
SALT = "integrations.webhooks.channels"
RECONCILE_TASK = "integrations.reconcile_channels"


def address(provider: Provider) -> str | None:
    """Where the provider posts notifications; None when it cannot reach Sous: Google posts
    only to public https addresses (the local sandbox posts to this machine too)."""
    url = settings.PUBLIC_BASE_URL + reverse("integrations:webhook", args=[provider.key])
    if url.startswith("https://") or provider.credentials.environment == "local":
        return url
    return None


def wanted(config: IntegrationConfig) -> bool:
    provider = apps.provider(config.provider)
    return bool(
        provider.push_channels
        and config.status == IntegrationConfig.Status.CONNECTED
        and provider.wants_push(config.settings)
        and address(provider)
    )


def token_for(organization_id: int, config_id: int, channel_id: str) -> str:
    return f"{organization_id}.{config_id}.{_mac(organization_id, config_id, channel_id)}"


def _mac(organization_id, config_id, channel_id: str) -> str:
    return salted_hmac(SALT, f"{organization_id}.{config_id}.{channel_id}").hexdigest()


def _genuine(token: str, channel_id: str) -> bool:
    organization_id, _, rest = token.partition(".")
    config_id, _, mac = rest.partition(".")
    return bool(mac) and constant_time_compare(mac, _mac(organization_id, config_id, channel_id))


# --- Keeping them open --------------------------------------------------------------------------


def reconcile(config: IntegrationConfig, *, now: datetime | None = None) -> None:
    """Open, renew or stop this connection's channels. Safe to run at any time, from anywhere:
    one run at a time per connection."""
    now = now or timezone.now()
    provider = apps.provider(config.provider)
    if not provider.push_channels:
        return
    with redis_client.client().lock(f"sous:channels:{config.pk}", timeout=120, blocking_timeout=60):
        config.refresh_from_db()
        open_ = list(config.channels.order_by("-expires_at"))
        # Opened with another account (before a switch): this grant cannot stop them, and
        # their notifications no longer match a channel, so they are simply forgotten.
        foreign = [c for c in open_ if c.account_id != config.external_account_id]
        NotificationChannel.objects.filter(pk__in=[c.pk for c in foreign]).delete()
        open_ = [c for c in open_ if c not in foreign]
        keep: list[NotificationChannel] = []
        if wanted(config):
            renew_after = now + RENEW_WITHIN
            fresh = next((c for c in open_ if c.expires_at > renew_after), None)
            fresh = fresh or _open(config, provider)
            # A failed renewal keeps what is still open: it may have hours left.
            keep = [fresh] if fresh else [c for c in open_ if c.expires_at > now]
        close(config, [c for c in open_ if c not in keep])


def reconcile_soon(config: IntegrationConfig) -> None:
    """After the settings or the grant changed: reconcile in a task once this commits (a
    provider call has no place in a page request). Beat catches up if the broker is down."""
    if not apps.provider(config.provider).push_channels:
        return

    def send_task() -> None:
        try:
            app.send_task(RECONCILE_TASK, args=[config.pk])
        except Exception:  # noqa: BLE001 - renew_all reconciles every connection within 15 min
            log.warning("integrations.channel.dispatch_failed", extra={"config": config.pk})

    transaction.on_commit(send_task)


def _open(config: IntegrationConfig, provider: Provider) -> NotificationChannel | None:
    channel_id = uuid.uuid4().hex
    try:
        opened = tokens.call(
            config,
            lambda access_token: provider.open_channel(
                access_token,
                channel_id=channel_id,
                address=address(provider),
                token=token_for(config.organization_id, config.pk, channel_id),
            ),
        )
    except (ProviderError, tokens.CredentialsUnavailable) as exc:
        # Nothing lost: the schedule keeps checking; beat tries again within 15 minutes.
        log.warning(
            "integrations.channel.open_failed",
            extra={"provider": config.provider, "config": config.pk, "why": type(exc).__name__},
        )
        return None
    log.info(
        "integrations.channel.opened",
        extra={"provider": config.provider, "config": config.pk, "until": opened.expires_at},
    )
    return NotificationChannel.objects.create(
        config=config,
        channel_id=opened.id,
        resource_id=opened.resource_id,
        account_id=config.external_account_id,
        expires_at=opened.expires_at,
    )


def close(
    config: IntegrationConfig,
    channels: list[NotificationChannel],
    *,
    access_token: str | None = None,
) -> None:
    """Stop them at the provider (best effort: an unreachable provider lets them expire) and
    forget them. Their late notifications are then answered and ignored. `access_token`: the
    grant they were opened with, when it is no longer the connection's (an account switch)."""
    if not channels:
        return
    provider = apps.provider(config.provider)
    try:
        for channel in channels:
            stop = functools.partial(provider.close_channel, channel=_as_provider(channel))
            if access_token:
                stop(access_token)
            else:
                tokens.call(config, stop)
    except (ProviderError, tokens.CredentialsUnavailable) as exc:
        log.info(
            "integrations.channel.stop_failed",
            extra={"provider": config.provider, "config": config.pk, "why": type(exc).__name__},
        )
    NotificationChannel.objects.filter(pk__in=[c.pk for c in channels]).delete()


def _as_provider(channel: NotificationChannel) -> PushChannel:
    return PushChannel(channel.channel_id, channel.resource_id, channel.expires_at)


def renew_all(*, now: datetime | None = None) -> None:
    """Beat: every connection of a provider with channels, reconciled (most need no call)."""
    keys = [k for k in registry.provider_keys() if registry.provider_class(k).push_channels]
    for config in IntegrationConfig.objects.filter(provider__in=keys).iterator():
        reconcile(config, now=now)


# --- Receiving ----------------------------------------------------------------------------------


def receive(provider: Provider, headers) -> Answer:
    try:
        push = provider.read_push(headers)
    except InvalidNotification:
        return _refused(provider, "unreadable")
    if not _genuine(push.token, push.channel_id):
        return _refused(provider, "bad token")
    channel = (
        NotificationChannel.objects.filter(channel_id=push.channel_id)
        .select_related("config")
        .first()
    )
    if channel is None:
        # Genuine but stopped or replaced: Drive may still send on it until its end.
        log.info("integrations.channel.closed_notice", extra={"provider": provider.key})
        return Answer(200)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider.key,
                event_id=push.event_id,
                event_type=push.state,
                account_id=channel.account_id,
                config=channel.config,
                body=push.stored(),
            )
            transaction.on_commit(wake)
    except IntegrityError:
        return Answer(200)  # the same message again
    return Answer(200, event)


def _refused(provider: Provider, why: str) -> Answer:
    log.warning(
        "integrations.webhook.refused",
        extra={
            "provider": provider.key,
            "why": why,
            "refused_this_hour": count_refused(provider.key),
        },
    )
    return Answer(403)
