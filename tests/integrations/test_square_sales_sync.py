"""Sync Sales against the local Square: exact per location and business day, idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum

from integrations.models import SyncJob
from providers.square.business_day import BusinessClock
from sous.sales.models import Order, OrderLineItem
from sous.sales.signals import orders_imported
from tests.integrations.square_sync import (
    expected,
    imported,
    local_date_days_ago,
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)

pytestmark = pytest.mark.django_db


def test_a_range_holds_exactly_what_square_holds_with_days_far_past_one_page(
    square_config, product_on_sandbox, merchant, org, django_capture_on_commit_callbacks
):
    # 1,500 orders a location a day: a single SearchOrders page holds 1,000, and an importer
    # that stops at the first page (or at Square's default 500) comes up short.
    resize(product_on_sandbox, orders_per_day=1500)
    first, last = local_date_days_ago(9), local_date_days_ago(8)
    sent = []
    orders_imported.connect(lambda **kw: sent.extend(kw["order_ids"]), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = run_inline(
                start(square_config, "sales", {"start": first.isoformat(), "end": last.isoformat()})
            )
    finally:
        orders_imported.disconnect(dispatch_uid="t")

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    total = 0
    for location in merchant["locations"]:
        for day in (first, last):
            want = expected(product_on_sandbox, location, day, day)
            got = imported(org, location, day, day)
            assert want["count"] > 1000
            assert got["count"] == want["count"], (location["name"], day)
            assert got["total"] == want["total"], (location["name"], day)
            assert got["ids"] == want["ids"]
            total += want["count"]
    assert Order.objects.filter(organization=org).count() == total
    assert job.summary == f"Sales synced: {total:,} orders ({total:,} new, 0 changed)"
    assert sorted(sent) == sorted(Order.objects.values_list("pk", flat=True))

    # Lines match their orders: every order has its lines, amounts add up per line.
    sample = Order.objects.filter(organization=org).order_by("external_id").first()
    square = product_on_sandbox.control("GET", f"square/orders/{sample.external_id}")["order"]
    lines = list(sample.line_items.order_by("id"))
    assert [(li.uid, li.name, str(li.quantity.normalize()), li.total_money) for li in lines] == [
        (li["uid"], li["name"], li["quantity"], li["total_money"]["amount"])
        for li in square["line_items"]
    ]
    assert sample.total_tax_money == square["total_tax_money"]["amount"]
    assert sample.total_tip_money == square["total_tip_money"]["amount"]
    assert sample.version == square["version"]
    assert sample.state == "COMPLETED" and sample.closed_at is not None
    with_modifiers = OrderLineItem.objects.exclude(modifiers=[]).first()
    assert with_modifiers.modifiers[0]["name"] and with_modifiers.modifiers[0]["catalog_object_id"]
    assert not Order.objects.annotate(n=Sum("line_items__id")).filter(n__isnull=True).exists()

    # Re-syncing the same range writes nothing and duplicates nothing.
    lines_before = OrderLineItem.objects.count()
    again = run_inline(
        start(square_config, "sales", {"start": first.isoformat(), "end": last.isoformat()})
    )
    assert again.status == SyncJob.Status.SUCCEEDED
    assert again.counts["created"] == again.counts["updated"] == 0
    assert again.counts["unchanged"] == total
    assert Order.objects.count() == total
    assert OrderLineItem.objects.count() == lines_before


def test_changed_orders_are_picked_up_by_a_re_sync(
    square_config, product_on_sandbox, merchant, org
):
    resize(product_on_sandbox, orders_per_day=40)
    day = local_date_days_ago(5)
    params = {"start": day.isoformat(), "end": day.isoformat()}
    run_inline(start(square_config, "sales", params))
    order = Order.objects.filter(organization=org).order_by("external_id").first()
    lines = order.line_items.count()

    changed = product_on_sandbox.control(
        "PATCH", f"square/orders/{order.external_id}", json={"state": "CANCELED"}
    )["order"]
    job = run_inline(start(square_config, "sales", params))

    order.refresh_from_db()
    assert job.counts["updated"] == 1
    assert (order.version, order.state) == (changed["version"], "CANCELED")
    assert order.line_items.count() == lines
    # Cancelled orders count on the day they were opened: still this one.
    assert order.business_date == day


def test_a_location_s_own_time_zone_and_cutoff_decide_the_business_day(
    square_config, product_on_sandbox, merchant, org
):
    resize(product_on_sandbox, orders_per_day=0)
    locations = {loc["timezone"]: loc for loc in merchant["locations"]}
    new_york, los_angeles = locations["America/New_York"], locations["America/Los_Angeles"]
    day = local_date_days_ago(6)
    after = day + timedelta(days=1)

    def add(location, local_time):
        body = {"location_id": location["id"], "local_time": local_time, "state": "COMPLETED"}
        return product_on_sandbox.control("POST", "square/orders", json=body)["order"]

    # 23:30 in Los Angeles is the next day in UTC: it still belongs to the local day.
    late_dinner = add(los_angeles, f"{day}T23:10:00")  # closes 20 minutes later, at 23:30
    # With a 04:00 cutoff, 01:30 on Saturday is Friday's business day; 04:30 is Saturday's.
    bar_night = add(new_york, f"{after}T01:10:00")
    next_morning = add(new_york, f"{after}T04:10:00")
    square_config.settings = {"cutoffs": {new_york["id"]: "04:00"}}
    square_config.save()

    run_inline(start(square_config, "sales", {"start": day.isoformat(), "end": day.isoformat()}))

    dates = dict(Order.objects.values_list("external_id", "business_date"))
    assert dates == {late_dinner["id"]: day, bar_night["id"]: day}
    run_inline(
        start(square_config, "sales", {"start": after.isoformat(), "end": after.isoformat()})
    )
    assert Order.objects.get(external_id=next_morning["id"]).business_date == after
    assert Order.objects.count() == 3

    # Without the cutoff, 01:30 belongs to the calendar day it happened on: re-syncing that
    # day files the unchanged order under it (a re-dating, not a new version).
    square_config.settings = {}
    square_config.save()
    job = run_inline(
        start(square_config, "sales", {"start": after.isoformat(), "end": after.isoformat()})
    )
    assert job.status == SyncJob.Status.SUCCEEDED
    assert (job.counts["updated"], job.counts["unchanged"]) == (1, 1)
    assert Order.objects.get(external_id=bar_night["id"]).business_date == after


def test_sync_today_reads_each_location_s_day_then_late_orders(
    square_config, product_on_sandbox, merchant, org
):
    resize(product_on_sandbox, orders_per_day=0)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    placed = {}
    for location in merchant["locations"]:
        created = (now - timedelta(minutes=3)).isoformat()
        body = {"location_id": location["id"], "created_at": created, "state": "OPEN"}
        placed[location["id"]] = product_on_sandbox.control("POST", "square/orders", json=body)[
            "order"
        ]

    first = run_inline(start(square_config, "sales", {"mode": "today"}))

    assert first.status == SyncJob.Status.SUCCEEDED, first.error_detail
    assert first.summary == "Sales synced: 3 orders (3 new, 0 changed)"
    for location in merchant["locations"]:
        order = Order.objects.get(external_id=placed[location["id"]]["id"])
        clock = BusinessClock(location["timezone"])
        assert order.state == "OPEN"
        assert order.business_date == clock.date_of(order.created_at)
    square_config.refresh_from_db()
    cursor = square_config.cursors["square.sales"]["updated_since"]
    assert cursor < first.started_at.isoformat().replace("+00:00", "Z")

    # An offline order from two days ago reaches Square now (its update is new, its times
    # are old), and one of today's orders is closed.
    los_angeles = next(
        loc for loc in merchant["locations"] if loc["timezone"] == "America/Los_Angeles"
    )
    two_days_ago = local_date_days_ago(2)
    late = product_on_sandbox.control(
        "POST",
        "square/orders",
        json={"location_id": los_angeles["id"], "local_time": f"{two_days_ago}T12:00:00"},
    )["order"]
    product_on_sandbox.control("PATCH", f"square/orders/{late['id']}", json={"ticket_name": "T9"})
    closed = placed[los_angeles["id"]]["id"]
    product_on_sandbox.control("PATCH", f"square/orders/{closed}", json={"state": "COMPLETED"})

    second = run_inline(start(square_config, "sales", {"mode": "today"}))

    assert second.status == SyncJob.Status.SUCCEEDED, second.error_detail
    assert Order.objects.get(external_id=late["id"]).business_date == two_days_ago
    assert Order.objects.get(external_id=closed).state == "COMPLETED"
    assert Order.objects.count() == 4
    assert second.counts["created"] == 1 and second.counts["updated"] == 1


def test_only_chosen_locations_are_read_ten_to_a_query(
    square_config, product_on_sandbox, org, merchant
):
    resize(product_on_sandbox, locations=12, orders_per_day=15)
    locations = product_on_sandbox.control("GET", "square/merchants")["merchants"][0]["locations"]
    skipped = locations[3]["id"]
    square_config.settings = {"excluded_locations": [skipped]}
    square_config.save()
    day = local_date_days_ago(3)

    job = run_inline(start(square_config, "sales", {"start": str(day), "end": str(day)}))

    # SearchOrders refuses more than ten location ids, so success means batches of ten.
    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    seen = set(Order.objects.values_list("location_external_id", flat=True))
    assert seen == {loc["id"] for loc in locations} - {skipped}
    for location in locations:
        if location["id"] != skipped:
            assert (
                imported(org, location, day, day)["count"]
                == expected(product_on_sandbox, location, day, day)["count"]
            )
