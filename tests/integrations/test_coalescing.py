"""Per connection and kind, one job runs and one waits: a burst of requests makes at most two
jobs, the waiting one doing the work of all of them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from integrations.jobs import events, execute, outcome, triggers
from integrations.models import SyncJob
from providers.square.sales import SalesAction
from tests.integrations.square_sync import (
    local_date_days_ago,
    merchant_fixture,  # noqa: F401
    run_inline,
    square_config_fixture,  # noqa: F401
)

pytestmark = pytest.mark.django_db


def _range(first: date, last: date) -> dict:
    return {"mode": "range", "start": str(first), "end": str(last)}


def _running(job: SyncJob) -> None:
    SyncJob.objects.filter(pk=job.pk).update(
        status=SyncJob.Status.RUNNING, started_at=timezone.now()
    )


def test_ranges_merge_into_the_range_spanning_them_within_three_years():
    action = SalesAction()
    march, may = (
        _range(date(2025, 3, 1), date(2025, 3, 31)),
        _range(date(2025, 5, 1), date(2025, 5, 9)),
    )
    assert action.merge(march, may) == _range(date(2025, 3, 1), date(2025, 5, 9))
    assert action.merge(may, march) == _range(date(2025, 3, 1), date(2025, 5, 9))
    assert action.merge(march, _range(date(2028, 3, 1), date(2028, 3, 2))) is None
    assert action.merge({"mode": "today"}, march) is None
    assert action.merge(march, {"mode": "today"}) is None


def test_a_burst_of_requests_makes_one_running_job_and_one_waiting(square_config):
    first, _ = triggers.request(square_config, "sales", _range(date(2025, 1, 1), date(2025, 1, 31)))
    _running(first)
    base = date(2025, 2, 1)
    answers = [
        triggers.request(
            square_config, "sales", _range(base + timedelta(days=n), base + timedelta(days=n))
        )
        for n in range(500)
    ]

    assert SyncJob.objects.filter(parent=None).count() == 2
    waiting = SyncJob.objects.exclude(pk=first.pk).get()
    assert [created for _, created in answers].count(True) == 1
    assert {job.pk for job, _ in answers} == {waiting.pk}
    assert waiting.params == _range(base, base + timedelta(days=499))
    assert waiting.started_at is None


def test_the_waiting_job_starts_only_once_the_running_one_has_ended(
    square_config, product_on_sandbox
):
    day = local_date_days_ago(3)
    first, _ = triggers.request(square_config, "sales", _range(day, day))
    _running(first)
    second, created = triggers.request(
        square_config, "sales", _range(day - timedelta(days=1), day - timedelta(days=1))
    )
    assert created

    execute.run(str(second.pk))  # its task arrives while the first runs: it waits, queued

    second.refresh_from_db()
    assert second.status == SyncJob.Status.QUEUED and second.started_at is None
    assert second.progress_message == events.WAITING_FOR_RUNNING
    # Still open to requests: another day joins it rather than making a third job.
    third, _ = triggers.request(
        square_config, "sales", _range(day - timedelta(days=2), day - timedelta(days=2))
    )
    assert third.pk == second.pk

    SyncJob.objects.filter(pk=first.pk).update(status=SyncJob.Status.SUCCEEDED)
    done = run_inline(second)
    assert done.status == SyncJob.Status.SUCCEEDED, done.error_detail
    assert done.params == _range(day - timedelta(days=2), day - timedelta(days=1))


def test_the_running_job_starts_the_waiting_one_as_it_ends(square_config, product_on_sandbox):
    day = local_date_days_ago(3)
    first, _ = triggers.request(square_config, "sales", _range(day, day))
    _running(first)
    second, _ = triggers.request(square_config, "sales", _range(day - timedelta(days=1), day))
    execute.run(str(second.pk))  # it waits, and would look again in WAIT_FOR_RUNNING_SECONDS
    sent_for_its_wait = SyncJob.objects.get(pk=second.pk).celery_task_id

    outcome.fail(first, "stopped", "test")

    # Sent again at once (a new task): not left for its next look.
    assert SyncJob.objects.get(pk=second.pk).celery_task_id != sent_for_its_wait


def test_a_request_while_one_runs_and_none_waits_becomes_the_waiting_job(square_config):
    first, _ = triggers.request(square_config, "sales", _range(date(2025, 1, 1), date(2025, 1, 1)))
    _running(first)
    later, created = triggers.request(
        square_config, "sales", _range(date(2025, 2, 1), date(2025, 2, 1))
    )
    assert created and later.pk != first.pk
