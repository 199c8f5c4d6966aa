"""A cursor the provider refuses: the engine forgets it and runs the job again from the start
as a full sync, once. Square's HTTP mocked; the sandbox versions of these live with each
action's sync tests (test_square_catalog_sync.py, test_google_scan.py)."""

from __future__ import annotations

import json

import pytest
import responses

from integrations.jobs import execute, triggers
from integrations.models import SyncJob
from tests.conftest import UNREACHABLE_SANDBOX

pytestmark = pytest.mark.django_db

SEARCH = f"{UNREACHABLE_SANDBOX}/square/v2/catalog/search"
LAST_TIME = "2026-01-01T00:00:00.000Z"
REFUSED = {
    "errors": [
        {
            "category": "INVALID_REQUEST_ERROR",
            "code": "INVALID_TIME",
            "detail": "Invalid RFC 3339 timestamp.",
            "field": "begin_time",
        }
    ]
}
CATEGORY = {"type": "CATEGORY", "id": "C1", "version": 5, "category_data": {"name": "Pasta"}}
ITEM = {"type": "ITEM", "id": "I1", "version": 6, "item_data": {"name": "Carbonara"}}


@pytest.fixture
def config(org, make_connection):
    config = make_connection(org, "square")
    config.cursors = {
        "square.catalog": {"latest_time": LAST_TIME},
        "square.sales": {"updated_since": LAST_TIME},
    }
    config.save(update_fields=["cursors"])
    return config


def _begin_times() -> list:
    return [json.loads(call.request.body).get("begin_time") for call in responses.calls]


@responses.activate
def test_a_refused_cursor_is_forgotten_and_the_job_runs_again_as_a_full_sync(config):
    responses.post(SEARCH, status=400, json=REFUSED)
    responses.post(SEARCH, json={"objects": [CATEGORY], "latest_time": "2026-02-01T00:00:00.000Z"})
    responses.post(SEARCH, json={"objects": [ITEM]})
    job, _ = triggers.request(config, "catalog", {})

    execute.run(str(job.pk))

    job.refresh_from_db()
    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert _begin_times() == [LAST_TIME, None, None]  # then both passes of a full run
    assert job.summary == "Catalog synced: 1 item, 1 category, 0 modifier lists"
    config.refresh_from_db()
    assert config.cursors == {
        "square.catalog": {"latest_time": "2026-02-01T00:00:00.000Z"},
        "square.sales": {"updated_since": LAST_TIME},  # another kind's cursor is its own
    }


@responses.activate
def test_a_provider_refusing_again_fails_the_job_rather_than_start_it_over_twice(config, settings):
    settings.INTEGRATIONS_TASK_SLICE_SECONDS = 0  # the refusal comes back in a later task
    responses.post(SEARCH, status=400, json=REFUSED)
    responses.post(SEARCH, json={"objects": [CATEGORY], "latest_time": "2026-02-01T00:00:00.000Z"})
    responses.post(SEARCH, status=400, json=REFUSED)
    job, _ = triggers.request(config, "catalog", {})

    execute.run(str(job.pk))  # refused, started over, first page saved: the slice ends
    job.refresh_from_db()
    assert job.status == SyncJob.Status.QUEUED
    execute.run(str(job.pk))

    job.refresh_from_db()
    assert job.status == SyncJob.Status.FAILED
    assert job.error.startswith("Square refused the last sync's begin_time")
    assert _begin_times()[0] == LAST_TIME and set(_begin_times()[1:]) == {None}
    config.refresh_from_db()
    assert "square.catalog" not in config.cursors
