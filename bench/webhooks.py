"""The webhook run: a burst of order changes in Square, delivered by the sandbox to Sous's
endpoint (the Procfile's web line, as in production), imported by Celery workers.

Set up, untimed: one Square connection, `orders` completed orders of the last two days
imported through an orders job (so the burst updates rows that exist), the sandbox
subscribed to the endpoint for order events, and a short warm-up burst (the web process's and
the workers' first requests load code and open connections). Then `changes` changes, `rate` a
second, over those orders in turn (bench/burst.py), and what they cost:

- answer time: each delivery attempt's `duration_ms`, as the sandbox measured it, from
  sending to the answer (a new connection each time, as Square's senders make);
- events stored a second: the stored notifications over the span they were received in;
- jobs and Square calls: the `square.orders` jobs made, BatchRetrieveOrders and all calls
  (the sandbox's counters);
- change to row: from the order's `updated_at` in the sandbox to the first read of its row
  at that version (or newer) in PostgreSQL, read every 50 ms; and where that time goes.

Import after `django.setup()`.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Max, Min
from django.utils import timezone

from integrations.jobs import triggers
from integrations.models import SyncJob, WebhookEvent
from sous.sales.models import Order

from . import report
from .burst import RowWatch, change_orders
from .connection import connect
from .environment import cpu_seconds, free_port, machine_busy_seconds, workers
from .report import percentile
from .web import WEBHOOK_PATH, serve

# Order events only: the sandbox's clock also publishes the payments of orders completing
# now (providers/square/sandbox/live.py), which are not part of the burst.
EVENT_TYPES = ["order.created", "order.updated", "order.fulfillment.updated"]
# Square sends a burst from many machines at once; the sandbox sends one delivery at a time
# per subscription unless told otherwise, which would cap the rate at 1 / answer time.
ATTEMPTS_AT_ONCE = 16
WARM_UP_CHANGES = 50
ROWS_TIMEOUT_S = 120  # after the last change, for every row to show
ANSWER_TARGET_MS = 50
CHANGE_TO_ROW_TARGET_MS = 2000


@dataclass
class WebhookResult:
    name: str
    changes: int
    orders: int
    made_per_s: float  # changes the bench made a second
    delivered_per_s: float  # first delivery attempts the sandbox sent a second
    answer_ms: list[int]  # every attempt's answer time
    failed_attempts: int  # not 2xx in time (the sandbox retries them)
    stored: int
    stored_per_s: float
    jobs: int
    batch_calls: int  # BatchRetrieveOrders
    api_calls: int  # every Square API call
    change_to_row_ms: list[int]
    unseen: int  # changes whose row never showed within ROWS_TIMEOUT_S
    stages: dict[str, list[int]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # share of one core, over the burst
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU time per change


def environment() -> tuple[int, str, str]:
    """A port for the web process, and the signature key and notification URL both the sandbox's
    subscription and Sous's settings name (set here for the processes started after)."""
    port = free_port()
    key = secrets.token_urlsafe(16)
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    os.environ.update(SQUARE_WEBHOOK_SIGNATURE_KEYS=key, SQUARE_WEBHOOK_URL=url)
    return port, key, url


def recent_orders(sandbox, count: int) -> list[str]:
    """`count` orders completed in the last two days, taken from each location in turn."""
    end = datetime.now(UTC) - timedelta(minutes=10)
    start = end - timedelta(days=2)
    merchant = sandbox.control("GET", "square/merchants")["merchants"][0]
    per_location = [
        sandbox.control(
            "GET",
            "square/ground-truth",
            params={
                "location_id": location["id"],
                "start": start.isoformat(),
                "end": end.isoformat(),
                "states": "COMPLETED",
                "ids": "1",
            },
        )["order_ids"]
        for location in merchant["locations"]
    ]
    mixed = [i for row in zip(*per_location, strict=False) for i in row]
    if len(mixed) < count:
        raise RuntimeError(f"the sandbox has {len(mixed)} recent orders, not {count}")
    return mixed[:count]


def wait_idle(config, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while SyncJob.objects.filter(config=config, status__in=SyncJob.ACTIVE).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the bench's jobs did not finish")
        time.sleep(0.2)


def import_orders(config, order_ids: list[str]) -> None:
    job, _ = triggers.request(
        config,
        "orders",
        {"order_ids": order_ids},
        trigger=SyncJob.Trigger.COMMAND,
        detail="make bench",
    )
    wait_idle(config)
    job.refresh_from_db()
    stored = Order.objects.filter(external_id__in=order_ids).count()
    if job.status != SyncJob.Status.SUCCEEDED or stored != len(order_ids):
        raise RuntimeError(f"importing the orders: {job.status} {job.error}, {stored} stored")


def run(
    sandbox, db_url: str, *, changes: int, orders: int, rate: float, workers_count: int
) -> WebhookResult:
    port, key, url = environment()
    env = dict(os.environ)
    config = connect(sandbox)
    order_ids = recent_orders(sandbox, orders)
    watch = RowWatch(db_url, config.organization_id)
    with workers(workers_count, env) as worker_pids, serve(port, env) as web:
        print(f"… importing {orders} orders, subscribing, warming up", flush=True)
        import_orders(config, order_ids)
        sandbox.knobs(webhook_concurrency=ATTEMPTS_AT_ONCE)
        sandbox.control(
            "POST",
            "square/webhooks",
            json={"notification_url": url, "signature_key": key, "event_types": EVENT_TYPES},
        )
        watch.start()
        try:
            change_orders(sandbox.url, order_ids, WARM_UP_CHANGES, 50, watch)
            if not watch.wait(ROWS_TIMEOUT_S):
                raise RuntimeError("the warm-up's changes never reached PostgreSQL")
            watch.take_seen()
            wait_idle(config)

            print(f"… {changes:,} changes over {orders} orders, {rate:.0f} a second", flush=True)
            pids = {"sandbox": [sandbox.process.pid], "web": web.pids(), "workers": worker_pids}
            cpu_before = {name: sum(map(cpu_seconds, p)) for name, p in pids.items()}
            machine_before, own_before = machine_busy_seconds(), time.process_time()
            calls_before = sandbox.control("GET", "counters")
            began_wall, began = timezone.now(), time.monotonic()
            sent = change_orders(sandbox.url, order_ids, changes, rate, watch)
            all_seen = watch.wait(ROWS_TIMEOUT_S)
            seconds = time.monotonic() - began
            used = {name: sum(map(cpu_seconds, p)) - cpu_before[name] for name, p in pids.items()}
            used["bench"] = time.process_time() - own_before  # the senders and the watch
            used["machine"] = machine_busy_seconds() - machine_before
            seen = watch.take_seen()
        finally:
            watch.stop()
        sandbox.control("POST", "square/webhooks/flush", json={"timeout": 30})
        wait_idle(config)
    calls = sandbox.control("GET", "counters")
    deliveries = sandbox.control("GET", "square/webhooks/deliveries")["deliveries"]
    result = _result(config, sent, seen, began_wall, deliveries, calls_before, calls)
    result.unseen = 0 if all_seen else changes - len(seen)
    result.cpu = {name: spent / seconds for name, spent in used.items()}
    result.cpu_ms = {name: spent * 1000 / changes for name, spent in used.items()}
    return result


def _delta(after: dict, before: dict, name: str) -> int:
    return after.get(name, 0) - before.get(name, 0)


def _result(config, sent, seen, began_wall, deliveries, calls_before, calls) -> WebhookResult:
    answers, failed, firsts = _attempts(deliveries, began_wall)
    events = WebhookEvent.objects.filter(received_at__gte=began_wall, event_type__in=EVENT_TYPES)
    span = events.aggregate(first=Min("received_at"), last=Max("received_at"))
    stored = events.count()
    stored_seconds = (span["last"] - span["first"]).total_seconds() if stored > 1 else 0.0
    seen_at = {(c.order_id, c.version): at for c, at in seen}
    jobs = SyncJob.objects.filter(config=config, kind="square.orders", created_at__gte=began_wall)
    return WebhookResult(
        name=f"{len(sent.changes):,} order changes, {sent.rate:.0f}/s",
        changes=len(sent.changes),
        orders=len({c.order_id for c in sent.changes}),
        made_per_s=sent.rate,
        delivered_per_s=_rate(firsts),
        answer_ms=answers,
        failed_attempts=failed,
        stored=stored,
        stored_per_s=(stored - 1) / stored_seconds if stored_seconds else 0.0,
        jobs=jobs.count(),
        batch_calls=_delta(calls, calls_before, "square.orders.batch_retrieve"),
        api_calls=_delta(calls, calls_before, "square.requests"),
        change_to_row_ms=[at - c.changed_ms for c, at in seen],
        unseen=0,
        stages=_stages(events, seen_at),
    )


def _attempts(deliveries: list[dict], began_wall) -> tuple[list[int], int, list[int]]:
    """Answer times of every attempt made since `began_wall`, how many failed, and when each
    delivery's first attempt was sent (ms)."""
    since_ms = int(began_wall.timestamp() * 1000)
    answers, failed, firsts = [], 0, []
    for delivery in deliveries:
        attempts = [a for a in delivery["attempts"] if _ms(a["sent_at"]) >= since_ms]
        for attempt in attempts:
            answers.append(attempt["duration_ms"])
            failed += attempt["outcome"] != "delivered"
        if attempts and attempts[0] is delivery["attempts"][0]:
            firsts.append(_ms(attempts[0]["sent_at"]))
    return answers, failed, firsts


def _ms(rfc3339: str) -> int:
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000)


def _rate(moments_ms: list[int]) -> float:
    if len(moments_ms) < 2:
        return 0.0
    return (len(moments_ms) - 1) / ((max(moments_ms) - min(moments_ms)) / 1000)


def _stages(events, seen_at: dict[tuple[str, int], int]) -> dict[str, list[int]]:
    """Where change-to-row goes, per event: the sandbox's queue and the answer (change to
    stored), the Celery queue (stored to processed), the job (processed to row)."""
    stages: dict[str, list[int]] = {
        "change → stored": [],
        "stored → processed": [],
        "processed → row": [],
    }
    for occurred, received, processed, body in events.values_list(
        "occurred_at", "received_at", "processed_at", "body"
    ):
        stages["change → stored"].append(_between(occurred, received))
        if processed is None:
            continue
        stages["stored → processed"].append(_between(received, processed))
        data = json.loads(bytes(body))["data"]
        version = data["object"].get("order_updated", {}).get("version", 0)
        row_ms = seen_at.get((data["id"], version))
        if row_ms is not None:
            # 0 when the row had the change before its own event was processed: a job asked
            # for by an earlier event of that order read it (jobs read the order as it is now).
            stages["processed → row"].append(max(0, row_ms - int(processed.timestamp() * 1000)))
    return stages


def _between(a: datetime, b: datetime) -> int:
    return int((b - a).total_seconds() * 1000)


# --- the tables --------------------------------------------------------------------------------


def _ms_cell(values: list[int], p: float) -> str:
    value = percentile(values, p)
    return "–" if value is None else f"{value:,.0f} ms"


def table(results: list[WebhookResult]) -> str:
    head = (
        "webhooks",
        "made/s",
        "delivered/s",
        "answer median",
        "answer p99",
        "stored/s",
        "jobs",
        "BatchRetrieveOrders",
        "Square calls",
        "change → row median",
        "change → row p99",
        "CPU: sandbox / web / workers / machine",
    )
    rows = [
        (
            r.name,
            f"{r.made_per_s:.0f}",
            f"{r.delivered_per_s:.0f}",
            _ms_cell(r.answer_ms, 50),
            _ms_cell(r.answer_ms, 99),
            f"{r.stored_per_s:.0f}",
            f"{r.jobs}",
            f"{r.batch_calls}",
            f"{r.api_calls}",
            _ms_cell(r.change_to_row_ms, 50),
            _ms_cell(r.change_to_row_ms, 99),
            " / ".join(
                f"{r.cpu.get(k, 0) * 100:.0f}%" for k in ("sandbox", "web", "workers", "machine")
            ),
        )
        for r in results
    ]
    return report.markdown(head, rows)


def stages_table(results: list[WebhookResult]) -> str:
    head = ("where change → row goes", "median", "p99", "max")
    rows = [
        (stage, _ms_cell(values, 50), _ms_cell(values, 99), _ms_cell(values, 100))
        for r in results
        for stage, values in r.stages.items()
    ]
    return report.markdown(head, rows)


def verdicts(result: WebhookResult, rate: float) -> str:
    p99 = percentile(result.answer_ms, 99) or 0
    median = percentile(result.change_to_row_ms, 50) or 0
    paced = result.delivered_per_s >= 0.95 * rate
    checks = [
        (
            p99 < ANSWER_TARGET_MS and paced,
            f"p99 answer under {ANSWER_TARGET_MS} ms at {rate:.0f} events/s: {p99:.0f} ms at "
            f"{result.delivered_per_s:.0f} delivered a second",
        ),
        (
            median < CHANGE_TO_ROW_TARGET_MS and not result.unseen,
            f"change → row median under {CHANGE_TO_ROW_TARGET_MS / 1000:.0f} s: {median:,.0f} ms",
        ),
    ]
    lines = [f"{'✔' if ok else '✖'} {text}" for ok, text in checks]
    if result.failed_attempts:
        lines.append(f"  {result.failed_attempts} attempts were not answered 2xx in time")
    if result.unseen:
        lines.append(f"  {result.unseen} changes never reached PostgreSQL")
    spent = result.cpu_ms
    named = ("sandbox", "web", "workers", "bench")
    other = spent.get("machine", 0) - sum(spent.get(k, 0) for k in named)
    per_change = " / ".join(f"{spent.get(k, 0):.1f}" for k in named)
    lines.append(
        f"  CPU per change: {per_change} ms (sandbox / web / workers / this process), "
        f"{other:.1f} ms the rest of the machine (PostgreSQL, Redis, anything else running); "
        f"{spent.get('machine', 0):.1f} ms in all"
    )
    lines.append(
        f"  {result.stored:,} events stored; {result.changes:,} changes read by "
        f"{result.batch_calls} BatchRetrieveOrders calls in {result.jobs} jobs "
        f"({result.changes / max(result.batch_calls, 1):.0f} changes a call)"
    )
    return "\n".join(lines)
