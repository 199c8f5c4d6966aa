"""The imported figures (orders, menu items, categories, modifier lists, documents) are kept as
imports commit: exact after a real import, a rerun, a redone page, deletions at the source and
a disconnect, and shown by the drawer and its disconnect dialog without counting the tables."""

from __future__ import annotations

import importlib
import io
from datetime import UTC, date, datetime

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from integrations.models import ImportedCount, SyncJob
from integrations.services import disconnect, imported
from integrations.sync import save_records
from providers.records.documents import DocumentRemoved
from providers.records.sales import OrderRecord
from sous.catalog.models import Category, Item, ModifierList
from sous.documents.models import Document
from sous.sales.models import Order
from tests.integrations.square_sync import (
    local_date_days_ago,
    merchant_fixture,  # noqa: F401
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)
from tests.integrations.test_google_import import Bytes, record
from tests.integrations.test_google_import import media as media  # noqa: F401 (autouse)

pytestmark = pytest.mark.django_db


def figures(org, source="square") -> dict[str, int]:
    return dict(imported.counts(org, source))


def catalog_in_tables(org) -> dict[str, int]:
    live = {"organization": org, "source": "square", "is_deleted": False}
    return {
        "menu items": Item.objects.filter(**live).count(),
        "categories": Category.objects.filter(**live).count(),
        "modifier lists": ModifierList.objects.filter(**live).count(),
    }


def order(external_id: str, *, version: int = 1) -> OrderRecord:
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    return OrderRecord(
        external_id=external_id,
        location_id="LOC1",
        version=version,
        state="COMPLETED",
        business_date=date(2026, 3, 2),
        created_at=at,
        updated_at=at,
        closed_at=at,
        currency="USD",
        total=1000,
    )


class Crash(Exception):
    pass


def test_orders_are_counted_as_they_are_imported_and_a_rerun_changes_nothing(
    square_config, product_on_sandbox, org
):
    first, last = local_date_days_ago(6), local_date_days_ago(5)
    range_ = {"start": str(first), "end": str(last)}
    job = run_inline(start(square_config, "sales", range_))
    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    total = Order.objects.filter(organization=org).count()
    assert total > 0
    assert figures(org)["orders"] == total

    again = run_inline(start(square_config, "sales", range_))

    assert again.status == SyncJob.Status.SUCCEEDED and again.pk != job.pk
    assert figures(org)["orders"] == total


def test_a_page_redone_after_its_transaction_failed_is_counted_once(org):
    page = [order("A"), order("B"), order("C")]
    with pytest.raises(Crash), transaction.atomic():
        save_records(org, "square", page)
        raise Crash  # the worker died before the page committed

    assert figures(org) == {}
    save_records(org, "square", page)
    save_records(org, "square", [order("B", version=2), order("D")])  # one changed, one new

    assert figures(org) == {"orders": 4} == {"orders": Order.objects.count()}


def test_the_catalog_figures_follow_deletions_at_the_source(square_config, product_on_sandbox, org):
    run_inline(start(square_config, "catalog"))
    shown, tables = figures(org), catalog_in_tables(org)
    assert {label: shown[label] for label in tables} == tables and tables["menu items"] > 0
    rows = ImportedCount.objects.filter(organization=org)
    stamps = dict(rows.values_list("label", "updated_at"))

    run_inline(start(square_config, "catalog"))  # nothing changed at Square
    assert dict(rows.values_list("label", "updated_at")) == stamps  # not even rewritten

    item = Item.objects.filter(organization=org, is_deleted=False).first()
    category = Category.objects.filter(organization=org, is_deleted=False).first()
    for external_id in (item.external_id, category.external_id):
        product_on_sandbox.control("DELETE", f"square/catalog/objects/{external_id}")
    job = run_inline(start(square_config, "catalog"))

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    after = figures(org)
    assert after["menu items"] == shown["menu items"] - 1
    assert after["categories"] == shown["categories"] - 1
    assert {k: after[k] for k in catalog_in_tables(org)} == catalog_in_tables(org)


def test_documents_are_counted_once_and_removed_ones_still_count(org):
    content = Bytes()
    with pytest.raises(Crash), transaction.atomic():
        save_records(org, "google", [record("a", content), record("b", content)])
        raise Crash
    save_records(org, "google", [record("a", content), record("b", content)])
    save_records(org, "google", [record("a", content, name="Renamed.pdf"), record("c", content)])
    save_records(org, "google", [DocumentRemoved(external_id="c", reason="trashed")])

    assert figures(org, "google") == {"documents": 3} == {"documents": Document.objects.count()}


def test_figures_come_in_one_query_in_their_order_without_zeros(org, other_org):
    for label, n in [("documents", 2), ("orders", 5), ("categories", 0), ("menu items", 7)]:
        imported.add(org, "square", label, n)
    imported.add(other_org, "square", "orders", 9)

    with CaptureQueriesContext(connection) as queries:
        shown = imported.counts(org, "square")

    assert len(queries) == 1
    assert shown == [("menu items", 7), ("orders", 5), ("documents", 2)]


def test_the_upgrade_counts_what_earlier_releases_imported(org, other_org):
    save_records(org, "square", [order("A"), order("B")])
    save_records(other_org, "square", [order("Z")])
    now = datetime.now(UTC)
    stamps = {"first_imported_at": now, "last_changed_at": now}
    Category.objects.create(organization=org, source="square", external_id="C1", **stamps)
    Category.objects.create(
        organization=org, source="square", external_id="C2", is_deleted=True, **stamps
    )
    ImportedCount.objects.all().delete()  # as before the upgrade

    migration = importlib.import_module(
        "integrations.migrations.0010_imported_counts_filled_drawer_indexes"
    )
    migration.fill(django_apps, connection.schema_editor())

    assert figures(org) == {"categories": 1, "orders": 2}
    assert figures(other_org) == {"orders": 1}


def test_recount_mends_figures_that_rows_written_around_the_importers_left_behind(org, other_org):
    """An old release's worker importing while the new one migrates adds rows and no figure;
    rows can also go without their figure (an organisation's data deleted by hand)."""
    save_records(org, "square", [order("A"), order("B")])
    save_records(other_org, "square", [order("Z")])
    Order.objects.filter(organization=other_org).delete()  # gone, figure still 1
    ImportedCount.objects.filter(organization=org).update(count=1)  # one order missed
    out = io.StringIO()

    call_command("integrations_recount", stdout=out)

    assert figures(org) == {"orders": 2}
    assert figures(other_org) == {}
    assert out.getvalue().strip() == "Imported figures counted again: 2 changed."
    call_command("integrations_recount", stdout=(again := io.StringIO()))
    assert again.getvalue().strip() == "Imported figures counted again: 0 changed."


def test_the_drawer_and_the_disconnect_dialog_show_the_kept_figures_after_a_reconnect(
    owner_client, org, make_connection
):
    config = make_connection(org, "square")
    save_records(org, "square", [order(f"O{n}") for n in range(1234)])
    imported.add(org, "square", "menu items", 61)  # as a catalog import leaves it

    disconnect.disconnect(config, actor=None)
    assert figures(org) == {"menu items": 61, "orders": 1234}  # imported records stay
    make_connection(org, "square")

    html = owner_client.get("/integrations/square/manage/").content.decode()
    stays = html.split("<h3>Stays</h3>", 1)[1]
    assert "<li>61 menu items</li>" in stays and "<li>1,234 orders</li>" in stays
    catalog = html.split('aria-label="Catalog in Sous"', 1)[1].split("</ul>", 1)[0]
    assert "61 menu items" in catalog and "orders" not in catalog
