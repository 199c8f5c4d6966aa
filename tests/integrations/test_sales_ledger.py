"""The completeness ledger against the local Square: totals to the cent, re-pulls, states."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from integrations.models import SyncJob
from integrations.services import apps
from integrations.services import ledger as drawer_ledger
from providers.square.business_day import BusinessClock
from sous.sales import ledger
from sous.sales.models import SalesDay
from tests.integrations.square_sync import (
    _rfc3339,
    local_date_days_ago,
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)

pytestmark = pytest.mark.django_db


def _truth(sandbox, location: dict, day) -> tuple[int, int, list[str]]:
    """Completed orders of the location's business day (closed in it), from the sandbox's walk."""
    begins, ends = BusinessClock(location["timezone"]).window(day)
    truth = sandbox.half("square").ground_truth(
        location["id"],
        _rfc3339(begins),
        _rfc3339(ends - timedelta(milliseconds=1)),
        field="closed_at",
        states=["COMPLETED"],
        with_ids=True,
    )
    return truth.count, truth.total, sorted(truth.order_ids)


def _row(org, location: dict, day) -> SalesDay:
    return SalesDay.objects.get(
        organization=org, source="square", location_external_id=location["id"], business_date=day
    )


def _state(org, location: dict, day):
    (entry,) = ledger.entries(org, "square", location["id"], day, day, now=datetime.now(UTC))
    return entry.state


def test_a_90_day_import_matches_square_to_the_cent_every_day_quiet_ones_included(
    square_config, product_on_sandbox, merchant, org
):
    resize(product_on_sandbox, orders_per_day=12)
    locations = merchant["locations"]
    first, last = local_date_days_ago(90), local_date_days_ago(1)
    job = run_inline(
        start(square_config, "sales", {"start": first.isoformat(), "end": last.isoformat()})
    )
    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail

    for location in locations:
        day = first
        while day <= last:
            count, total, _ = _truth(product_on_sandbox, location, day)
            row = _row(org, location, day)  # a row for every day read, with orders or without
            assert (row.orders, row.total) == (count, total), (location["name"], day)
            assert row.gross_sales - row.discounts == row.net_sales
            assert row.net_sales + row.tax + row.tips + row.service_charges == row.total
            assert row.last_pulled_at is not None and row.last_change is None
            day += timedelta(days=1)

    # Every figure, not just the total: the day's orders as Square returns them, one by one.
    location = locations[0]
    sample = local_date_days_ago(20)
    _, _, ids = _truth(product_on_sandbox, location, sample)
    square = [product_on_sandbox.control("GET", f"square/orders/{i}")["order"] for i in ids]

    def summed(name: str) -> int:
        return sum(order.get(name, {}).get("amount", 0) for order in square)

    row = _row(org, location, sample)
    assert row.orders == len(square) > 0
    assert row.tax == summed("total_tax_money")
    assert row.tips == summed("total_tip_money")
    assert row.discounts == summed("total_discount_money")
    assert row.service_charges == summed("total_service_charge_money")
    assert row.total == summed("total_money")
    assert row.currency == square[0]["total_money"]["currency"]

    # Read long after their 72 hours: complete. Yesterday may still gain late orders.
    assert _state(org, location, local_date_days_ago(30)) == ledger.State.COMPLETE
    assert _state(org, location, local_date_days_ago(1)) == ledger.State.LATE
    assert _state(org, location, local_date_days_ago(91)) == ledger.State.NEVER


def test_a_quiet_day_is_pulled_with_zero_orders_not_left_as_never_pulled(
    square_config, product_on_sandbox, merchant, org
):
    resize(product_on_sandbox, orders_per_day=0)
    day = local_date_days_ago(10)
    run_inline(start(square_config, "sales", {"start": day.isoformat(), "end": day.isoformat()}))

    for location in merchant["locations"]:
        row = _row(org, location, day)
        assert (row.orders, row.total, row.currency) == (0, 0, "USD")
        assert _state(org, location, day) == ledger.State.COMPLETE


def test_a_re_pulled_day_records_what_changed_after_close(
    square_config, product_on_sandbox, merchant, org
):
    resize(product_on_sandbox, orders_per_day=25)
    location, other = merchant["locations"][0], merchant["locations"][1]
    day = local_date_days_ago(12)
    params = {"start": day.isoformat(), "end": day.isoformat()}
    run_inline(start(square_config, "sales", params))
    before = _row(org, location, day)
    untouched = _row(org, other, day).last_pulled_at

    _, _, ids = _truth(product_on_sandbox, location, day)
    product_on_sandbox.control("PATCH", f"square/orders/{ids[0]}", json={"redraw_line_items": True})
    product_on_sandbox.control("PATCH", f"square/orders/{ids[1]}", json={"state": "CANCELED"})
    square_config.refresh_from_db()  # the sync remembered the locations it met
    job = run_inline(start(square_config, "sales", {**params, "location": location["id"]}))

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert job.params["locations"] == [location["id"]]
    after = _row(org, location, day)
    count, total, _ = _truth(product_on_sandbox, location, day)
    assert (after.orders, after.total) == (count, total) == (before.orders - 1, after.total)
    assert after.last_change["orders"] == [before.orders, before.orders - 1]
    assert after.last_change["total"] == [before.total, total]
    assert after.changed_after_close_at is not None and after.last_pulled_at > before.last_pulled_at
    assert _state(org, location, day) == ledger.State.CHANGED
    # One location's re-pull: the other one's day was not read again.
    assert _row(org, other, day).last_pulled_at == untouched

    # Pulled again with nothing new: still changed after close, and the re-pull says so.
    run_inline(start(square_config, "sales", {**params, "location": location["id"]}))
    again = _row(org, location, day)
    assert again.last_change == {} and _state(org, location, day) == ledger.State.CHANGED
    words = drawer_ledger.day(square_config, location["id"], day)
    assert words.change == "The last re-pull changed nothing."


def test_sync_today_leaves_the_business_day_open(square_config, product_on_sandbox, merchant, org):
    resize(product_on_sandbox, orders_per_day=200)
    job = run_inline(start(square_config, "sales", {"mode": "today"}))
    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail

    for location in merchant["locations"]:
        today = BusinessClock(location["timezone"]).today(datetime.now(UTC))
        assert _state(org, location, today) == ledger.State.OPEN
        assert _row(org, location, today).closes_at == BusinessClock(location["timezone"]).start(
            today + timedelta(days=1)
        )


def test_days_of_a_failed_sync_say_failed_until_a_sync_reads_them(
    square_config, product_on_sandbox, merchant, org
):
    resize(product_on_sandbox, orders_per_day=10)
    location = merchant["locations"][0]
    day, earlier = local_date_days_ago(15), local_date_days_ago(16)
    run_inline(start(square_config, "sales", {"start": day.isoformat(), "end": day.isoformat()}))
    product_on_sandbox.control("POST", f"square/merchants/{merchant['id']}/revoke")

    job = run_inline(
        start(square_config, "sales", {"start": earlier.isoformat(), "end": day.isoformat()})
    )

    assert job.status == SyncJob.Status.FAILED
    assert _state(org, location, day) == ledger.State.FAILED  # pulled once, then failed
    assert _state(org, location, earlier) == ledger.State.FAILED  # never read at all
    row = _row(org, location, day)
    assert row.failure == job.error and row.orders > 0  # its figures stay
    square_config.refresh_from_db()
    assert drawer_ledger.day(square_config, location["id"], earlier).label.endswith(
        f", {location['name']}: failed"
    )
    assert f"{location['name']}: failed, {row.orders} orders, $" in (
        drawer_ledger.day(square_config, location["id"], day).label
    )


def test_integrations_ledger_prints_the_same_rows(
    square_config, product_on_sandbox, merchant, org, capsys
):
    resize(product_on_sandbox, orders_per_day=8)
    location = merchant["locations"][0]
    day = local_date_days_ago(7)
    run_inline(start(square_config, "sales", {"start": day.isoformat(), "end": day.isoformat()}))
    before = day - timedelta(days=1)

    call_command(
        "integrations_ledger",
        f"--org={org.slug}",
        f"--location={location['id']}",
        f"--start={before.isoformat()}",
        f"--end={day.isoformat()}",
        "--json",
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    row = _row(org, location, day)
    assert [(r["business_date"], r["state"]) for r in lines] == [
        (before.isoformat(), "never"),
        (day.isoformat(), "complete"),
    ]
    assert lines[1]["orders"] == row.orders and lines[1]["total"] == row.total
    assert lines[1]["location"] == location["name"]

    call_command("integrations_ledger", f"--org={org.slug}", f"--start={day}", f"--end={day}")
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["LOCATION", "DAY", "STATE", "ORDERS"]
    assert len(table) == 1 + len(merchant["locations"])
    assert any(location["name"] in line and "complete" in line for line in table)

    with pytest.raises(CommandError, match="synced location"):
        call_command(
            "integrations_ledger",
            f"--org={org.slug}",
            "--location=NOPE",
            f"--start={day}",
            f"--end={day}",
        )
    with pytest.raises(CommandError, match="dates look like"):
        call_command(
            "integrations_ledger", f"--org={org.slug}", "--start=yesterday", f"--end={day}"
        )


def test_the_preview_estimates_from_pulled_days_and_measured_jobs(
    square_config, product_on_sandbox, merchant, org
):
    from integrations.services import estimates

    resize(product_on_sandbox, orders_per_day=50)
    last = local_date_days_ago(2)
    run_inline(
        start(
            square_config,
            "sales",
            {"start": (last - timedelta(days=6)).isoformat(), "end": last.isoformat()},
        )
    )
    action = apps.provider("square").action("sales")
    square_config.refresh_from_db()
    params = action.validate(
        {"mode": "range", "start": "2025-01-01", "end": "2025-12-31"},
        settings=square_config.settings,
        now=datetime.now(UTC),
    )
    preview = estimates.preview(square_config, action, params)
    n = len(merchant["locations"])
    pulled = SalesDay.objects.filter(organization=org)
    per_day = sum(row.orders for row in pulled) / pulled.count()
    assert preview.estimate.days == 365 and preview.estimate.locations == n
    assert abs(preview.estimate.orders - per_day * n * 365) <= 1
    # 12 monthly jobs: ListLocations, the open-and-cancelled query, closed orders by 1,000.
    assert preview.estimate.calls >= 12 * 3
    assert preview.words.startswith(f"12 months × {n} locations ≈ ")
    assert "API calls, ≈ " in preview.words
    assert (
        action.estimate(
            {"mode": "today"},
            settings=square_config.settings,
            now=datetime.now(UTC),
            orders_per_day={},
        )
        is None
    )
