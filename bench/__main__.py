"""`make bench`: how fast Sync Sales pulls a busy merchant's history, against its ceilings.

    python -m bench                 two full calendar months, 3 locations x 400 orders a day
    python -m bench --full          two years: 3 locations x 400 orders a day x 730 days
    python -m bench --months 4      any number of whole months ending with last month
    python -m bench --latency-only --latency-ms 500
                                    only the 1-vs-2 workers runs, with that sandbox latency
    python -m bench --scheduler-only --connections 10000
                                    only the scheduler run: one beat tick over that many
                                    connections' schedules (also run after the sales runs)
    python -m bench --webhooks-only --webhook-rate 200
                                    only the webhook run: 2,000 order changes in the sandbox,
                                    delivered to the endpoint (the Procfile's web line),
                                    imported by workers (also run after the sales runs)
    python -m bench --web-only [--full] [--web-seconds 10]
                                    only the web run: the grid and the drawer under 1, 10 and
                                    50 clients, at two months (and two years) of orders
                                    (also run after the sales runs, on their data)

Runs against the local Square sandbox (its own process) on PostgreSQL (a dedicated
`sous_bench` database, see bench/README.md) and prints one table. Never part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from .environment import Sandbox, configure_environment, database_url, recreate_database


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="two years (730 days)")
    parser.add_argument("--months", type=int, default=2, help="whole months (default 2)")
    parser.add_argument("--orders-per-day", type=int, default=400)
    parser.add_argument("--locations", type=int, default=3)
    parser.add_argument("--naive-sample", type=int, default=1500, help="orders (default 1500)")
    parser.add_argument("--latency-ms", type=int, default=100, help="for the scaling runs")
    parser.add_argument(
        "--skip-latency", action="store_true", help="leave out the 1-vs-2 workers latency runs"
    )
    parser.add_argument(
        "--latency-only", action="store_true", help="only the 1-vs-2 workers latency runs"
    )
    parser.add_argument(
        "--connections", type=int, default=10_000, help="for the scheduler run (default 10000)"
    )
    parser.add_argument("--skip-scheduler", action="store_true", help="leave out the scheduler run")
    parser.add_argument("--scheduler-only", action="store_true", help="only the scheduler run")
    parser.add_argument("--webhook-changes", type=int, default=2000, help="(default 2000)")
    parser.add_argument("--webhook-orders", type=int, default=500, help="(default 500)")
    parser.add_argument(
        "--webhook-rate", type=float, default=200, help="changes a second (default 200)"
    )
    parser.add_argument(
        "--webhook-workers", type=int, default=2, help="Celery worker processes (default 2)"
    )
    parser.add_argument("--skip-webhooks", action="store_true", help="leave out the webhook run")
    parser.add_argument("--webhooks-only", action="store_true", help="only the webhook run")
    parser.add_argument(
        "--web-seconds", type=float, default=10, help="per endpoint and clients (default 10)"
    )
    parser.add_argument(
        "--web-clients",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=(1, 10, 50),
        help="closed-loop clients, comma-separated (default 1,10,50)",
    )
    parser.add_argument("--skip-web", action="store_true", help="leave out the web run")
    parser.add_argument("--web-only", action="store_true", help="only the web run")
    return parser.parse_args(argv)


def date_range(args) -> tuple[date, date]:
    # The last business day that has ended everywhere (US zones): two days ago in UTC terms.
    today = datetime.now(UTC).date() - timedelta(days=2)
    if args.full:
        return today - timedelta(days=729), today
    end = today.replace(day=1) - timedelta(days=1)  # the end of last month
    start = end.replace(day=1)
    for _ in range(args.months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, end


def latency_range(start: date, end: date) -> tuple[date, date]:
    """The scaling runs use the last two whole months of the range (two chunks, two workers)."""
    first = (end.replace(day=1) - timedelta(days=1)).replace(day=1)
    return max(start, first), end


def render_cache_mb(args, start: date, end: date) -> int:
    """Room for every order of the range as served JSON (about 3.5 KB each), with a margin."""
    orders = args.locations * args.orders_per_day * ((end - start).days + 1) * 1.35
    return int(orders * 4096 / 1024 / 1024) + 64


def machine() -> str:
    cores = os.cpu_count()
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip() + ", "
                break
    except OSError:
        pass
    return f"{model}{cores} cores{memory}, Python {platform.python_version()}"


def main(argv=None) -> None:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    start, end = date_range(args)
    history = (datetime.now(UTC).date() - start).days + 3
    db_url = database_url()
    if args.scheduler_only:
        scheduler_run(args, db_url)
        return
    if args.webhooks_only:
        webhook_run(args, db_url)
        return
    if args.web_only:
        web_only_run(args, db_url, start, end, history)
        return
    print(
        f"Sous bench: {start} → {end}, {args.locations} locations × {args.orders_per_day} "
        f"orders a day; PostgreSQL {db_url.rsplit('/', 1)[-1]}; {machine()}",
        flush=True,
    )
    recreate_database(db_url)
    sandbox = Sandbox(
        days=history,
        orders_per_day=args.orders_per_day,
        locations=args.locations,
        render_cache_mb=render_cache_mb(args, start, end),
    )
    try:
        env = configure_environment(db_url, sandbox.url)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from . import measure, report
        from .connection import connect

        config = connect(sandbox)
        print("… sandbox warm-up (every page once, not timed)", flush=True)
        if args.latency_only:
            measure.warm_sandbox(config, *latency_range(start, end))
            scaling = latency_runs(args, config, env, sandbox, start, end)
            print()
            print(report.table(scaling))
            print()
            print(report.scaling_verdict(scaling))
            return
        measure.warm_sandbox(config, start, end)
        with tempfile.TemporaryDirectory(prefix="sous-bench-") as tmp:
            spool = Path(tmp) / "pages.spool"
            step = "fetch ceiling"
            print(f"… {step}", flush=True)
            fetch = measure.fetch_ceiling(config, start, end, sandbox, spool)
            print("… write ceiling", flush=True)
            write = measure.write_ceiling(config, spool)
            print("… naive importer", flush=True)
            naive = measure.naive_importer(config, spool, args.naive_sample)
        print("… end to end, 1 worker", flush=True)
        one = measure.end_to_end(
            config,
            start,
            end,
            workers_count=1,
            env=env,
            sandbox=sandbox,
            label="end to end, 1 worker",
        )
        print("… end to end, 2 workers", flush=True)
        two = measure.end_to_end(
            config,
            start,
            end,
            workers_count=2,
            env=env,
            sandbox=sandbox,
            label="end to end, 2 workers",
        )
        results = [one, two, fetch, write, naive]
        scaling = [] if args.skip_latency else latency_runs(args, config, env, sandbox, start, end)
        print()
        print(report.table(results + scaling))
        print()
        print(report.verdicts(one, two, fetch, write, naive, scaling))
        if not args.skip_web:
            # On the sales runs' data: the latency runs leave the last two months imported,
            # the end-to-end runs the whole range.
            imported = latency_range(start, end) if scaling else (start, end)
            web_run(args, config, env, start, end, imported)
    finally:
        sandbox.stop()
    if not args.skip_webhooks:
        webhook_run(args, db_url)
    if not args.skip_scheduler:
        scheduler_run(args, db_url)


def web_run(args, config, env: dict, start: date, end: date, imported) -> None:
    """The grid and the drawer under load, at the last two months and at the whole range."""
    from . import page_speed

    print(f"Web: the grid and the drawer, {machine()}", flush=True)
    volumes = page_speed.run(
        config,
        env,
        start=start,
        end=end,
        recent=latency_range(start, end),
        imported=imported,
        seconds=args.web_seconds,
        clients=args.web_clients,
    )
    for volume in volumes:
        print()
        print(page_speed.table(volume))
    print()
    print(page_speed.verdicts(volumes))


def web_only_run(args, db_url: str, start: date, end: date, history: int) -> None:
    """The web run alone: a fresh database and a sandbox of its own, the orders imported by
    the run itself (no warm-up: each order is read once)."""
    print(
        f"Sous bench, web only: {start} → {end}, {args.locations} locations × "
        f"{args.orders_per_day} orders a day; PostgreSQL {db_url.rsplit('/', 1)[-1]}",
        flush=True,
    )
    recreate_database(db_url)
    sandbox = Sandbox(
        days=history,
        orders_per_day=args.orders_per_day,
        locations=args.locations,
        render_cache_mb=64,
    )
    try:
        env = configure_environment(db_url, sandbox.url)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from .connection import connect

        web_run(args, connect(sandbox), env, start, end, imported=None)
    finally:
        sandbox.stop()


def webhook_run(args, db_url: str) -> None:
    """A burst of order changes delivered as webhooks, in a fresh database, with a sandbox
    of its own: a few days of history are all it needs."""
    print(
        f"Webhooks: {args.webhook_changes:,} order changes over {args.webhook_orders} orders, "
        f"{args.webhook_rate:.0f} a second, {args.webhook_workers} worker(s); {machine()}",
        flush=True,
    )
    sandbox = Sandbox(days=3, orders_per_day=200, locations=3, render_cache_mb=64)
    try:
        if "DJANGO_SETTINGS_MODULE" in os.environ:  # after the sales runs: Django is set up
            from django.conf import settings
            from django.db import connections

            connections.close_all()
            # The workers and the web process read it from their environment; this process, which
            # never calls the sandbox through Sous, reads settings at call time anyway.
            os.environ["PROVIDER_SANDBOX_URL"] = settings.PROVIDER_SANDBOX_URL = sandbox.url
        else:
            configure_environment(db_url, sandbox.url)
        recreate_database(db_url)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from . import webhooks

        result = webhooks.run(
            sandbox,
            db_url,
            changes=args.webhook_changes,
            orders=args.webhook_orders,
            rate=args.webhook_rate,
            workers_count=args.webhook_workers,
        )
    finally:
        sandbox.stop()
    print()
    print(webhooks.table([result]))
    print()
    print(webhooks.stages_table([result]))
    print()
    print(webhooks.verdicts(result, args.webhook_rate))


def scheduler_run(args, db_url: str) -> None:
    """Ten thousand connections' schedules, in a fresh database; no sandbox needed (a tick
    never calls a provider)."""
    print(f"Scheduler: {args.connections:,} connections, {machine()}", flush=True)
    if "DJANGO_SETTINGS_MODULE" in os.environ:  # after the sales runs: let go of their database
        from django.db import connections

        connections.close_all()
    else:
        configure_environment(db_url, "http://127.0.0.1:9")  # a tick never calls it
    recreate_database(db_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from . import scheduler

    results = scheduler.run(args.connections)
    print()
    print(scheduler.table(results))


def latency_runs(args, config, env, sandbox, start: date, end: date) -> list:
    """End to end with 1, then 2 workers, with `--latency-ms` on every sandbox request."""
    from . import measure

    sandbox.knobs(latency_ms=args.latency_ms)
    first, last = latency_range(start, end)
    runs = []
    for count in (1, 2):
        print(f"… {args.latency_ms} ms latency, {count} worker(s)", flush=True)
        runs.append(
            measure.end_to_end(
                config,
                first,
                last,
                workers_count=count,
                env=env,
                sandbox=sandbox,
                label=f"{args.latency_ms} ms latency, {count} worker(s), {first:%b}–{last:%b %Y}",
            )
        )
    sandbox.knobs(latency_ms=0)
    return runs


if __name__ == "__main__":
    main()
