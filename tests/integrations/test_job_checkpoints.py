"""A job's checkpoint as the engine keeps it: each action's Checkpoint, stored as JSON between
tasks. A job resumed from it ends as one run straight through; one saved by an older release
in another shape starts the job over. Against the sandbox, jobs run inline in this thread."""

from __future__ import annotations

import logging

import pytest

from integrations.jobs import triggers
from integrations.models import SyncJob
from sous.catalog.models import Item
from sous.documents.models import Document
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    scan,
    watch,
)
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)

pytestmark = pytest.mark.django_db


def test_a_catalog_sync_resumed_after_every_page_reads_each_page_once(
    square_config, product_on_sandbox, org, settings
):
    resize(product_on_sandbox, items=2500, categories=30)
    settings.INTEGRATIONS_TASK_SLICE_SECONDS = 0  # every page ends its task: a fresh one goes on

    job = run_inline(start(square_config, "catalog"))

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    # A task per page, each from the page before's checkpoint; the last finds nothing left.
    assert job.attempts == 5
    # The summary counts records received: a page imported twice would say more items.
    assert job.summary == "Catalog synced: 2,500 items, 30 categories, 8 modifier lists"
    assert Item.objects.filter(organization=org).count() == 2500
    square_config.refresh_from_db()
    assert square_config.cursors["square.catalog"]["latest_time"]


def test_a_drive_scan_resumed_after_every_page_lists_what_one_straight_run_lists(
    google_config, drive, sandbox, settings
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    settings.INTEGRATIONS_TASK_SLICE_SECONDS = 0
    job, _ = triggers.request(google_config, "scan", {})
    sliced = run_inline(job)
    listed = sandbox.counters()["google.files.list"]

    assert sliced.status == SyncJob.Status.SUCCEEDED, sliced.error_detail
    assert sliced.attempts > 2
    found = Document.objects.count()
    assert sliced.summary == f"Drive scanned: {found} recipes, 0 invoices ({found} new)"
    # The cursor came with the scan's last page, a task before the one that finished it.
    google_config.refresh_from_db()
    assert google_config.cursors["google.scan"]["token"].isdigit()

    settings.INTEGRATIONS_TASK_SLICE_SECONDS = 300
    google_config.cursors = {}  # a full crawl again, in one task
    google_config.save(update_fields=["cursors"])
    straight = scan(google_config)
    assert straight.attempts == 1
    assert sandbox.counters()["google.files.list"] - listed == listed
    assert straight.summary == f"Drive scanned: {found} recipes, 0 invoices (0 new)"


def test_a_checkpoint_saved_in_an_older_shape_starts_the_job_over(
    square_config, product_on_sandbox, org, caplog
):
    job = start(square_config, "catalog")
    # A catalog job between two slices, as the release before typed checkpoints saved it.
    SyncJob.objects.filter(pk=job.pk).update(
        checkpoint={
            "begin": None,
            "latest": "2020-01-01T00:00:00.000Z",
            "objects": 1000,
            "pass": 1,
            "cursor": "stale",
            "_cursor": {"latest_time": "2020-01-01T00:00:00.000Z"},
        },
        counts={"created": 1000, "totals": {"items": 1000, "modifier lists": 8}},
    )
    searches = product_on_sandbox.counters().get("square.catalog.search", 0)

    with caplog.at_level(logging.INFO, logger="integrations.jobs.execute"):
        job = run_inline(job)

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert [r.message for r in caplog.records if r.levelno == logging.INFO].count(
        "integrations.job.checkpoint_discarded"
    ) == 1
    # From the start: both passes read, and nothing of the old job's counts added in.
    assert product_on_sandbox.counters()["square.catalog.search"] - searches == 2
    assert job.summary == "Catalog synced: 60 items, 14 categories, 8 modifier lists"
    assert Item.objects.filter(organization=org).count() == 60
    square_config.refresh_from_db()
    assert square_config.cursors["square.catalog"]["latest_time"] != "2020-01-01T00:00:00.000Z"
