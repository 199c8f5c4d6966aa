"""Catalog importers: neutral catalog records -> bulk upserts into `sous.catalog`.

Each importer writes one page of one record type with a few set-based statements per table,
whatever the page size: one SELECT for what exists, one INSERT .. ON CONFLICT DO UPDATE for
what is new or newer (on PostgreSQL COPYed into a staging table and merged, on SQLite as
multi-row VALUES), and one statement each to replace the relations of the items written.
Unchanged rows (same source version) are not written at all, and a row never goes back to an
older version.
Objects deleted at the source are marked deleted, never removed.

The statements themselves are in bulk.py, shared with the other importers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone

from integrations.services import imported
from providers.records.catalog import (
    CatalogDeletionRecord,
    CategoryRecord,
    DiscountRecord,
    ImageRecord,
    ItemRecord,
    ModifierListRecord,
)
from providers.records.tally import Tally
from sous.catalog import models as catalog
from sous.catalog.signals import catalog_changed

from . import Counts
from .bulk import NEWER, insert_rows, is_newer


@dataclass
class Written:
    """What one upsert did: every record's pk, and which rows it created or changed."""

    ids: dict[str, int] = field(default_factory=dict)  # external id -> pk (all records)
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> list[int]:
        return self.created + self.updated


def upsert_imported(
    model: type[models.Model],
    organization,
    source: str,
    rows: dict[str, dict],
    *,
    now,
) -> Written:
    """Upsert rows keyed by (organisation, source, external id).

    `rows`: external id -> column values (attnames), each with `version` and `updated_at`.
    Existing rows with the same or a newer version are left untouched.
    """
    written = Written()
    if not rows:
        return written
    existing = {
        ext: (pk, version, updated_at)
        for ext, pk, version, updated_at in model.objects.filter(
            organization=organization, source=source, external_id__in=list(rows)
        ).values_list("external_id", "pk", "version", "updated_at")
    }
    fresh: list[str] = []
    for ext, values in rows.items():
        current = existing.get(ext)
        if current is None:
            fresh.append(ext)
        else:
            written.ids[ext] = current[0]
            if is_newer(values["version"], values["updated_at"], current[1:]):
                fresh.append(ext)
            else:
                written.unchanged += 1
    if not fresh:
        return written
    first = rows[fresh[0]]
    value_columns = [c for c in first if c != "external_id"]
    columns = [
        "organization_id",
        "source",
        "external_id",
        *value_columns,
        "first_imported_at",
        "last_changed_at",
    ]
    data = [
        (organization.pk, source, ext, *(rows[ext][c] for c in value_columns), now, now)
        for ext in fresh
    ]
    returned = insert_rows(
        model,
        columns,
        data,
        conflict=["organization_id", "source", "external_id"],
        update=[*value_columns, "last_changed_at"],
        guard=NEWER,
        returning="id, external_id",
    )
    for pk, ext in returned:
        written.ids[ext] = pk
        (written.updated if ext in existing else written.created).append(pk)
    # Rows a concurrent writer had already brought to this version or a newer one.
    written.unchanged += len(fresh) - len(returned)
    return written


def _imported_columns(record) -> dict:
    return {
        "version": record.version,
        "updated_at": record.updated_at,
        "is_deleted": False,
        "deleted_at": None,
    }


def _newest(records: Iterable) -> dict:
    """One record per external id (a page may repeat one): the newest wins."""
    chosen: dict = {}
    for record in records:
        current = chosen.get(record.external_id)
        if current is None or is_newer(
            record.version, record.updated_at, (current.version, current.updated_at)
        ):
            chosen[record.external_id] = record
    return chosen


def _send_changed(organization, source: str, changed: dict[str, list[int]]) -> None:
    changed = {name: ids for name, ids in changed.items() if ids}
    if not changed:
        return
    transaction.on_commit(
        lambda: catalog_changed.send(
            sender=catalog.Item, organization=organization, source=source, changed=changed
        )
    )


def _counts(written: Written, received: Tally, *, deleted: int = 0) -> Counts:
    return Counts(
        created=len(written.created),
        updated=len(written.updated),
        unchanged=written.unchanged,
        deleted=deleted,
        totals=received,
    )


# --- importers ---------------------------------------------------------------------------------


def import_categories(organization, source: str, records: list[CategoryRecord]) -> Counts:
    now = timezone.now()
    chosen = _newest(records)
    rows = {
        ext: {**_imported_columns(r), "name": r.name[:255], "parent_external_id": r.parent_id}
        for ext, r in chosen.items()
    }
    with transaction.atomic():
        written = upsert_imported(catalog.Category, organization, source, rows, now=now)
        _send_changed(organization, source, {"categories": written.changed})
        if written.changed:
            imported.recount(organization, source, ["categories"])
    return _counts(written, Tally(categories=len(chosen)))


def import_images(organization, source: str, records: list[ImageRecord]) -> Counts:
    now = timezone.now()
    chosen = _newest(records)
    rows = {
        ext: {**_imported_columns(r), "url": r.url[:2000], "name": r.name[:255]}
        for ext, r in chosen.items()
    }
    with transaction.atomic():
        written = upsert_imported(catalog.Image, organization, source, rows, now=now)
        changed = [ext for ext in chosen if written.ids.get(ext) in set(written.changed)]
        # Items showing a changed image pick up its new URL, in one statement.
        affected = catalog.Item.objects.filter(
            organization=organization, source=source, image_external_id__in=changed
        )
        items = list(affected.values_list("pk", flat=True)) if changed else []
        if items:
            url = catalog.Image.objects.filter(
                organization=organization,
                source=source,
                external_id=models.OuterRef("image_external_id"),
            ).values("url")[:1]
            catalog.Item.objects.filter(pk__in=items).update(
                image_url=models.Subquery(url), last_changed_at=now
            )
        _send_changed(organization, source, {"images": written.changed, "items": items})
    return _counts(written, Tally(images=len(chosen)))


def import_discounts(organization, source: str, records: list[DiscountRecord]) -> Counts:
    now = timezone.now()
    chosen = _newest(records)
    rows = {
        ext: {
            **_imported_columns(r),
            "name": r.name[:255],
            "discount_type": r.discount_type[:40],
            "percentage": r.percentage[:20],
            "amount": r.amount,
            "currency": r.currency,
        }
        for ext, r in chosen.items()
    }
    with transaction.atomic():
        written = upsert_imported(catalog.Discount, organization, source, rows, now=now)
        _send_changed(organization, source, {"discounts": written.changed})
    return _counts(written, Tally(discounts=len(chosen)))


def _mark_missing_children(model, parent_field: str, parents: list[int], keep: set[str], now):
    """Children of `parents` no longer listed by their parent are marked deleted."""
    if not parents:
        return []
    gone = (
        model.objects.filter(**{f"{parent_field}__in": parents}, is_deleted=False)
        .exclude(external_id__in=keep)
        .values_list("pk", flat=True)
    )
    ids = list(gone)
    if ids:
        model.objects.filter(pk__in=ids).update(
            is_deleted=True, deleted_at=now, last_changed_at=now
        )
    return ids


def import_modifier_lists(organization, source: str, records: list[ModifierListRecord]) -> Counts:
    now = timezone.now()
    chosen = _newest(records)
    rows = {
        ext: {
            **_imported_columns(r),
            "name": r.name[:255],
            "selection_type": r.selection_type[:20],
            "min_selected": r.min_selected,
            "max_selected": r.max_selected,
        }
        for ext, r in chosen.items()
    }
    with transaction.atomic():
        lists = upsert_imported(catalog.ModifierList, organization, source, rows, now=now)
        parents = {ext: lists.ids[ext] for ext in chosen if ext in lists.ids}
        changed_lists = set(lists.changed)
        modifier_rows = {}
        for ext, record in chosen.items():
            if parents.get(ext) not in changed_lists:
                continue  # the list's version did not move: neither did its modifiers
            for m in record.modifiers:
                modifier_rows[m.external_id] = {
                    **_imported_columns(m),
                    "modifier_list_id": parents[ext],
                    "name": m.name[:255],
                    "price": m.price,
                    "currency": m.currency,
                    "on_by_default": m.on_by_default,
                    "ordinal": m.ordinal,
                }
        modifiers = upsert_imported(catalog.Modifier, organization, source, modifier_rows, now=now)
        removed = _mark_missing_children(
            catalog.Modifier, "modifier_list_id", list(changed_lists), set(modifier_rows), now
        )
        _send_changed(
            organization,
            source,
            {"modifier_lists": lists.changed, "modifiers": modifiers.changed + removed},
        )
        if lists.changed:
            imported.recount(organization, source, ["modifier lists"])
    counts = _counts(lists, Tally(modifier_lists=len(chosen)), deleted=len(removed))
    received = Tally(modifiers=sum(len(r.modifiers) for r in chosen.values()))
    counts.add(_counts(modifiers, received))
    return counts


def _resolve(model, organization, source: str, wanted: set[str], now) -> dict[str, int]:
    """pks of referenced objects; ones not imported yet get a placeholder row (version 0) that
    their own record fills in when it arrives (every version is newer than 0)."""
    if not wanted:
        return {}
    found = dict(
        model.objects.filter(
            organization=organization, source=source, external_id__in=list(wanted)
        ).values_list("external_id", "pk")
    )
    missing = sorted(wanted - set(found))
    if missing:
        placeholder = {
            f.attname: f.get_default()
            for f in model._meta.concrete_fields
            if not f.primary_key and f.attname not in ("organization_id", "source", "external_id")
        }
        placeholder.update(version=0, first_imported_at=now, last_changed_at=now)
        columns = ["organization_id", "source", "external_id", *placeholder]
        insert_rows(
            model,
            columns,
            [(organization.pk, source, ext, *placeholder.values()) for ext in missing],
            conflict=["organization_id", "source", "external_id"],
        )
        found.update(
            model.objects.filter(
                organization=organization, source=source, external_id__in=missing
            ).values_list("external_id", "pk")
        )
    return found


def import_items(organization, source: str, records: list[ItemRecord]) -> Counts:
    now = timezone.now()
    chosen = _newest(records)
    image_ids = {r.image_ids[0] for r in chosen.values() if r.image_ids}
    with transaction.atomic():
        images = dict(
            catalog.Image.objects.filter(
                organization=organization, source=source, external_id__in=list(image_ids)
            ).values_list("external_id", "url")
        )
        rows = {
            ext: {
                **_imported_columns(r),
                "name": r.name[:255],
                "description": r.description,
                "image_external_id": r.image_ids[0] if r.image_ids else "",
                "image_url": images.get(r.image_ids[0], "") if r.image_ids else "",
                "is_archived": r.is_archived,
            }
            for ext, r in chosen.items()
        }
        items = upsert_imported(catalog.Item, organization, source, rows, now=now)
        changed = set(items.changed)
        written = {ext: r for ext, r in chosen.items() if items.ids.get(ext) in changed}

        variation_rows = {}
        for ext, record in written.items():
            for v in record.variations:
                variation_rows[v.external_id] = {
                    **_imported_columns(v),
                    "item_id": items.ids[ext],
                    "name": v.name[:255],
                    "sku": v.sku[:255],
                    "price": v.price,
                    "currency": v.currency,
                    "ordinal": v.ordinal,
                }
        variations = upsert_imported(
            catalog.ItemVariation, organization, source, variation_rows, now=now
        )
        removed = _mark_missing_children(
            catalog.ItemVariation, "item_id", list(changed), set(variation_rows), now
        )
        _replace_links(organization, source, items.ids, written, now)
        _send_changed(
            organization,
            source,
            {"items": items.changed, "variations": variations.changed + removed},
        )
        if written:
            # Items may bring placeholders of the categories and lists they name.
            imported.recount(organization, source, ["menu items", "categories", "modifier lists"])
    counts = _counts(items, Tally(items=len(chosen)), deleted=len(removed))
    received = Tally(variations=sum(len(r.variations) for r in chosen.values()))
    counts.add(_counts(variations, received))
    return counts


def _replace_links(organization, source: str, ids: dict[str, int], written: dict, now) -> None:
    """The written items' category and modifier-list links, replaced as a set."""
    if not written:
        return
    item_pks = [ids[ext] for ext in written]
    categories = _resolve(
        catalog.Category,
        organization,
        source,
        {c for r in written.values() for c in r.category_ids},
        now,
    )
    lists = _resolve(
        catalog.ModifierList,
        organization,
        source,
        {info.modifier_list_id for r in written.values() for info in r.modifier_lists},
        now,
    )
    catalog.ItemCategory.objects.filter(item_id__in=item_pks).delete()
    catalog.ItemModifierList.objects.filter(item_id__in=item_pks).delete()
    category_links = {}
    list_links = {}
    for ext, record in written.items():
        item = ids[ext]
        for position, category in enumerate(record.category_ids):
            category_links.setdefault((item, categories[category]), position)
        for info in record.modifier_lists:
            key = (item, lists[info.modifier_list_id])
            list_links.setdefault(
                key, (info.min_selected, info.max_selected, info.enabled, info.ordinal)
            )
    insert_rows(
        catalog.ItemCategory,
        ["item_id", "category_id", "ordinal"],
        [(item, category, ordinal) for (item, category), ordinal in category_links.items()],
        conflict=["item_id", "category_id"],
    )
    insert_rows(
        catalog.ItemModifierList,
        ["item_id", "modifier_list_id", "min_selected", "max_selected", "enabled", "ordinal"],
        [(item, ml, *values) for (item, ml), values in list_links.items()],
        conflict=["item_id", "modifier_list_id"],
    )


DELETION_MODELS = {
    "category": (catalog.Category, "categories"),
    "image": (catalog.Image, "images"),
    "item": (catalog.Item, "items"),
    "variation": (catalog.ItemVariation, "variations"),
    "modifier_list": (catalog.ModifierList, "modifier_lists"),
    "modifier": (catalog.Modifier, "modifiers"),
    "discount": (catalog.Discount, "discounts"),
}
# Deleting a parent deletes its nested objects (README §6: they live inside it).
CHILDREN = {"item": ("variation", "item_id"), "modifier_list": ("modifier", "modifier_list_id")}


def import_deletions(organization, source: str, records: list[CatalogDeletionRecord]) -> Counts:
    """Mark rows deleted at the source; deletions of objects Sous never saw are skipped."""
    now = timezone.now()
    by_kind: dict[str, set[str]] = {}
    for record in records:
        by_kind.setdefault(record.kind, set()).add(record.external_id)
    changed: dict[str, list[int]] = {}
    counts = Counts()
    figures = []
    with transaction.atomic():
        for kind, external_ids in sorted(by_kind.items()):
            model, label = DELETION_MODELS[kind]
            rows = model.objects.filter(
                organization=organization, source=source, external_id__in=list(external_ids)
            )
            known = dict(rows.values_list("pk", "is_deleted"))
            counts.skipped += len(external_ids) - len(known)
            fresh = sorted(pk for pk, deleted in known.items() if not deleted)
            counts.unchanged += len(known) - len(fresh)
            if not fresh:
                continue
            model.objects.filter(pk__in=fresh).update(
                is_deleted=True, deleted_at=now, last_changed_at=now
            )
            counts.deleted += len(fresh)
            counts.totals.catalog_deleted += len(fresh)
            figures += imported.labels_of(model)
            changed.setdefault(label, []).extend(fresh)
            if kind in CHILDREN:
                child_kind, parent_field = CHILDREN[kind]
                child_model, child_label = DELETION_MODELS[child_kind]
                children = child_model.objects.filter(
                    **{f"{parent_field}__in": fresh}, is_deleted=False
                )
                child_ids = list(children.values_list("pk", flat=True))
                if child_ids:
                    child_model.objects.filter(pk__in=child_ids).update(
                        is_deleted=True, deleted_at=now, last_changed_at=now
                    )
                    changed.setdefault(child_label, []).extend(child_ids)
        _send_changed(organization, source, changed)
        if figures:
            imported.recount(organization, source, figures)
    return counts
