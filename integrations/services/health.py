"""The drawer's health check: one light provider call, cached for a minute."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from integrations.models import IntegrationConfig, IntegrationEvent
from providers.errors import GrantRefused, ProviderError, Unauthorized

from . import apps, status, tokens

log = logging.getLogger(__name__)
CACHE_SECONDS = 60


@dataclass(frozen=True)
class HealthReport:
    healthy: bool
    detail: str
    checked_at: datetime
    transient: bool = False  # the provider could not be reached: say so, change nothing


def _cache_key(config: IntegrationConfig) -> str:
    return f"integrations:health:{config.pk}:{config.access_token_encrypted[-16:]}"


def cached(config: IntegrationConfig) -> HealthReport | None:
    """The last minute's report, if any: the drawer shows it at once instead of a spinner."""
    found = cache.get(_cache_key(config))
    if not found:
        return None
    report = HealthReport(**found)
    if report.healthy and config.in_error:
        # Marked Error since (a revocation webhook, a refused refresh): the drawer must not
        # say "healthy" beside a card that says "Re-auth required".
        return None
    return report


def check(config: IntegrationConfig, *, force: bool = False) -> HealthReport:
    if not force and (report := cached(config)):
        return report
    key = _cache_key(config)
    report = _run(config)
    if not report.transient:
        cache.set(key, report.__dict__, CACHE_SECONDS)
    return report


def _run(config: IntegrationConfig) -> HealthReport:
    now = timezone.now()
    provider = apps.provider(config.provider)
    try:
        result = tokens.call(config, provider.health)
    except tokens.CredentialsUnavailable as exc:
        return HealthReport(False, exc.reason, now)
    except Unauthorized as exc:
        reason = config.last_error if isinstance(exc, GrantRefused) else f"{status.REAUTH}: {exc}"
        if not isinstance(exc, GrantRefused):
            status.mark_error(config, reason, kind=IntegrationEvent.Kind.HEALTH_FAILED)
        return HealthReport(False, reason, now)
    except ProviderError as exc:
        log.info("%s.health.transient", config.provider, extra={"config_id": config.pk})
        return HealthReport(False, f"Could not reach {provider.name} just now: {exc}", now, True)
    config.health_checked_at = now
    config.save(update_fields=["health_checked_at"])
    status.mark_recovered(config, "Health check succeeded")
    return HealthReport(True, result.detail, now)
