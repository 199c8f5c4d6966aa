"""Sales importer: neutral order records -> bulk upserts into `sous.sales`.

A page of orders (up to a thousand) is written with a fixed handful of statements whatever
its size. On PostgreSQL: the page is COPYed into a staging table and merged with one
INSERT .. ON CONFLICT DO UPDATE, whose guard skips orders already stored at that version
(RETURNING says which rows were inserted and which updated), then one DELETE of the old lines
of the updated ones (when there are any) and the new lines, COPYed and merged likewise. On
SQLite the stored versions are read first (one SELECT) and only new or newer orders are sent.
A row never goes back to an older version, re-syncing a range never duplicates anything, and
memory is one page.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from integrations.services import imported
from providers.records.sales import OrderRecord
from providers.records.tally import Tally
from sous.sales import ledger
from sous.sales.models import Order, OrderLineItem
from sous.sales.signals import orders_imported

from . import Counts
from .bulk import NEWER, insert_rows, is_newer, postgres_cursor

ORDER_VALUES = (
    "version",
    "location_external_id",
    "state",
    "source_name",
    "business_date",
    "created_at",
    "updated_at",
    "closed_at",
    "currency",
    "total_money",
    "total_tax_money",
    "total_discount_money",
    "total_tip_money",
    "total_service_charge_money",
)
ORDER_COLUMNS = (
    "organization_id",
    "source",
    "external_id",
    *ORDER_VALUES,
    "first_imported_at",
    "last_changed_at",
)
LINE_COLUMNS = (
    "order_id",
    "uid",
    "name",
    "variation_name",
    "item_type",
    "quantity",
    "catalog_object_id",
    "catalog_version",
    "currency",
    "base_price_money",
    "gross_sales_money",
    "total_discount_money",
    "total_tax_money",
    "total_money",
    "modifiers",
)


def _order_row(org_id: int, source: str, r: OrderRecord, now) -> tuple:
    return (
        org_id,
        source,
        r.external_id,
        r.version,
        r.location_id,
        r.state,
        r.source_name[:255],
        r.business_date,
        r.created_at,
        r.updated_at,
        r.closed_at,
        r.currency,
        r.total,
        r.tax,
        r.discount,
        r.tip,
        r.service_charge,
        now,
        now,
    )


def _line_rows(order_id: int, r: OrderRecord) -> list[tuple]:
    return [
        (
            order_id,
            line.uid,
            line.name[:512],
            line.variation_name[:255],
            line.item_type[:40],
            Decimal(line.quantity),
            line.catalog_object_id,
            line.catalog_version,
            r.currency,
            line.base_price,
            line.gross_sales,
            line.discount,
            line.tax,
            line.total,
            [
                {
                    "name": m.name,
                    "catalog_object_id": m.catalog_object_id,
                    "quantity": m.quantity,
                    "base_price_money": m.base_price,
                    "total_price_money": m.total_price,
                }
                for m in line.modifiers
            ],
        )
        for line in r.line_items
    ]


# A newer version, or the same one filed under another business day (staff changed a
# location's cutoff and re-synced the range).
NEWER_OR_REDATED = (
    f"{NEWER} OR ({{table}}.version = excluded.version"
    " AND {table}.updated_at = excluded.updated_at"
    " AND {table}.business_date <> excluded.business_date)"
)


def _changed(record: OrderRecord, stored: tuple | None) -> bool:
    if stored is None:
        return True
    version, updated_at, business_date = stored
    if is_newer(record.version, record.updated_at, (version, updated_at)):
        return True
    same = record.version == version and record.updated_at == updated_at
    return same and record.business_date != business_date


def import_orders(organization, source: str, records: list[OrderRecord]) -> Counts:
    now = timezone.now()
    chosen: dict[str, OrderRecord] = {}
    for r in records:  # a page may repeat an order: keep its newest version
        seen = chosen.get(r.external_id)
        if seen is None or is_newer(r.version, r.updated_at, (seen.version, seen.updated_at)):
            chosen[r.external_id] = r
    counts = Counts(totals=Tally(orders=len(chosen)))
    if not chosen:
        return counts
    with transaction.atomic():
        upsert = _upsert_postgres if connection.vendor == "postgresql" else _upsert_checked
        written = upsert(organization, source, chosen, now)
        # Orders not written were already stored at this version (or a newer one).
        counts.unchanged = len(chosen) - len(written)
        replaced = [pk for pk, _, created in written if not created]
        if replaced:
            _delete_lines(replaced)
        lines = [row for pk, ext, _ in written for row in _line_rows(pk, chosen[ext])]
        insert_rows(OrderLineItem, LINE_COLUMNS, lines, conflict=["order_id", "uid"])
        counts.created = sum(1 for *_, created in written if created)
        counts.updated = len(written) - counts.created
        counts.totals.line_items = len(lines)
        counts.totals.orders_new = counts.created
        counts.totals.orders_changed = counts.updated
        order_ids = [pk for pk, _, _ in written]
        if written:
            # The completeness ledger's figures are what the stored orders add up to.
            touched = {(chosen[e].location_id, chosen[e].business_date) for _, e, _ in written}
            ledger.refresh(organization, source, touched)
        # Last: the counter's row is shared by concurrent chunk workers.
        imported.add(organization, source, "orders", counts.created)
        if order_ids:
            transaction.on_commit(
                lambda: orders_imported.send(
                    sender=Order, organization=organization, source=source, order_ids=order_ids
                )
            )
    return counts


def _write_orders(organization, source: str, chosen: dict, external_ids, now, returning: str):
    """One upsert of these orders; the guard leaves rows stored at this version (or newer)."""
    return insert_rows(
        Order,
        ORDER_COLUMNS,
        [_order_row(organization.pk, source, chosen[ext], now) for ext in external_ids],
        conflict=["organization_id", "source", "external_id"],
        update=[*ORDER_VALUES, "last_changed_at"],
        guard=NEWER_OR_REDATED,
        returning=returning,
    )


def _upsert_postgres(organization, source: str, chosen: dict, now) -> list[tuple]:
    """One statement for the page: PostgreSQL's guard skips unchanged orders, and `xmax = 0`
    tells an inserted row from an updated one."""
    return _write_orders(organization, source, chosen, chosen, now, "id, external_id, (xmax = 0)")


def _upsert_checked(organization, source: str, chosen: dict, now) -> list[tuple]:
    """Elsewhere (SQLite): read the stored versions, then write only what is new or newer."""
    existing = {
        ext: (version, updated_at, business_date)
        for ext, version, updated_at, business_date in Order.objects.filter(
            organization=organization, source=source, external_id__in=list(chosen)
        ).values_list("external_id", "version", "updated_at", "business_date")
    }
    fresh = [ext for ext, r in chosen.items() if _changed(r, existing.get(ext))]
    returned = _write_orders(organization, source, chosen, fresh, now, "id, external_id")
    return [(pk, ext, ext not in existing) for pk, ext in returned]


def _delete_lines(order_ids: list[int]) -> None:
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(OrderLineItem._meta.db_table)
        with postgres_cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE order_id = ANY(%b)", [order_ids])  # noqa: S608
    else:
        OrderLineItem.objects.filter(order_id__in=order_ids).delete()
