"""Schedules: made on connect, dispatched once when due (even by two ticks at once), skipped
with a reason for a connection in Error, edited by owners and admins only; a nightly sales run
imports exactly what Square holds for its location's days."""

import io
import threading
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from integrations.jobs import schedules
from integrations.models import IntegrationConfig, Schedule, SyncJob
from integrations.services import grid
from tests.integrations.square_sync import (
    expected,
    imported,
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
)


@pytest.fixture
def square(org, make_connection):
    return make_connection(org)


def _due(schedule: Schedule) -> Schedule:
    Schedule.objects.filter(pk=schedule.pk).update(
        next_run_at=timezone.now() - timedelta(seconds=1)
    )
    schedule.refresh_from_db()
    return schedule


def test_connecting_makes_the_default_schedules_with_their_next_runs(square, org, make_connection):
    by_action = {s.action: s for s in Schedule.objects.filter(config=square)}
    assert set(by_action) == {"catalog", "sales", "events"}
    catalog = by_action["catalog"]
    assert catalog.enabled and catalog.minutes == 60
    assert timezone.now() < catalog.next_run_at <= timezone.now() + timedelta(hours=1)
    # Sales: no location known yet, so its first run is a Sync Today within minutes.
    assert by_action["sales"].next_params == {"mode": "today"}

    google = make_connection(org, "google", account_id="G-1")
    (scan,) = Schedule.objects.filter(config=google)
    assert scan.enabled and scan.minutes == 15
    assert scan.next_run_at is None  # nothing watched yet: nothing to run


def test_a_due_schedule_is_dispatched_once_and_planned_again(square):
    catalog = _due(Schedule.objects.get(config=square, action="catalog"))

    first = schedules.tick()
    again = schedules.tick()

    job = SyncJob.objects.get()
    assert (first.dispatched, again.dispatched) == (1, 0)
    assert job.kind == "square.catalog" and job.trigger == SyncJob.Trigger.SCHEDULE
    assert job.trigger_detail == "Hourly"
    catalog.refresh_from_db()
    assert catalog.last_job == job and catalog.skipped == ""
    assert catalog.next_run_at > timezone.now()


def test_a_connection_in_error_is_skipped_and_says_so(square):
    IntegrationConfig.objects.filter(pk=square.pk).update(status=IntegrationConfig.Status.ERROR)
    catalog = _due(Schedule.objects.get(config=square, action="catalog"))

    result = schedules.tick()

    assert result.skipped == 1 and not SyncJob.objects.exists()
    catalog.refresh_from_db()
    assert catalog.skipped == "Skipped: Square needs re-auth"
    assert catalog.next_run_at > timezone.now()  # tried again at its next run


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_dispatch_each_due_run_exactly_once(make_org, make_connection):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL")
    configs = [make_connection(make_org()) for _ in range(40)]
    Schedule.objects.filter(config__in=configs).update(
        next_run_at=timezone.now() - timedelta(seconds=1)
    )
    start = threading.Barrier(2)
    results = []

    def beat():
        start.wait()
        try:
            results.append(schedules.tick(batch=7))
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # 40 connections × (catalog, sales, the missed notifications check)
    assert sum(r.dispatched for r in results) == 120
    assert SyncJob.objects.count() == 120
    for config in configs:
        assert sorted(config.jobs.values_list("kind", flat=True)) == [
            "square.catalog",
            "square.events",
            "square.sales",
        ]


def test_a_burst_of_runs_of_one_kind_coalesces_into_the_pending_job(square):
    catalog = Schedule.objects.get(config=square, action="catalog")
    for _ in range(5):
        _due(catalog)
        schedules.tick()
    assert SyncJob.objects.filter(kind="square.catalog").count() == 1


def test_owners_choose_how_often_and_turn_it_off(owner_client, square):
    url = "/integrations/square/schedules/catalog/"

    response = owner_client.post(url, {"enabled": "on", "minutes": "15"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Catalog sync: every 15 min" in response.headers["HX-Trigger"]
    catalog = Schedule.objects.get(config=square, action="catalog")
    assert catalog.minutes == 15 and catalog.next_run_at <= timezone.now() + timedelta(minutes=15)

    response = owner_client.post(url, {"minutes": "15"}, HTTP_HX_REQUEST="true")
    catalog.refresh_from_db()
    assert not catalog.enabled and catalog.next_run_at is None
    assert "Runs only when started here." in response.content.decode()
    assert square.events.filter(message="Catalog sync: automatic syncs off").exists()


def test_a_time_not_offered_is_refused_and_changes_nothing(owner_client, square):
    before = Schedule.objects.get(config=square, action="catalog")
    response = owner_client.post(
        "/integrations/square/schedules/catalog/",
        {"enabled": "on", "minutes": "7"},
        HTTP_HX_REQUEST="true",
    )
    assert "Choose one of the listed times." in response.content.decode()
    after = Schedule.objects.get(pk=before.pk)
    assert (after.minutes, after.next_run_at) == (before.minutes, before.next_run_at)


def test_members_cannot_change_schedules(client, member, square):
    client.force_login(member)
    response = client.post("/integrations/square/schedules/catalog/", {"minutes": "15"})
    assert response.status_code == 403
    assert Schedule.objects.get(config=square, action="catalog").enabled


def test_another_organisations_schedule_is_a_404(client, outsider, square):
    client.force_login(outsider)
    response = client.post("/integrations/square/schedules/catalog/", {"minutes": "15"})
    assert response.status_code == 404


def test_the_drawer_shows_each_schedule_and_its_next_run(owner_client, square):
    # Where the hourly slot falls depends on the connection's offset: put it half an hour out.
    Schedule.objects.filter(config=square, action="catalog").update(
        next_run_at=timezone.now() + timedelta(minutes=30, seconds=30)
    )
    html = owner_client.get("/integrations/square/manage/").content.decode()
    assert 'data-schedule="catalog"' in html and 'data-schedule="sales"' in html
    assert "Next: in 30 min" in html


def test_integrations_status_prints_the_next_runs(square):
    # Where the hourly slot falls depends on the connection's offset: put it half an hour out.
    Schedule.objects.filter(config=square, action="catalog").update(
        next_run_at=timezone.now() + timedelta(minutes=30, seconds=30)
    )
    out = _call("integrations_status", "--no-health")
    assert "NEXT RUNS" in out and "Catalog sync: in 30 min" in out


def _call(*args) -> str:
    buffer = io.StringIO()
    call_command(*args, stdout=buffer)
    return buffer.getvalue()


def test_a_nightly_run_imports_exactly_its_locations_days(
    product_on_sandbox, square_config, merchant, org
):
    resize(product_on_sandbox, orders_per_day=30)
    locations = merchant["locations"]
    square_config.settings = {
        "locations": {
            loc["id"]: {"name": loc["name"], "timezone": loc["timezone"]} for loc in locations
        },
        "cutoffs": {},
        "excluded_locations": [],
    }
    square_config.save()
    schedules.replan(square_config)
    sales = _due(Schedule.objects.get(config=square_config, action="sales"))
    params = sales.next_params

    schedules.tick()
    job = run_inline(SyncJob.objects.get(kind="square.sales", parent__isnull=True))

    assert job.status == SyncJob.Status.SUCCEEDED, job.error
    first, last = date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
    assert (last - first).days == 3
    for location in locations:
        got = imported(org, location, first, last)
        if location["id"] in params["locations"]:
            assert got == expected(product_on_sandbox, location, first, last)
            assert got["count"] > 0
        else:
            assert got["count"] == 0  # another location's night


def test_the_card_says_up_to_date_only_while_every_schedule_has_synced_on_time(org, square):
    def card():
        return grid.card(org, "square")

    square.last_synced = {"square.catalog": timezone.now().isoformat()}
    square.last_synced_at = timezone.now()
    square.save()
    assert not card().up_to_date  # sales never synced yet

    square.last_synced["square.sales"] = timezone.now().isoformat()
    square.save()
    assert card().up_to_date

    catalog = Schedule.objects.get(config=square, action="catalog")
    Schedule.objects.filter(pk=catalog.pk).update(
        next_run_at=timezone.now() - schedules.OVERDUE - timedelta(minutes=1)
    )
    assert not card().up_to_date  # beat has not run it: behind schedule
