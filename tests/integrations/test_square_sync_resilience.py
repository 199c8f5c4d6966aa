"""Deep sales syncs on real workers: parallel monthly chunks, flaky Square, dying workers,
disconnects. Every one of them must end exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from integrations.models import IntegrationConfig, SyncJob
from integrations.services import disconnect
from integrations.services import imported as imported_figures
from integrations.tasks import resume_orphaned_jobs
from sous.catalog.models import Item
from sous.sales.models import Order, OrderLineItem
from tests.conftest import TEST_ENCRYPTION_KEYS, database_url, wait_for
from tests.integrations.square_sync import (
    expected,
    imported,
    local_date_days_ago,
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)
from tests.integrations.test_token_secrecy import GroupListener

ROOT = Path(__file__).resolve().parents[2]


def _month_boundary_range() -> tuple:
    """Six business days that straddle the start of a month: (first, last, first of month)."""
    first_of_month = local_date_days_ago(4).replace(day=1)
    return first_of_month - timedelta(days=3), first_of_month + timedelta(days=2), first_of_month


def _assert_exact(sandbox, merchant, org, first, last) -> int:
    total = 0
    for location in merchant["locations"]:
        want = expected(sandbox, location, first, last)
        got = imported(org, location, first, last)
        assert (got["count"], got["total"]) == (want["count"], want["total"]), location["name"]
        total += want["count"]
    assert Order.objects.filter(organization=org).count() == total
    return total


@pytest.mark.django_db(transaction=True)
def test_a_range_runs_as_parallel_monthly_chunks_with_one_progress(
    square_config, product_on_sandbox, merchant, org, request
):
    resize(product_on_sandbox, orders_per_day=300)
    first, last, month = _month_boundary_range()

    on_workers = connection.vendor == "postgresql"
    if on_workers:
        # Two worker threads run the two months at once. (Started first: the fixture purges
        # the queue as it starts.)
        request.getfixturevalue("integrations_worker")
    listener = GroupListener(org.id)
    job = start(square_config, "sales", {"start": str(first), "end": str(last)})
    if on_workers:
        job = wait_for(
            lambda: SyncJob.objects.filter(pk=job.pk).exclude(status__in=SyncJob.ACTIVE).first(),
            timeout=120,
            message="the range did not finish",
        )
    else:
        # SQLite's shared in-memory test database locks whole tables against a second
        # writer thread: the chunks run one after the other here.
        job = run_inline(job)

    assert job.status == SyncJob.Status.SUCCEEDED, job.error or job.error_detail
    children = list(job.children.order_by("params__start"))
    assert [(c.params["start"], c.params["end"]) for c in children] == [
        (str(first), str(month - timedelta(days=1))),
        (str(month), str(last)),
    ]
    assert all(c.status == SyncJob.Status.SUCCEEDED for c in children)
    # The page hears of the one job it shows; a chunk it does not know would redraw it.
    events = listener.drain()
    assert any(str(job.pk) in event for event in events)
    assert not [e for e in events for c in children if str(c.pk) in e]
    total = _assert_exact(product_on_sandbox, merchant, org, first, last)
    assert job.progress_message == f"2 of 2 months · {total:,} orders"
    assert job.counts["created"] == total
    assert job.summary == f"Sales synced: {total:,} orders ({total:,} new, 0 changed)"
    # Both chunks added to the one kept figure at once: neither addition was lost.
    assert dict(imported_figures.counts(org, "square"))["orders"] == total
    square_config.refresh_from_db()
    assert square_config.last_synced.get("square.sales")
    assert "square.sales" not in square_config.cursors  # only Sync Today moves the cursor


@pytest.mark.django_db
def test_a_flaky_square_still_gives_exact_results(
    square_config, product_on_sandbox, merchant, org, settings
):
    resize(product_on_sandbox, orders_per_day=700)
    product_on_sandbox.knobs(rate_429=0.2, rate_5xx=0.05, retry_after=0)
    first = last = local_date_days_ago(4)

    job = run_inline(start(square_config, "sales", {"start": str(first), "end": str(last)}))

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    counters = product_on_sandbox.counters()
    assert counters.get("square.injected.429", 0) > 0
    assert counters.get("square.injected.500", 0) + counters.get("square.injected.503", 0) > 0
    _assert_exact(product_on_sandbox, merchant, org, first, last)


@pytest.mark.django_db(transaction=True)
def test_a_sync_cut_into_many_slices_ends_exact(
    square_config, product_on_sandbox, merchant, org, settings, integrations_worker
):
    resize(product_on_sandbox, orders_per_day=900)
    settings.INTEGRATIONS_TASK_SLICE_SECONDS = 0  # every page ends its task: a fresh one goes on
    day = local_date_days_ago(2)
    job = start(square_config, "sales", {"start": str(day), "end": str(day)})

    job = wait_for(
        lambda: SyncJob.objects.filter(pk=job.pk).exclude(status__in=SyncJob.ACTIVE).first(),
        timeout=60,
        message="the sliced sync did not finish",
    )

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert job.attempts >= 4  # one task per page
    total = _assert_exact(product_on_sandbox, merchant, org, day, day)
    assert job.summary == f"Sales synced: {total:,} orders ({total:,} new, 0 changed)"


@pytest.mark.django_db
def test_disconnecting_keeps_every_imported_row(square_config, product_on_sandbox, org, owner):
    resize(product_on_sandbox, orders_per_day=30)
    run_inline(start(square_config, "catalog"))
    day = local_date_days_ago(3)
    run_inline(start(square_config, "sales", {"start": str(day), "end": str(day)}))
    counts = (Item.objects.count(), Order.objects.count(), OrderLineItem.objects.count())
    assert all(counts)

    disconnect.disconnect(square_config, actor=owner)

    assert not IntegrationConfig.objects.filter(organization=org).exists()
    assert (Item.objects.count(), Order.objects.count(), OrderLineItem.objects.count()) == counts
    assert not Item.objects.filter(is_deleted=True).exists()


def _worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sous",
            "worker",
            "-Q",
            "integrations",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("recovery", ["redelivered", "resumed"])
def test_a_worker_killed_mid_range_is_replaced_and_the_range_ends_exact(
    square_config, product_on_sandbox, merchant, org, settings, recovery
):
    """Either way back: the broker hands the dead worker's task out again once its visibility
    timeout passes, or beat's resume_orphaned_jobs sends the job again as soon as its lock
    lapsed (here the broker would wait 15 minutes)."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process is pointed at the test database through a PostgreSQL URL")
    from sous.celery import app

    resize(product_on_sandbox, orders_per_day=900)
    product_on_sandbox.knobs(latency_ms=150)
    app.control.purge()
    # Redelivery is driven by the broker's visibility timeout; resuming runs on the defaults
    # (the job lock's life and beat's cadence) to measure the time staff would wait.
    lock_seconds = 4 if recovery == "redelivered" else django_settings.INTEGRATIONS_JOB_LOCK_SECONDS
    settings.INTEGRATIONS_JOB_LOCK_SECONDS = lock_seconds
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "INTEGRATIONS_ENCRYPTION_KEYS": ",".join(TEST_ENCRYPTION_KEYS),
        "PROVIDER_SANDBOX_URL": product_on_sandbox.url,
        "SQUARE_ENVIRONMENT": "local",
        "SQUARE_CLIENT_ID": django_settings.SQUARE_CLIENT_ID,
        "SQUARE_CLIENT_SECRET": django_settings.SQUARE_CLIENT_SECRET,
        "CELERY_VISIBILITY_TIMEOUT": "5" if recovery == "redelivered" else "900",
        "INTEGRATIONS_JOB_LOCK_SECONDS": str(lock_seconds),
        "PYTHONPATH": str(ROOT),
    }
    first = last = local_date_days_ago(6)
    job = start(square_config, "sales", {"start": str(first), "end": str(last)})
    victim = _worker(env)
    try:
        # Kill it once it has saved some pages, mid-range.
        wait_for(
            lambda: SyncJob.objects.filter(pk=job.pk, progress_done__gt=0).exists(),
            timeout=60,
            message="the first worker never saved a page",
        )
        os.killpg(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        victim.wait(10)
        half_way = SyncJob.objects.get(pk=job.pk)
        assert half_way.status == SyncJob.Status.RUNNING
        assert Order.objects.count() > 0

        if recovery == "redelivered":
            # The broker hands the task out again once its visibility timeout has passed
            # since it was delivered; a starting worker sweeps for such tasks at once (later
            # sweeps are ~100 s apart), so start the replacement after that point.
            delivered = half_way.started_at
            wait_for(
                lambda: timezone.now() - delivered > timedelta(seconds=6),
                timeout=15,
                message="the clock stopped",
            )
        else:
            beat = django_settings.CELERY_BEAT_SCHEDULE["integrations-resume-orphaned-jobs"]
            wait_for(
                lambda: resume_orphaned_jobs() == 1,
                timeout=90,
                interval=beat["schedule"],  # as often as beat runs it
                message="the orphaned job was never sent again",
            )
            assert time.monotonic() - killed_at < 60, "a killed worker's job waited a minute"
            waiting = SyncJob.objects.get(pk=job.pk)
            assert waiting.status == SyncJob.Status.QUEUED
            assert waiting.progress_message == "Worker lost, resuming…"
        replacement = _worker(env)
        try:
            job = wait_for(
                lambda: (
                    SyncJob.objects.filter(pk=job.pk).exclude(status__in=SyncJob.ACTIVE).first()
                ),
                timeout=120,
                message="the replacement worker did not finish the range",
            )
        finally:
            os.killpg(replacement.pid, signal.SIGTERM)
            replacement.wait(20)
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert job.attempts >= 2
    total = _assert_exact(product_on_sandbox, merchant, org, first, last)
    assert job.counts["created"] + job.counts["unchanged"] >= total
