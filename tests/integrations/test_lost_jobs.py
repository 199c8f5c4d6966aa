"""A queued job is never stuck: a send that fails while the broker is down, or a message
lost with Redis, is sent again, and the job still ends exact."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.jobs import dispatch, triggers
from integrations.models import IntegrationConfig, SyncJob
from integrations.tasks import resend_lost_jobs
from sous.catalog.models import Item
from sous.celery import app
from tests.conftest import running_worker, wait_for
from tests.consent import connect_through_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_BROKER = "redis://127.0.0.1:9/0"  # the discard port: every connection is refused


@pytest.fixture
def square(owner_client, org, product_on_sandbox):
    assert connect_through_sandbox(owner_client, "square").status_code == 200
    app.control.purge()
    return IntegrationConfig.objects.get(organization=org, provider="square")


def _reset_producers() -> None:
    """Celery keeps its producer pool: rebuild it from the broker URL now configured."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """The broker refuses connections until `back()` is called (or the test ends)."""
    live = app.conf.broker_url

    def back():
        app.conf.broker_url = live
        _reset_producers()

    app.conf.broker_url = DEAD_BROKER
    _reset_producers()
    yield back
    back()


def _sent_long_ago(job: SyncJob) -> None:
    SyncJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))


def _finished(job: SyncJob) -> SyncJob:
    return wait_for(
        lambda: SyncJob.objects.exclude(status__in=SyncJob.ACTIVE).filter(pk=job.pk).first(),
        timeout=60,
        message="the job never finished",
    )


def test_a_sync_asked_for_while_the_broker_is_down_waits_then_runs_exact(
    owner_client, square, product_on_sandbox, broker_down
):
    response = owner_client.post("/integrations/square/actions/catalog/", HTTP_HX_REQUEST="true")

    assert response.status_code == 202  # not a 500 with an orphan row
    toast = json.loads(response["HX-Trigger"])["sous:toast"]
    assert toast["message"] == (
        "Catalog sync queued. Our job queue is unreachable just now: it starts once it is back."
    )
    job = SyncJob.objects.get()
    assert job.status == SyncJob.Status.QUEUED
    assert job.progress_message == dispatch.WAITING_FOR_QUEUE

    broker_down()  # the broker is back
    _sent_long_ago(job)
    assert resend_lost_jobs() == 1
    with running_worker(concurrency=1):
        done = _finished(job)
    assert done.status == SyncJob.Status.SUCCEEDED, done.error_detail
    live = (
        product_on_sandbox.half("square")
        .state.catalogs[0]
        .iter_objects(frozenset({"ITEM"}), include_deleted=False)
    )
    assert sorted(Item.objects.values_list("external_id", flat=True)) == sorted(
        o["id"] for o in live
    )


def test_a_job_whose_message_is_still_in_the_broker_is_left_alone_until_it_is_lost(square):
    job, _ = triggers.request(square, "catalog", {})  # no worker: the message waits in the queue
    _sent_long_ago(job)

    assert resend_lost_jobs() == 0  # waiting its turn is not lost
    app.control.purge()  # Redis lost it (restarted without persistence)
    assert resend_lost_jobs() == 1
    assert resend_lost_jobs() == 0  # sent again, and held again

    with running_worker(concurrency=1):
        done = _finished(job)
    assert done.status == SyncJob.Status.SUCCEEDED, done.error_detail


def test_a_job_sent_a_moment_ago_is_not_taken_for_lost(square):
    job, _ = triggers.request(square, "catalog", {})
    app.control.purge()
    assert resend_lost_jobs() == 0
    assert SyncJob.objects.get(pk=job.pk).celery_task_id == job.celery_task_id
