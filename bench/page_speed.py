"""The web run: the grid and the Manage drawer under 1, 10 and 50 closed-loop clients, at two
months and (with --full) two years of orders imported.

Served by the Procfile's web line (bench/web.py), DEBUG off, static files collected by its
release line; Celery workers running, as in production. The orders come in through Sync Range
run by the workers, as staff would start it: the last two months first (measured), then, with
--full, the rest of the two years (measured again). The product keeps figures when imports
commit, so nothing is written around the importer. Staff (bench/staff.py) log in through the
login form, connect Google, and start rounds of Catalog sync and Sync Today, which leave jobs
and activity for the drawer to list.

Each endpoint is loaded for `--web-seconds` (bench/load.py) at each number of clients: the grid
and the drawer (judged), and the drawer's load-triggered fragments (informational, at 10
clients). The queries each request makes are counted in this process (Django's test client
and CaptureQueriesContext on the bench database, with the web process's settings), at each
volume. Import after `django.setup()`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from integrations.jobs import triggers
from integrations.models import IntegrationEvent, SyncJob
from sous.sales.models import Order

from . import load, report
from .environment import cpu_seconds, free_port, machine_busy_seconds, workers
from .measure import clear_sales
from .staff import Staff, connect_google, history, load_triggered, log_in, wait_idle
from .web import serve

CLIENTS = (1, 10, 50)
TARGET_CLIENTS = 10  # the "p95 under 100 ms at 10 concurrent clients"
P95_TARGET_MS = 100
HISTORY_ROUNDS = 12  # rounds of Catalog sync + Sync Today: two jobs and two events each
WORKERS = 2  # as the Procfile worker's concurrency on two cores
IMPORT_TIMEOUT_S = 900
PROCESS = "process "  # CPU meter names of the web's processes, one each


@dataclass
class Endpoint:
    name: str
    path: str
    judged: bool  # the grid and the drawer; the fragments are informational
    htmx: bool  # loaded by htmx (sent with its header), not as a whole page


@dataclass
class Row:
    endpoint: Endpoint
    load: load.Load
    queries: int | None


@dataclass
class Volume:
    label: str  # "2 months", "2 years"
    orders: int
    first: date
    last: date
    queries: dict[str, int] = field(default_factory=dict)  # endpoint → steady state
    first_queries: dict[str, int] = field(default_factory=dict)  # endpoint → first request
    rows: list[Row] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)


def run(
    config,
    env: dict,
    *,
    start: date,
    end: date,
    recent: tuple[date, date],
    imported: tuple[date, date] | None,
    seconds: float,
    clients: tuple[int, ...] = CLIENTS,
) -> list[Volume]:
    """Measure at `recent` (the last two months), then at `start`…`end` when it is longer.
    `imported`: the range whose orders the database already holds (the sales runs'), if any."""
    volumes = []
    with workers(WORKERS, env), serve(free_port(), env) as web:
        if imported != recent:
            print(f"… web: importing {recent[0]} → {recent[1]} (Sync Range, workers)", flush=True)
            clear_sales()
            sync_range(config, *recent)
        print("… web: staff log in, connect Google, start jobs", flush=True)
        began = time.monotonic()
        staff = log_in(web.url, config.organization)
        connect_google(staff, web.url)
        jobs = history(staff, web.url, config, HISTORY_ROUNDS)
        print(
            f"  {jobs} jobs, {events(config)} activity events ({time.monotonic() - began:.0f} s)",
            flush=True,
        )
        volumes.append(measure(web, staff, recent, seconds, clients))
        if start < recent[0]:
            earlier = (start, recent[0] - timedelta(days=1))
            print(f"… web: importing {earlier[0]} → {earlier[1]}", flush=True)
            sync_range(config, *earlier)
            volumes.append(measure(web, staff, (start, end), seconds, clients))
    return volumes


def events(config) -> int:
    return IntegrationEvent.objects.filter(organization=config.organization).count()


def sync_range(config, first: date, last: date) -> None:
    """Sync Range as staff start it, run by the workers to the end."""
    began = time.monotonic()
    params = {"mode": "range", "start": first.isoformat(), "end": last.isoformat()}
    job, _ = triggers.request(
        config, "sales", params, trigger=SyncJob.Trigger.COMMAND, detail="make bench"
    )
    wait_idle(config, IMPORT_TIMEOUT_S)
    job.refresh_from_db()
    if job.status != SyncJob.Status.SUCCEEDED:
        raise RuntimeError(f"Sync Range {first} → {last}: {job.status} {job.error}")
    print(f"  {job.summary} ({time.monotonic() - began:.0f} s)", flush=True)


def endpoints(staff: Staff) -> list[Endpoint]:
    """The grid, the Square drawer, and what the drawer loads as soon as it shows."""
    grid = Endpoint("grid", reverse("integrations:index"), judged=True, htmx=False)
    drawer = Endpoint(
        "drawer (Square)", reverse("integrations:manage", args=["square"]), True, True
    )
    response = in_process(staff).get(drawer.path, headers={"HX-Request": "true"})
    if response.status_code != 200:
        raise RuntimeError(f"the drawer answered {response.status_code}")
    fragments = []
    for url in load_triggered(response.content.decode()):
        match = resolve(url.split("?", 1)[0])
        what = " ".join([match.url_name, *match.kwargs.get("name", "").split()]).strip()
        fragments.append(Endpoint(f"drawer › {what}", url, judged=False, htmx=True))
    return [grid, drawer, *fragments]


def in_process(staff: Staff) -> Client:
    """Django's test client in this process, as the logged-in staff member (same session)."""
    client = Client(HTTP_HOST="localhost")
    client.cookies[settings.SESSION_COOKIE_NAME] = staff.cookies[settings.SESSION_COOKIE_NAME]
    return client


def count_queries(staff: Staff, endpoint: Endpoint, times: int = 3) -> list[int]:
    """Queries of `times` requests in a row (the first may fill caches the next ones read)."""
    client = in_process(staff)
    headers = {"HX-Request": "true"} if endpoint.htmx else {}
    counts = []
    for _ in range(times):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(endpoint.path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{endpoint.name} answered {response.status_code} in process")
        counts.append(len(captured.captured_queries))
    return counts


def span_words(first: date, last: date) -> str:
    """ "2 months", "2 years": how long a range of days is, roughly."""
    days = (last - first).days + 1
    if days >= 700:
        return f"{round(days / 365.25)} years"
    months = max(1, round(days / 30.44))
    return f"{months} month{'s' if months > 1 else ''}"


def measure(web, staff: Staff, span: tuple[date, date], seconds: float, clients) -> Volume:
    volume = Volume(span_words(*span), Order.objects.count(), *span)
    print(f"… web: {volume.label}, {volume.orders:,} orders", flush=True)
    found = endpoints(staff)
    for endpoint in found:
        counts = count_queries(staff, endpoint)
        volume.first_queries[endpoint.name] = counts[0]
        volume.queries[endpoint.name] = counts[-1]
    meters = {"web": web.cpu, "machine": machine_busy_seconds}
    judged = [e for e in found if e.judged]
    plan = [(n, e) for n in clients for e in judged]
    plan += [(min(TARGET_CLIENTS, max(clients)), e) for e in found if not e.judged]
    for n, endpoint in plan:
        print(f"  {endpoint.name}, {n} client(s), {seconds:.0f} s", flush=True)
        # Each process too: keep-alive connections stay with the worker that accepted them,
        # so an uneven split shows here rather than as a mystery in the totals.
        each = {f"{PROCESS}{pid}": partial(cpu_seconds, pid) for pid in web.pids()}
        result = load.run(
            f"{web.url}{endpoint.path}",
            clients=n,
            seconds=seconds,
            warm_up=min(2.0, seconds / 5),
            headers=staff.headers(htmx=endpoint.htmx),
            meters={**meters, **each},
        )
        volume.rows.append(Row(endpoint, result, volume.queries[endpoint.name]))
    volume.server_errors = web.errors()
    return volume


# --- the table and the verdicts ----------------------------------------------------------------


def _ms(values, p: float) -> str:
    value = report.percentile(values, p)
    return "–" if value is None else f"{value:,.0f}"


def _busy_processes(cpu: dict[str, float]) -> str:
    """The web's processes that worked (1 % of a core or more), busiest first: "61 + 35 %"."""
    shares = sorted(
        (v for k, v in cpu.items() if k.startswith(PROCESS) and v >= 0.01), reverse=True
    )
    return " + ".join(f"{v * 100:.0f}" for v in shares) + " %" if shares else "–"


def table(volume: Volume) -> str:
    head = (
        f"web, {volume.label} ({volume.first} → {volume.last}, {volume.orders:,} orders)",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "queries/req",
        "CPU: web / clients / machine",
        "web processes",
    )
    rows = [
        (
            r.endpoint.name,
            f"{r.load.clients}",
            f"{r.load.requests:,}",
            f"{r.load.per_s:,.1f}",
            _ms(r.load.latencies_ms, 50),
            _ms(r.load.latencies_ms, 95),
            _ms(r.load.latencies_ms, 99),
            f"{r.load.errors:,}",
            "–" if r.queries is None else f"{r.queries}",
            " / ".join(
                f"{r.load.cpu.get(k, 0) * 100:.0f}%" for k in ("web", "generator", "machine")
            ),
            _busy_processes(r.load.cpu),
        )
        for r in volume.rows
    ]
    notes = [
        "Closed loop: each client sends its next request when the last one is answered. "
        "CPU in % of one core over the run: the web process (all its processes), the clients "
        "(this process), the whole machine; then each web process that worked (a keep-alive "
        "connection stays with the process that accepted it). Queries: the same request in "
        "this process, after a first one.",
    ]
    for name, first in volume.first_queries.items():
        if first != volume.queries[name]:
            notes.append(f"- {name}: {first} queries on the first request")
    for r in volume.rows:
        for sample in r.load.error_samples:
            notes.append(f"- {r.endpoint.name}, {r.load.clients} client(s): {sample}")
    return "\n".join([report.markdown(head, rows), "", *notes])


def verdicts(volumes: list[Volume]) -> str:
    lines = []
    for volume in volumes:
        for r in volume.rows:
            if r.endpoint.judged and r.load.clients == TARGET_CLIENTS:
                p95 = report.percentile(r.load.latencies_ms, 95) or 0
                ok = p95 < P95_TARGET_MS and not r.load.errors
                lines.append(
                    f"{'✔' if ok else '✖'} {r.endpoint.name} p95 under {P95_TARGET_MS} ms at "
                    f"{TARGET_CLIENTS} clients, {volume.label}: {p95:,.0f} ms"
                )
    name = "drawer (Square)"
    counts = [(v.label, v.queries.get(name)) for v in volumes]
    said = ", ".join(f"{n} at {label}" for label, n in counts)
    if len(volumes) > 1:
        same = len({n for _, n in counts}) == 1
        lines.append(f"{'✔' if same else '✖'} drawer queries independent of the data: {said}")
    else:
        lines.append(f"– drawer queries: {said} (--full compares two months with two years)")
    requests = sum(r.load.requests for v in volumes for r in v.rows)
    errors = sum(r.load.errors for v in volumes for r in v.rows)
    logged = len(volumes[-1].server_errors)  # the log is the run's, read after each volume
    lines.append(
        f"{'✔' if not errors and not logged else '✖'} no errors: {errors:,} of {requests:,} "
        f"requests; {logged} error lines in the web process's log"
    )
    for line in volumes[-1].server_errors[:5]:
        lines.append(f"  {line[:200]}")
    return "\n".join(lines)
