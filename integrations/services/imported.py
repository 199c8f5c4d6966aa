"""How much a source has imported into an organisation: the drawer's catalog figures and the
disconnect dialog's "what stays" list.

The figures are kept, not counted: each importer adjusts them (ImportedCount) in the
transaction that writes the rows, so opening a drawer reads one small table however many
orders a merchant has, a rolled-back page takes its figures with it, and a rerun that writes
nothing changes nothing. The adjustment is the transaction's last statement: it locks the
counter's row, which concurrent chunk workers share, for as short a time as possible.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from integrations.models import ImportedCount
from sous.orgs.models import Organization

# The figures, in the order they are listed (a label is also the figure's words).
LABELS = ("menu items", "categories", "modifier lists", "orders", "documents")
# What each figure counts, as the importers keep it: label -> (model, only rows not deleted at
# the source). Named, not imported: the receiving domains do not depend on this app.
COUNTED = {
    "menu items": ("catalog.Item", True),
    "categories": ("catalog.Category", True),
    "modifier lists": ("catalog.ModifierList", True),
    "orders": ("sales.Order", False),
    "documents": ("documents.Document", False),
}


def _upsert(organization, source: str, label: str, n: int, *, add: bool) -> None:
    """One statement: make the row, or add `n` to it (`add`) or set it to `n`. The increment
    happens in the database, under the row's lock, so concurrent importers never lose one."""
    table = connection.ops.quote_name(ImportedCount._meta.db_table)
    count = connection.ops.quote_name("count")
    new = f"{table}.{count} + excluded.{count}" if add else f"excluded.{count}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organization_id, source, label, {count}, updated_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (organization_id, source, label) "
            f"DO UPDATE SET {count} = {new}, updated_at = excluded.updated_at",
            [organization.pk, source, label, n, timezone.now()],
        )


def add(organization, source: str, label: str, n: int) -> None:
    """`n` more records of `label` (newly inserted ones); nothing to do for none."""
    if n:
        _upsert(organization, source, label, n, add=True)


def rows(label: str) -> QuerySet:
    """Every organisation's rows that figure `label` counts."""
    model_name, present_only = COUNTED[label]
    found = apps.get_model(model_name).objects.order_by()
    return found.filter(is_deleted=False) if present_only else found


def labels_of(model) -> list[str]:
    """The figures that count `model`'s rows."""
    return [label for label, (name, _) in COUNTED.items() if name == model._meta.label]


def recount(organization, source: str, labels) -> None:
    """Set each figure to what its rows count now (small tables: the catalog).

    The row is locked first and counted after: under READ COMMITTED the count then sees what
    a concurrent importer that held the lock committed, so the last one to count is exact.
    Labels are taken in one order, so two importers never wait on each other's locks.
    """
    for label in sorted(set(labels), key=_position):
        _upsert(organization, source, label, 0, add=True)
        n = rows(label).filter(organization=organization, source=source).count()
        ImportedCount.objects.filter(organization=organization, source=source, label=label).update(
            count=n, updated_at=timezone.now()
        )


def counts(organization, source: str) -> list[tuple[str, int]]:
    """[(label, count)] for what this source imported into `organization`, in LABELS order;
    zero counts are left out. One query."""
    found = ImportedCount.objects.filter(
        organization=organization, source=source, count__gt=0
    ).values_list("label", "count")
    return sorted(found, key=lambda pair: _position(pair[0]))


def _position(label: str) -> int:
    return LABELS.index(label) if label in LABELS else len(LABELS)


def recount_all() -> int:
    """Count every figure again from the rows (`manage.py integrations_recount`): for figures
    kept while something else wrote rows without keeping them, such as the workers of the
    previous release during an upgrade. Safe beside running imports (see `recount`). Returns
    how many figures changed."""
    changed = 0
    for label in COUNTED:
        before = {
            (org_id, source): n
            for org_id, source, n in ImportedCount.objects.filter(label=label).values_list(
                "organization_id", "source", "count"
            )
        }
        # Figures whose rows are all gone too (counted again, to zero).
        pairs = set(rows(label).values_list("organization_id", "source").distinct()) | set(before)
        organizations = Organization.objects.in_bulk({org_id for org_id, _ in pairs})
        for org_id, source in sorted(pairs):
            organization = organizations[org_id]
            with transaction.atomic():
                recount(organization, source, [label])
            after = ImportedCount.objects.get(organization=organization, source=source, label=label)
            changed += after.count != before.get((org_id, source))
    return changed
