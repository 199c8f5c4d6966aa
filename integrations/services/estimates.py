"""The Sync Range preview: how long a range will take here, before staff start it.

The action sizes the work (days, locations, orders from the days already pulled, API calls);
the time comes from this deployment's own finished sales jobs: their orders over their wall
time, so parallel chunks and the database's speed are in it. Before any job has finished the
rate is the benchmark's, one worker on a small machine (docs/capacity.md: 6,100-6,700 orders
a second), rounded down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from integrations.models import IntegrationConfig, SyncJob
from providers.base import Action, Estimate
from sous.sales import ledger

from .ledger import locations

FALLBACK_ORDERS_PER_SECOND = 5000.0
ORDERS_PER_PAGE = 1000  # what a call reads when there are no orders to count by
RECENT_JOBS = 20
MIN_MEASURED_ORDERS = 1000  # smaller jobs are mostly start-up time, not reading
RECENT_DAYS = 28  # the days "orders a day" averages


@dataclass(frozen=True)
class Preview:
    estimate: Estimate
    seconds: float
    measured: bool  # from this deployment's jobs, not the fallback rate

    @property
    def words(self) -> str:
        """ "24 months × 3 locations ≈ 876,000 orders, ≈ 900 API calls, ≈ 2 min." """
        e = self.estimate
        span = _span(e.days)
        places = f"{e.locations} location{'s' if e.locations != 1 else ''}"
        rest = f"≈ {e.calls:,} API calls, ≈ {_duration(self.seconds)}"
        if e.orders is None:  # nothing pulled yet to count by
            return f"{span} × {places}: orders not known yet, {rest}."
        return f"{span} × {places} ≈ {_round(e.orders):,} orders, {rest}."


def orders_per_second(kind: str) -> float | None:
    """This deployment's measured rate for jobs of `kind` (every organisation's: they share
    the workers and the database), or None before any."""
    jobs = SyncJob.objects.filter(
        kind=kind,
        parent__isnull=True,
        status=SyncJob.Status.SUCCEEDED,
        started_at__isnull=False,
        finished_at__isnull=False,
    ).order_by("-finished_at")[:RECENT_JOBS]
    orders = seconds = 0.0
    for job in jobs:
        done = ((job.counts or {}).get("totals") or {}).get("orders", 0)
        took = (job.finished_at - job.started_at).total_seconds()
        if done >= MIN_MEASURED_ORDERS and took > 0:
            orders, seconds = orders + done, seconds + took
    return orders / seconds if seconds else None


def preview(
    config: IntegrationConfig, action: Action, params: dict, *, now: datetime | None = None
) -> Preview | None:
    """The preview of a request, or None when it starts without one (Sync Today)."""
    now = now or timezone.now()
    synced = locations(config, action, now)
    today = max(synced.values(), default=now.date())
    per_day = ledger.orders_per_day(
        config.organization, config.provider, synced, since=today - timedelta(days=RECENT_DAYS)
    )
    estimate = action.estimate(params, settings=config.settings, now=now, orders_per_day=per_day)
    if estimate is None:
        return None
    rate = orders_per_second(action.kind(config.provider))
    speed = rate or FALLBACK_ORDERS_PER_SECOND
    work = estimate.orders if estimate.orders is not None else estimate.calls * ORDERS_PER_PAGE
    return Preview(estimate=estimate, seconds=work / speed, measured=rate is not None)


def _span(days: int) -> str:
    if days >= 60:
        months = round(days / 30.44)
        return f"{months} months"
    return f"{days} day{'s' if days != 1 else ''}"


def _round(orders: int) -> int:
    """Two or three significant figures: an estimate should not look exact."""
    if orders < 1000:
        return orders
    step = 10 ** (len(str(orders)) - 3)
    return round(orders / step) * step


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{round(minutes)} min"
    return f"{minutes / 60:.1f} h"
