"""The job machinery end to end: real worker, real Redis, real channel layer, the sandbox."""

import io
import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from integrations.jobs import control, events, execute, fanout, lease, outcome, triggers
from integrations.jobs.recovery import MAX_RECOVERIES
from integrations.jobs.states import Stop
from integrations.models import IntegrationConfig, SyncJob
from integrations.tasks import reap_stale_jobs, resume_orphaned_jobs
from tests.conftest import wait_for
from tests.consent import connect_through_sandbox
from tests.integrations.test_token_secrecy import GroupListener

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def square(owner_client, org, product_on_sandbox):
    assert connect_through_sandbox(owner_client, "square").status_code == 200
    return IntegrationConfig.objects.get(organization=org, provider="square")


def finished(job_id):
    job = SyncJob.objects.get(pk=job_id)
    return job if not job.active else None


def test_a_sync_runs_on_a_worker_and_updates_last_synced(owner_client, square, integrations_worker):
    response = owner_client.post("/integrations/square/actions/catalog/", HTTP_HX_REQUEST="true")
    assert response.status_code == 202
    toast = json.loads(response["HX-Trigger"])["sous:toast"]
    assert toast["message"] == "Catalog sync started. We'll notify you when it's ready."
    job = SyncJob.objects.get()
    assert job.requested_by is not None and job.celery_task_id
    done = wait_for(lambda: finished(job.id), timeout=60)
    assert done.status == "succeeded", done.error_detail
    assert done.summary.startswith("Catalog synced:")
    square.refresh_from_db()
    assert square.last_synced_at is not None
    assert "square.catalog" in square.last_synced


def test_a_second_request_returns_the_active_job(square):
    first, created = triggers.request(square, "catalog", {})
    second, created_again = triggers.request(square, "catalog", {})
    assert created and not created_again
    assert first.pk == second.pk
    assert SyncJob.objects.count() == 1


def test_the_page_says_a_sync_is_already_waiting_or_in_progress(owner_client, square):
    job, _ = triggers.request(square, "catalog", {})

    def again():
        response = owner_client.post(
            "/integrations/square/actions/catalog/", HTTP_HX_REQUEST="true"
        )
        return json.loads(response["HX-Trigger"])["sous:toast"]["message"]

    assert again() == "Catalog sync already waiting to start: your request is part of it"
    SyncJob.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now())
    # The catalog reads what changed since its last run: the running job may have read
    # before the change staff are asking about, so one more waits behind it, once.
    assert again() == "Catalog sync queued: it runs once the one in progress ends"
    assert again() == "Catalog sync already waiting to start: your request is part of it"
    assert SyncJob.objects.count() == 2


def test_a_range_already_running_answers_for_the_same_range(owner_client, square):
    job, _ = triggers.request(
        square, "sales", {"mode": "range", "start": "2025-01-01", "end": "2025-01-31"}
    )
    SyncJob.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now())
    again, created = triggers.request(
        square, "sales", {"mode": "range", "start": "2025-01-05", "end": "2025-01-06"}
    )
    assert again.pk == job.pk and not created


def test_bad_parameters_are_refused_next_to_the_form_and_create_no_job(owner_client, square):
    future = (timezone.now() + timedelta(days=3)).date().isoformat()
    response = owner_client.post(
        "/integrations/square/actions/sales/",
        {"mode": "range", "start": "2026-01-01", "end": future},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "in the future" in response.content.decode()
    assert not SyncJob.objects.exists()


def test_cancel_stops_a_running_job_between_pages_and_keeps_its_counts(
    owner_client, square, product_on_sandbox, integrations_worker
):
    product_on_sandbox.knobs(latency_ms=150)
    today = timezone.now().date()
    start = (today - timedelta(days=20)).isoformat()
    job, _ = triggers.request(
        square, "sales", {"mode": "range", "start": start, "end": today.isoformat()}
    )
    wait_for(lambda: SyncJob.objects.get(pk=job.pk).progress_done > 0, timeout=60)
    response = owner_client.post(f"/integrations/jobs/{job.pk}/cancel/")
    assert response.status_code == 302
    done = wait_for(lambda: finished(job.pk), timeout=60)
    assert done.status == "cancelled"
    assert done.counts.get("created", 0) > 0  # what was imported stays counted


def test_progress_reaches_the_organisations_socket_in_order_and_ends_with_the_final_state(
    square, org, other_org, integrations_worker
):
    mine, theirs = GroupListener(org.id), GroupListener(other_org.id)
    job, _ = triggers.request(square, "catalog", {})
    wait_for(lambda: finished(job.pk), timeout=60)
    events = [m for m in mine.drain() if str(job.pk) in m]
    assert events, "no job events were published"
    statuses = [
        status
        for m in events
        for status in ("queued", "running", "succeeded")
        if f"'status': '{status}'" in m
    ]
    assert statuses[0] == "queued" and statuses[-1] == "succeeded"
    assert statuses == sorted(statuses, key=["queued", "running", "succeeded"].index)
    assert not [m for m in theirs.drain() if str(job.pk) in m]


def test_the_polling_endpoint_serves_the_job_to_its_organisation_only(
    owner_client, client_factory, outsider, square
):
    job, _ = triggers.request(square, "catalog", {})
    body = owner_client.get(f"/integrations/jobs/{job.pk}/").json()
    assert (
        body["id"] == str(job.pk)
        and body["status"] == "queued"
        and body["kind"] == "square.catalog"
    )
    stranger = client_factory()
    stranger.force_login(outsider)
    assert stranger.get(f"/integrations/jobs/{job.pk}/").status_code == 404
    assert stranger.post(f"/integrations/jobs/{job.pk}/cancel/").status_code == 404


def test_the_sync_command_waits_and_reports_the_outcome(org, square, integrations_worker):
    out = io.StringIO()
    call_command(
        "integrations_sync", org=org.slug, provider="square", kind="catalog", wait=True, stdout=out
    )
    assert "Catalog synced:" in out.getvalue()
    job = SyncJob.objects.get()
    assert job.trigger == SyncJob.Trigger.COMMAND
    assert triggers.origin(job).startswith("Command (") and "@" in job.trigger_detail


@pytest.mark.parametrize(
    "options, message",
    [
        ({"org": "nope", "kind": "catalog"}, "No organisation with slug"),
        ({"kind": "teleport"}, "has no kind 'teleport'"),
        ({"kind": "sales", "start": "2026-02-01", "end": "2026-01-01"}, "start date"),
        ({"kind": "sales", "start": "0001-01-01", "end": "0001-01-31"}, "no sales before 2009"),
        (
            {"kind": "catalog", "start": "2026-01-01"},
            "Square catalog takes no dates: --start and --end are for sales.",
        ),
    ],
)
def test_the_sync_command_refuses_bad_arguments_with_exit_code_2(org, square, options, message):
    options = {"org": org.slug, "provider": "square", **options}
    with pytest.raises(CommandError) as refused:
        call_command("integrations_sync", **options)
    assert refused.value.returncode == 2
    assert message in str(refused.value)
    assert not SyncJob.objects.exists()


def test_the_status_command_lists_connections_and_active_jobs(org, square):
    triggers.request(square, "catalog", {})
    out = io.StringIO()
    call_command("integrations_status", stdout=out)
    text = out.getvalue()
    assert org.slug in text and "square" in text and "Connected" in text and "healthy" in text
    assert "Catalog sync" in text and "square.catalog" not in text


def test_the_reaper_fails_jobs_whose_worker_vanished(square, settings):
    job, _ = triggers.request(square, "catalog", {})
    long_ago = timezone.now() - timedelta(hours=3)
    SyncJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=long_ago)
    assert reap_stale_jobs() == 1
    job.refresh_from_db()
    assert job.status == "failed"
    assert "stopped unexpectedly" in job.error


def _running(square, *, beat_ago=timedelta(minutes=10), kind="square.catalog", **fields):
    """A running job as its worker left it: started, last heartbeat `beat_ago`."""
    now = timezone.now()
    return SyncJob.objects.create(
        organization=square.organization,
        provider="square",
        config=square,
        kind=kind,
        started_at=now - beat_ago,
        heartbeat_at=now - beat_ago,
        attempts=1,
        **{"status": SyncJob.Status.RUNNING, **fields},
    )


def _chunk(parent: SyncJob, **fields) -> SyncJob:
    """One month of a deep sales sync, queued unless said otherwise."""
    return SyncJob.objects.create(
        organization_id=parent.organization_id,
        provider=parent.provider,
        config_id=parent.config_id,
        kind=parent.kind,
        parent=parent,
        **{"status": SyncJob.Status.QUEUED, **fields},
    )


def test_a_job_whose_worker_died_is_sent_again_at_once_and_finishes(square, integrations_worker):
    job = _running(square)  # no heartbeat for 10 minutes and nobody holds its lock

    assert resume_orphaned_jobs() == 1

    done = wait_for(lambda: finished(job.pk), timeout=30, message="the job was not resumed")
    assert done.status == SyncJob.Status.SUCCEEDED, done.error_detail
    assert done.attempts == 2
    assert done.recoveries == 0  # it saved pages since: a worker that dies again is sent again
    assert done.summary.startswith("Catalog synced:")


def test_only_orphaned_jobs_are_sent_again_and_not_forever(square):
    alive = _running(square, beat_ago=timedelta(seconds=5))
    slow_page = _running(square)  # its worker still renews the lock
    lock = lease.lease(str(slow_page.pk))
    assert lock.acquire(blocking=False)
    waiting = _running(square, kind="square.sales")  # a parent waiting for its chunks
    _chunk(waiting)
    crashing = _running(square, recoveries=MAX_RECOVERIES)  # its next page kills the worker
    orphan = _running(square)
    try:
        assert resume_orphaned_jobs() == 1
        assert resume_orphaned_jobs() == 0  # the orphan is queued now: a worker will take it
    finally:
        lock.release()

    for job in (alive, slow_page, waiting):
        job.refresh_from_db()
        assert (job.status, job.recoveries) == (SyncJob.Status.RUNNING, 0)
    crashing.refresh_from_db()
    assert crashing.status == SyncJob.Status.FAILED
    assert "stopped unexpectedly" in crashing.error
    orphan.refresh_from_db()
    assert (orphan.status, orphan.recoveries) == (SyncJob.Status.QUEUED, 1)
    assert orphan.celery_task_id


def test_a_job_between_slices_waits_as_queued_and_is_not_taken_for_an_orphan(square):
    job = _running(square)
    lock = lease.lease(str(job.pk))
    assert lock.acquire(blocking=False)
    keeper = lease.Keeper(lock)
    keeper.start()
    execute._continue_later(job, keeper)  # its slice ended: a fresh task carries on

    job.refresh_from_db()
    assert job.status == SyncJob.Status.QUEUED and job.celery_task_id
    assert not lease.is_held(job.pk)  # handed over free, for the next task to take
    # However long it waits behind other work, it is not sent a second time.
    SyncJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert resume_orphaned_jobs() == 0
    assert reap_stale_jobs() == 0


def test_the_lock_keeper_holds_the_job_through_a_page_longer_than_the_lock_lives(settings):
    settings.INTEGRATIONS_JOB_LOCK_SECONDS = 1
    lock = lease.lease("slow-page-test")
    assert lock.acquire(blocking=False)
    keeper = lease.Keeper(lock)
    keeper.start()
    try:
        started = time.monotonic()
        wait_for(lambda: time.monotonic() - started > 2.5, timeout=5, message="the clock stopped")
        assert lease.is_held("slow-page-test") and not keeper.lost

        lock.redis.delete(lock.name)  # lapsed anyway (the process stalled): taken back
        wait_for(lambda: lease.is_held("slow-page-test"), timeout=5)
        assert lock.owned() and not keeper.lost

        lock.redis.delete(lock.name)  # lapsed, and another task took the job meanwhile
        other = lease.lease("slow-page-test")
        assert other.acquire(blocking=False)
        wait_for(lambda: keeper.lost, timeout=5, message="the keeper did not notice")
        assert other.owned()
        other.release()
    finally:
        keeper.stop()
        lock.redis.delete(lock.name)


def test_the_lock_keeper_lets_a_stuck_task_go(settings):
    settings.INTEGRATIONS_JOB_LOCK_SECONDS = 1
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "visibility_timeout": 2,
    }
    lock = lease.lease("stuck-task-test")
    assert lock.acquire(blocking=False)
    keeper = lease.Keeper(lock)
    keeper.start()
    try:
        # No page saved, no retry noted, for longer than the broker would wait: the lock
        # lapses, so the job is resumed elsewhere, and this task stops at its next page.
        wait_for(lambda: keeper.lost, timeout=10, message="the keeper held on")
        wait_for(lambda: not lease.is_held("stuck-task-test"), timeout=5)
    finally:
        keeper.stop()
        lock.redis.delete(lock.name)


def test_a_queued_job_whose_lock_is_still_held_comes_back_rather_than_vanish(square):
    job = _running(square, status=SyncJob.Status.QUEUED)
    lock = lease.lease(str(job.pk))
    assert lock.acquire(blocking=False)  # the task handing it over has not let go yet
    try:
        execute.run(str(job.pk))
    finally:
        lock.release()

    job.refresh_from_db()
    assert job.status == SyncJob.Status.QUEUED and job.celery_task_id  # sent again


def test_a_cancel_that_lands_while_a_range_is_being_split_makes_no_chunks(square):
    from integrations.services import apps

    provider = apps.provider("square")
    action = provider.action("sales")
    first_of_month = timezone.localdate().replace(day=1)
    params = action.validate(
        {"start": str(first_of_month - timedelta(days=70)), "end": str(first_of_month)},
        settings=square.settings,
        now=timezone.now(),
    )
    job = _running(square, kind="square.sales", params=params)
    SyncJob.objects.filter(pk=job.pk).update(cancel_requested=True)  # after the task looked
    with pytest.raises(Stop):
        fanout.plan(job, square, action)
    assert not job.children.exists()


def test_cancelling_a_deep_sync_whose_chunks_all_wait_finishes_it(square):
    parent = _running(square, kind="square.sales")
    # Queued: one between two slices of its work, one not started yet.
    _chunk(parent, counts={"created": 120, "totals": {"orders": 120, "orders_new": 120}})
    _chunk(parent)

    control.cancel(parent)

    parent.refresh_from_db()
    assert parent.status == SyncJob.Status.CANCELLED
    assert sorted(child.summary for child in parent.children.all()) == [
        "Cancelled",
        "Cancelled: Sales synced: 120 orders (120 new, 0 changed)",
    ]


def test_a_deep_syncs_bar_moves_with_its_chunks_pages_not_only_when_one_finishes(square):
    parent = _running(square, kind="square.sales")

    def chunk(status, done, total, percent=None):
        return _chunk(
            parent,
            status=status,
            progress_done=done,
            progress_total=total,
            progress_percent=percent,
            progress_unit="orders",
        )

    chunk(SyncJob.Status.RUNNING, 500, 1000)
    chunk(SyncJob.Status.RUNNING, 2000, 1000)  # past its estimate, still running
    chunk(SyncJob.Status.QUEUED, 0, None)
    # Through its window without an order yet (a month with no open orders left).
    chunk(SyncJob.Status.RUNNING, 0, None, percent=50)
    outcome.roll_up(parent.pk)
    parent.refresh_from_db()

    assert parent.percent == 50  # half, all, none and half of four chunks
    assert parent.progress_message == "0 of 4 months · 2,500 orders"
    assert events.payload(parent)["percent"] == 50


def test_the_drawer_says_who_or_what_asked_for_each_job(owner_client, owner, square):
    owner.first_name = "Maria"
    owner.save()
    owner_client.post("/integrations/square/actions/catalog/", HTTP_HX_REQUEST="true")
    control.cancel(SyncJob.objects.get())
    call_command(
        "integrations_sync",
        org=square.organization.slug,
        provider="square",
        kind="catalog",
        stdout=io.StringIO(),
    )

    html = owner_client.get("/integrations/square/manage/").content.decode()

    assert "<strong>Catalog sync</strong>" in html
    assert "Maria, manual" in html
    assert "Command (" in html
    assert "square.catalog" not in html
