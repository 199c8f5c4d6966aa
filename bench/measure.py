"""The measurements: the fetch ceiling, the write ceiling, a naive importer and end to end.

All of them read the same data: one connection, one date range, split into the same monthly
chunks the Sales action plans. Import after `django.setup()`.
"""

from __future__ import annotations

import pickle
import time
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import connection
from django.utils import timezone

from integrations.jobs import triggers
from integrations.models import ImportedCount, SyncJob
from integrations.services import apps, tokens
from integrations.sync import save_records
from providers.base import SyncRequest
from providers.records.sales import OrderRecord
from sous.sales.models import Order, OrderLineItem, SalesDay

from .environment import cpu_seconds, machine_busy_seconds, peak_rss_mb, workers


@dataclass
class Result:
    name: str
    seconds: float
    orders: int
    lines: int = 0
    pages: int = 0
    rss_mb: float | None = None
    sandbox_cpu: float | None = None  # share of one core the sandbox process used
    worker_cpu: float | None = None  # share of one core the workers (or this process) used
    machine_cpu: float | None = None  # cores the whole machine kept busy
    notes: list[str] = field(default_factory=list)

    @property
    def orders_per_s(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0

    @property
    def pages_per_s(self) -> float | None:
        return self.pages / self.seconds if self.pages and self.seconds else None

    @property
    def rows_per_s(self) -> float | None:
        return (self.orders + self.lines) / self.seconds if self.lines and self.seconds else None


def clear_sales() -> None:
    """As if no order had been imported: the orders, the ledger of their days, and the figures
    the importers keep (which a later import adds to)."""
    tables = (OrderLineItem, Order, SalesDay, ImportedCount)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(t._meta.db_table for t in tables)} RESTART IDENTITY")


def _chunks(config, start: date, end: date) -> list[dict]:
    action = apps.provider("square").action("sales")
    params = {"mode": "range", "start": start.isoformat(), "end": end.isoformat()}
    return action.plan(params, settings=config.settings, now=timezone.now())


def _fetch_chunks(config, chunks: list[dict], spool=None) -> tuple[int, float]:
    """Every page of these chunks through the Sales action, nothing written; returns the
    orders read and the seconds spent spooling (left out of the timings)."""
    provider = apps.provider("square")
    action = provider.action("sales")
    client = provider.sync_client(tokens.access_token(config))
    orders, spooled = 0, 0.0
    for chunk in chunks:
        request = SyncRequest(
            params=chunk,
            checkpoint=action.Checkpoint(),
            cursor={},
            settings=config.settings,
            now=timezone.now(),
            account_id=config.external_account_id,
        )
        for page in action.pages(client, request):
            orders += len(_orders(page.records))
            if spool is None:
                continue
            mark = time.perf_counter()
            blob = zlib.compress(pickle.dumps(page.records, protocol=5), 1)
            spool.write(len(blob).to_bytes(8, "big"))
            spool.write(blob)
            spooled += time.perf_counter() - mark
    return orders, spooled


def warm_sandbox(config, start: date, end: date) -> int:
    """Ask for every page of the range once, untimed, so the sandbox serves the measured runs
    from the orders it keeps rendered (see providers/square/sandbox/rendered.py): Square
    serves stored orders on its own machines, and rendering them from the seed would
    otherwise take the CPU this machine shares with the importer."""
    orders, _ = _fetch_chunks(config, _chunks(config, start, end))
    return orders


def fetch_ceiling(config, start: date, end: date, sandbox, spool: Path) -> Result:
    """Pages fetched and parsed into records through the Sales action, nothing written, one
    chunk after the other. The records are also spooled to disk (compressed pickles, a page
    each) for the write ceiling and the naive importer; that time is measured and left out."""
    chunks = _chunks(config, start, end)
    searches, sandbox_cpu, own_cpu = sandbox.searches(), sandbox.cpu(), time.process_time()
    machine = machine_busy_seconds()
    began = time.perf_counter()
    with spool.open("wb") as out:
        orders, spooled = _fetch_chunks(config, chunks, out)
    seconds = time.perf_counter() - began - spooled
    result = Result("fetch ceiling (fetch + parse, 1 stream)", seconds, orders)
    result.pages = sandbox.searches() - searches
    result.sandbox_cpu = (sandbox.cpu() - sandbox_cpu) / seconds
    result.worker_cpu = (time.process_time() - own_cpu - spooled) / seconds
    result.machine_cpu = (machine_busy_seconds() - machine - spooled) / seconds
    result.notes.append(f"{spooled:.1f} s of spooling to disk left out")
    return result


def _orders(records: list) -> list[OrderRecord]:
    """A page's orders: the first page also carries the locations Square listed."""
    return [r for r in records if isinstance(r, OrderRecord)]


def spooled_pages(spool: Path):
    with spool.open("rb") as source:
        while header := source.read(8):
            yield pickle.loads(zlib.decompress(source.read(int.from_bytes(header, "big"))))


def write_ceiling(config, spool: Path) -> Result:
    """The same records bulk-loaded through the importer, page by page, no fetching."""
    clear_sales()
    org = config.organization
    orders = lines = 0
    seconds = 0.0
    cpu = machine = 0.0
    for records in spooled_pages(spool):
        began, own, busy = time.perf_counter(), time.process_time(), machine_busy_seconds()
        save_records(org, "square", records)
        seconds += time.perf_counter() - began
        cpu += time.process_time() - own
        machine += machine_busy_seconds() - busy
        orders += len(_orders(records))
        lines += sum(len(r.line_items) for r in _orders(records))
    result = Result("write ceiling (bulk load, no fetch)", seconds, orders, lines)
    result.worker_cpu, result.machine_cpu = cpu / seconds, machine / seconds
    return result


def naive_importer(config, spool: Path, sample: int) -> Result:
    """One ORM save per order and per line item, as a first importer would be written:
    `update_or_create` for each order and each of its lines (so a re-run does not duplicate),
    in autocommit, on the first `sample` orders. Write only: a naive importer end to end
    (fetching too) could only be slower."""
    clear_sales()
    org = config.organization
    now = timezone.now()
    orders = lines = 0
    seconds = 0.0
    for records in spooled_pages(spool):
        began = time.perf_counter()
        for r in _orders(records)[: sample - orders]:
            order, _ = Order.objects.update_or_create(
                organization=org,
                source="square",
                external_id=r.external_id,
                defaults={
                    "version": r.version,
                    "location_external_id": r.location_id,
                    "state": r.state,
                    "source_name": r.source_name,
                    "business_date": r.business_date,
                    "created_at": r.created_at,
                    "updated_at": r.updated_at,
                    "closed_at": r.closed_at,
                    "currency": r.currency,
                    "total_money": r.total,
                    "total_tax_money": r.tax,
                    "total_discount_money": r.discount,
                    "total_tip_money": r.tip,
                    "total_service_charge_money": r.service_charge,
                    "first_imported_at": now,
                    "last_changed_at": now,
                },
            )
            for line in r.line_items:
                OrderLineItem.objects.update_or_create(
                    order=order,
                    uid=line.uid,
                    defaults={
                        "name": line.name,
                        "variation_name": line.variation_name,
                        "item_type": line.item_type,
                        "quantity": line.quantity,
                        "catalog_object_id": line.catalog_object_id,
                        "catalog_version": line.catalog_version,
                        "currency": r.currency,
                        "base_price_money": line.base_price,
                        "gross_sales_money": line.gross_sales,
                        "total_discount_money": line.discount,
                        "total_tax_money": line.tax,
                        "total_money": line.total,
                        "modifiers": [{"name": m.name} for m in line.modifiers],
                    },
                )
                lines += 1
            orders += 1
        seconds += time.perf_counter() - began
        if orders >= sample:
            break
    return Result(f"naive importer (ORM save per row, {orders:,} orders)", seconds, orders, lines)


def end_to_end(
    config, start: date, end: date, *, workers_count: int, env: dict, sandbox, label: str
) -> Result:
    """Sync Range as staff would start it, run by `workers_count` Celery worker processes."""
    clear_sales()
    SyncJob.objects.all().delete()
    with workers(workers_count, env) as pids:
        searches, sandbox_cpu = sandbox.searches(), sandbox.cpu()
        worker_cpu = sum(cpu_seconds(pid) for pid in pids)
        machine = machine_busy_seconds()
        params = {"mode": "range", "start": start.isoformat(), "end": end.isoformat()}
        began = time.perf_counter()
        job, _ = triggers.request(
            config, "sales", params, trigger=SyncJob.Trigger.COMMAND, detail="make bench"
        )
        while True:
            job.refresh_from_db()
            if not job.active:
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - began
        rss = max(peak_rss_mb(pid) for pid in pids)
        worker_cpu = (sum(cpu_seconds(pid) for pid in pids) - worker_cpu) / seconds
        sandbox_cpu = (sandbox.cpu() - sandbox_cpu) / seconds
        machine = (machine_busy_seconds() - machine) / seconds
    if job.status != SyncJob.Status.SUCCEEDED:
        raise RuntimeError(f"{label}: the sync did not succeed: {job.error} {job.error_detail}")
    result = Result(label, seconds, Order.objects.count(), OrderLineItem.objects.count())
    result.pages = sandbox.searches() - searches
    result.rss_mb = rss
    result.sandbox_cpu, result.worker_cpu = sandbox_cpu, worker_cpu
    result.machine_cpu = machine
    result.notes.append(f"{job.children.count()} chunks; {job.summary}")
    return result
