"""The Integrations grid: one card per provider, in the registry's order, with no network call."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.utils import timezone

from integrations.jobs import schedules
from integrations.models import IntegrationConfig, SyncJob
from providers import registry
from sous.notifications import alerts
from sous.notifications.models import Alert

from . import apps, freshness


class CardState:
    NOT_CONNECTED = "not_connected"
    CONNECTED = "connected"
    ERROR = "error"
    NOT_CONFIGURED = "not_configured"
    COMING_SOON = "coming_soon"


@dataclass
class Card:
    key: str
    name: str
    tagline: str
    logo: str
    state: str
    config: IntegrationConfig | None = None
    missing_settings: list[str] = field(default_factory=list)
    # The connection's active top-level jobs, oldest first (the drawer's actions pick theirs).
    active_jobs: list[SyncJob] = field(default_factory=list)
    # Schedules on, each run on time and none failed: what Sous shows is as fresh as planned.
    up_to_date: bool = False
    # Open alerts of this connection (sous.notifications), oldest first.
    alerts: list[Alert] = field(default_factory=list)
    # How current each data type is ("Sales complete through yesterday").
    freshness: list[freshness.Freshness] = field(default_factory=list)

    @property
    def running_job(self) -> SyncJob | None:
        return self.active_jobs[0] if self.active_jobs else None

    @property
    def version(self) -> str:
        """Changes whenever what the card shows does: the page redraws only a card that did."""
        config, job = self.config, self.running_job
        shown = (
            self.state,
            config and (config.connected_as, config.last_error, config.last_synced_at),
            job and (job.pk, job.status),
            self.up_to_date,
            [(alert.pk, alert.title) for alert in self.alerts],
            self.freshness,
        )
        return hashlib.blake2s(repr(shown).encode(), digest_size=6).hexdigest()


def card(
    org,
    key: str,
    *,
    config: IntegrationConfig | None = None,
    lookup: bool = True,
    open_alerts: list[Alert] | None = None,
    active_jobs: list[SyncJob] | None = None,
) -> Card:
    provider = apps.provider(key)
    if lookup and config is None:
        config = IntegrationConfig.objects.filter(organization=org, provider=key).first()
        if config is not None:
            config.organization = org
    if config is not None:
        state = CardState.ERROR if config.in_error else CardState.CONNECTED
    elif not provider.credentials.configured:
        state = CardState.NOT_CONFIGURED
    else:
        state = CardState.NOT_CONNECTED
    if config is not None and active_jobs is None:
        active_jobs = list(_active(SyncJob.objects.filter(config=config)))
    if config is not None and open_alerts is None:
        open_alerts = alerts.open_for(org, key)
    return Card(
        freshness=freshness.of(config) if config is not None else [],
        alerts=open_alerts or [],
        up_to_date=state == CardState.CONNECTED and _up_to_date(config),
        key=key,
        name=provider.name,
        tagline=provider.tagline,
        logo=provider.logo,
        state=state,
        config=config,
        missing_settings=apps.missing_settings(key) if state == CardState.NOT_CONFIGURED else [],
        active_jobs=active_jobs or [],
    )


def _active(jobs):
    return jobs.filter(parent__isnull=True, status__in=SyncJob.ACTIVE).order_by("created_at")


def _up_to_date(config: IntegrationConfig) -> bool:
    """Every schedule of staff's data that is on has synced at least once, runs on time and
    its last run did not fail (background checks, like missed notifications, are not data)."""
    provider = apps.provider(config.provider)
    manual = [action.key for action in provider.actions if action.manual]
    planned = [s for s in schedules.of(config) if s.enabled and s.action in manual]
    late = timezone.now() - schedules.OVERDUE
    return bool(planned) and all(
        f"{config.provider}.{s.action}" in config.last_synced
        and (s.next_run_at is None or s.next_run_at > late)
        and (s.last_job is None or s.last_job.status != SyncJob.Status.FAILED)
        for s in planned
    )


def stylesheets() -> list[str]:
    """The providers' own stylesheets, for their drawer sections."""
    classes = (registry.provider_class(key) for key in registry.provider_keys())
    return [cls.stylesheet for cls in classes if cls.stylesheet]


def cards(org) -> list[Card]:
    """Every card in a fixed number of queries, however many connections and jobs."""
    configs = {
        c.provider: c
        for c in IntegrationConfig.objects.filter(organization=org).prefetch_related(
            schedules.prefetch()
        )
    }
    for config in configs.values():
        config.organization = org
    by_source: dict[str, list[Alert]] = {}
    for alert in alerts.open_for(org):
        by_source.setdefault(alert.source, []).append(alert)
    jobs: dict[int, list[SyncJob]] = {}
    for job in _active(SyncJob.objects.filter(organization=org, config__isnull=False)):
        jobs.setdefault(job.config_id, []).append(job)
    result = [
        card(
            org,
            key,
            config=configs.get(key),
            lookup=False,
            open_alerts=by_source.get(key, []),
            active_jobs=jobs.get(configs[key].pk, []) if key in configs else [],
        )
        for key in registry.provider_keys()
    ]
    result += [
        Card(key=s.key, name=s.name, tagline=s.tagline, logo=s.logo, state=CardState.COMING_SOON)
        for s in registry.COMING_SOON
    ]
    return result
