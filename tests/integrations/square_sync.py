"""Shared fixtures and helpers for the Square catalog and sales sync tests.

The connection holds real tokens of the local Square (its control API's token shortcut, as
tests/providers/square does), so every sync talks to the sandbox over real HTTP. Jobs run
inline through the real engine (`run_inline`), or on a Celery worker where a test says so.
Test modules import what they use from here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from integrations.jobs import execute, triggers
from integrations.models import SyncJob
from integrations.services import apps
from providers.square.business_day import BusinessClock
from sous.sales.models import Order


@pytest.fixture(name="merchant")
def merchant_fixture(product_on_sandbox) -> dict:
    """The first seeded merchant with its locations (id, name, timezone, ...)."""
    return product_on_sandbox.control("GET", "square/merchants")["merchants"][0]


@pytest.fixture(name="square_config")
def square_config_fixture(product_on_sandbox, merchant, org, make_connection):
    """`org` connected to the first merchant with real sandbox tokens."""
    grant = product_on_sandbox.control(
        "POST", "square/tokens", json={"merchant_id": merchant["id"]}
    )
    expires = datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00"))
    return make_connection(
        org,
        "square",
        access=grant["access_token"],
        refresh=grant["refresh_token"],
        expires_in=expires - timezone.now(),
        account_id=merchant["id"],
        name=merchant["business_name"],
    )


def resize(sandbox, **sizes) -> dict:
    return sandbox.control("POST", "square/config", json=sizes)["sizes"]


def start(config, action_key: str, data: dict | None = None, *, user=None) -> SyncJob:
    """Validate like the view does and request the job (its task is not sent in `db` tests)."""
    action = apps.provider("square").action(action_key)
    params = action.validate(data or {}, settings=config.settings, now=timezone.now())
    job, _ = triggers.request(config, action_key, params, user=user)
    return job


def run_inline(job: SyncJob, *, limit: int = 200) -> SyncJob:
    """Run a job and any chunk jobs it splits into with the real engine, in this thread."""
    for _ in range(limit):
        job.refresh_from_db()
        if not job.active:
            return job
        for child in SyncJob.objects.filter(parent=job, status__in=SyncJob.ACTIVE):
            execute.run(str(child.pk))
        if not job.children.exists() or job.status == SyncJob.Status.QUEUED:
            execute.run(str(job.pk))
    raise AssertionError(f"job {job.pk} did not finish")


def local_date_days_ago(days: int, tz: str = "America/Los_Angeles") -> date:
    return BusinessClock(tz).today(datetime.now(UTC)) - timedelta(days=days)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expected(sandbox, location: dict, first: date, last: date, cutoff: str = "00:00") -> dict:
    """What Square holds for a location's business days, from the sandbox's own naive walk:
    completed orders by closed time plus open and cancelled ones by created time."""
    clock = BusinessClock(location["timezone"], cutoff)
    start, end = clock.window(first, last)
    bounds = (_rfc3339(start), _rfc3339(end - timedelta(milliseconds=1)))
    half = sandbox.half("square")
    closed = half.ground_truth(
        location["id"], *bounds, field="closed_at", states=["COMPLETED"], with_ids=True
    )
    opened = half.ground_truth(
        location["id"], *bounds, field="created_at", states=["OPEN", "CANCELED"], with_ids=True
    )
    return {
        "count": closed.count + opened.count,
        "total": closed.total + opened.total,
        "ids": set(closed.order_ids) | set(opened.order_ids),
    }


def imported(org, location: dict, first: date, last: date) -> dict:
    orders = Order.objects.filter(
        organization=org,
        source="square",
        location_external_id=location["id"],
        business_date__range=(first, last),
    )
    return {
        "count": orders.count(),
        "total": orders.aggregate(total=Sum("total_money"))["total"] or 0,
        "ids": set(orders.values_list("external_id", flat=True)),
    }
