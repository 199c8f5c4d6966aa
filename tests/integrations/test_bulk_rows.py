"""The bulk statement every importer writes through, on the database the suite runs against."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, transaction

from integrations.sync.bulk import insert_rows
from integrations.sync.sales import ORDER_COLUMNS, _order_row
from providers.records.sales import OrderRecord
from sous.sales.models import Order

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _row(org, external_id: str, total: int = 1000, source_name: str = "POS") -> tuple:
    record = OrderRecord(
        external_id=external_id,
        location_id="L1",
        version=1,
        state="COMPLETED",
        business_date=date(2026, 11, 1),
        created_at=NOW,
        updated_at=NOW,
        closed_at=NOW,
        currency="USD",
        total=total,
        source_name=source_name,
    )
    return _order_row(org.pk, "square", record, NOW)


def test_two_pages_of_one_table_in_one_transaction_are_each_written_once(org):
    with transaction.atomic():
        first = insert_rows(Order, ORDER_COLUMNS, [_row(org, "A")], returning="external_id")
        second = insert_rows(Order, ORDER_COLUMNS, [_row(org, "B")], returning="external_id")

    assert (first, second) == ([("A",)], [("B",)])
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["A", "B"]


def test_a_page_rolled_back_leaves_nothing_behind_for_the_next(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Order, ORDER_COLUMNS, [_row(org, "A"), _row(org, "A")])

    insert_rows(Order, ORDER_COLUMNS, [_row(org, "B")])

    assert list(Order.objects.values_list("external_id", flat=True)) == ["B"]


def test_awkward_text_and_the_guard_survive_the_trip(org):
    awkward = 'Tab\there, "quotes", back\\slash, new\nline, café ☕'
    insert_rows(Order, ORDER_COLUMNS, [_row(org, "A", total=1000, source_name=awkward)])

    def raise_total(total):
        return insert_rows(
            Order,
            ORDER_COLUMNS,
            [_row(org, "A", total=total)],
            conflict=["organization_id", "source", "external_id"],
            update=["total_money"],
            guard="{table}.total_money < excluded.total_money",
            returning="external_id",
        )

    updated, unchanged = raise_total(2000), raise_total(1500)

    order = Order.objects.get()
    assert (updated, unchanged) == ([("A",)], [])
    assert (order.total_money, order.source_name) == (2000, awkward)
