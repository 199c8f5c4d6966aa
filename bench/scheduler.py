"""The scheduler run: one beat tick over ten thousand connections' schedules.

Every connection is a Square one with one location (New York) and its two default schedules
(catalog hourly, sales nightly), planned as the cadences plan them from a moment long enough
ago that each has exactly one run due now: twenty thousand due runs. Measured twice: one
tick alone, then (after a reset) two ticks at once, as two beat processes would; each must
dispatch every due run exactly once. No worker runs the jobs: the queue is purged after.
Import after `django.setup()`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, connections
from django.utils import timezone

from integrations.jobs import schedules
from integrations.jobs.dispatch import RUN_JOB
from integrations.models import IntegrationConfig, Schedule, SyncJob
from sous.celery import app
from sous.orgs.models import Organization

from . import report

LOCATION = {"L-NY": {"name": "SoHo", "timezone": "America/New_York"}}


@dataclass
class TickResult:
    name: str
    connections: int
    due: int
    dispatched: int
    seconds: float
    queries: int
    exactly_once: bool

    @property
    def runs_per_s(self) -> float:
        return self.dispatched / self.seconds if self.seconds else 0.0


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def seed(count: int) -> tuple[int, float]:
    """`count` organisations, each connected to Square; their schedules made as the first tick
    after an upgrade makes them (install_missing). Returns (schedules, seconds to install)."""
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Bench {n}", slug=f"bench-sched-{n}") for n in range(count)
    )
    IntegrationConfig.objects.bulk_create(
        IntegrationConfig(
            organization=org,
            provider="square",
            external_account_id=f"M-{org.pk}",
            account_name=org.name,
            settings={"locations": LOCATION, "cutoffs": {}, "excluded_locations": []},
        )
        for org in orgs
    )
    started = time.perf_counter()
    while schedules.install_missing():
        pass
    return Schedule.objects.count(), time.perf_counter() - started


def make_all_due() -> int:
    """Plan every schedule from a moment such that exactly one of its runs is due now."""
    now = timezone.now()
    SyncJob.objects.all().delete()
    batch = []
    for schedule in Schedule.objects.select_related("config").iterator(chunk_size=2000):
        back = timedelta(hours=1) if schedule.action == "catalog" else timedelta(days=1)
        schedules.plan(schedule, schedule.config, after=now - back)
        schedule.last_job = None
        batch.append(schedule)
    Schedule.objects.bulk_update(batch, [*schedules.PLANNED, "last_job"], batch_size=2000)
    return Schedule.objects.filter(enabled=True, next_run_at__lte=timezone.now()).count()


def _exactly_once(due: int) -> bool:
    jobs = SyncJob.objects.filter(trigger=SyncJob.Trigger.SCHEDULE).count()
    per_schedule = Schedule.objects.exclude(last_job=None).count()
    return jobs == due == per_schedule


def one_tick(count: int, due: int) -> TickResult:
    counter = _Counter()
    now = timezone.now()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = schedules.tick(now)
    seconds = time.perf_counter() - started
    # A tick for the same minute again (a beat restarted mid-tick) finds nothing left to run.
    exact = _exactly_once(due) and schedules.tick(now).dispatched == 0
    return TickResult("one tick", count, due, result.dispatched, seconds, counter.count, exact)


def two_ticks(count: int, due: int) -> TickResult:
    barrier = threading.Barrier(2)
    results, counters = [], []

    def beat():
        counter = _Counter()
        counters.append(counter)
        barrier.wait()
        try:
            with connection.execute_wrapper(counter):
                results.append(schedules.tick(now))
        finally:
            connections.close_all()

    now = timezone.now()
    threads = [threading.Thread(target=beat) for _ in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    dispatched = sum(r.dispatched for r in results)
    exact = _exactly_once(due) and dispatched == due
    return TickResult(
        "two ticks at once", count, due, dispatched, seconds, sum(c.count for c in counters), exact
    )


def purge_queue() -> None:
    """The dispatched jobs' tasks: nobody runs them here."""
    route = app.amqp.router.route({}, RUN_JOB)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(route["queue"].name)


def run(count: int) -> list[TickResult]:
    installed, install_seconds = seed(count)
    print(f"… {installed:,} schedules made in {install_seconds:.1f} s", flush=True)
    results = []
    for measure in (one_tick, two_ticks):
        due = make_all_due()
        print(f"… {measure.__name__.replace('_', ' ')}: {due:,} runs due", flush=True)
        results.append(measure(count, due))
        purge_queue()
    return results


def table(results: list[TickResult]) -> str:
    head = (
        "scheduler",
        "connections",
        "due",
        "dispatched",
        "seconds",
        "runs/s",
        "queries",
        "queries/run",
        "each run once",
    )
    rows = [
        (
            r.name,
            f"{r.connections:,}",
            f"{r.due:,}",
            f"{r.dispatched:,}",
            f"{r.seconds:.1f}",
            f"{r.runs_per_s:,.0f}",
            f"{r.queries:,}",
            f"{r.queries / r.dispatched:.1f}" if r.dispatched else "–",
            "yes" if r.exactly_once else "NO",
        )
        for r in results
    ]
    return report.markdown(head, rows)
