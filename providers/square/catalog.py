"""Sync Catalog: Square catalog objects -> neutral catalog records.

SearchCatalogObjects at 1000 objects a page (ListCatalog is fixed at 100, README §3), in passes
so that what an item points at is imported before it: first images, categories, modifier
lists (their modifiers nested) and discounts, then items (their variations nested). The first
run reads everything; later runs pass `begin_time` = the `latest_time` Square gave the previous
successful run (README §6: Square's clock, never ours) and add a pass for nested variations and
modifiers deleted on their own. Deleted objects (`include_deleted_objects`) become deletion
records: Sous marks them deleted and keeps them.

Square documents no expiry for `begin_time` (README §6), but refuses one it cannot read: that
raises CursorExpired, and the engine runs the job again as a full sync.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

from providers.base import Action, Checkpoint, Page, Progress, SyncRequest
from providers.errors import ApiError, CursorExpired
from providers.records.catalog import (
    CatalogDeletionRecord,
    CategoryRecord,
    DiscountRecord,
    ImageRecord,
    ItemModifierListRecord,
    ItemRecord,
    ModifierListRecord,
    ModifierRecord,
    VariationRecord,
)
from providers.records.tally import Tally
from providers.schedules import Every

from . import schemas
from .client import SquareClient
from .prefetch import ahead
from .webhooks import CATALOG_EVENTS


class Pass(enum.Enum):
    """The passes of a run, in dependency order (see the module docstring)."""

    STRUCTURE = "structure"
    ITEMS = "items"
    DELETIONS = "deletions"  # nested objects deleted on their own: incremental runs only


FULL_RUN = (Pass.STRUCTURE, Pass.ITEMS)
INCREMENTAL_RUN = (Pass.STRUCTURE, Pass.ITEMS, Pass.DELETIONS)
TYPES_BY_PASS = {
    Pass.STRUCTURE: ("IMAGE", "CATEGORY", "MODIFIER_LIST", "DISCOUNT"),
    Pass.ITEMS: ("ITEM",),
    Pass.DELETIONS: ("ITEM_VARIATION", "MODIFIER"),
}
PASS_NAMES = {Pass.STRUCTURE: "menu structure", Pass.ITEMS: "items", Pass.DELETIONS: "deletions"}
KINDS = {
    "CATEGORY": "category",
    "IMAGE": "image",
    "ITEM": "item",
    "ITEM_VARIATION": "variation",
    "MODIFIER_LIST": "modifier_list",
    "MODIFIER": "modifier",
    "DISCOUNT": "discount",
}


def _money(money: schemas.Money | None) -> tuple[int | None, str]:
    return (money.amount, money.currency) if money is not None else (None, "")


def _selection(minimum: int | None, maximum: int | None) -> tuple[int, int | None]:
    """Square's limits as (minimum, maximum): 0 and -1 mean "none" (spec, CatalogModifierList)."""
    low = minimum if minimum is not None and minimum > 0 else 0
    high = maximum if maximum is not None and maximum > 0 else None
    return low, high


def _item_selection(info: schemas.CatalogItemModifierListInfo) -> tuple[int | None, int | None]:
    """An item's own limits, or (None, None) when both are unset (-1): the list's apply."""
    unset = (None, -1)
    if info.min_selected_modifiers in unset and info.max_selected_modifiers in unset:
        return None, None
    return _selection(info.min_selected_modifiers, info.max_selected_modifiers)


def _deletion(obj: schemas.CatalogObject) -> CatalogDeletionRecord | None:
    kind = KINDS.get(obj.type)
    if kind is None:
        return None
    return CatalogDeletionRecord(kind, obj.id, obj.version, obj.updated_at)


def _variation(obj: schemas.CatalogObject) -> VariationRecord:
    data = obj.item_variation_data or schemas.CatalogItemVariation()
    price, currency = _money(data.price_money)
    return VariationRecord(
        external_id=obj.id,
        version=obj.version,
        updated_at=obj.updated_at,
        name=data.name or "",
        sku=data.sku or "",
        price=price,
        currency=currency,
        ordinal=data.ordinal,
    )


def _modifier(obj: schemas.CatalogObject) -> ModifierRecord:
    data = obj.modifier_data or schemas.CatalogModifier()
    price, currency = _money(data.price_money)
    return ModifierRecord(
        external_id=obj.id,
        version=obj.version,
        updated_at=obj.updated_at,
        name=data.name or "",
        price=price,
        currency=currency,
        on_by_default=bool(data.on_by_default),
        ordinal=data.ordinal,
    )


def records_of(obj: schemas.CatalogObject):
    """The neutral record for one top-level catalog object, or None for types Sous skips."""
    if obj.is_deleted:
        return _deletion(obj)
    head = {"external_id": obj.id, "version": obj.version, "updated_at": obj.updated_at}
    if obj.type == "CATEGORY":
        data = obj.category_data or schemas.CatalogCategory()
        parent = data.parent_category.id if data.parent_category else ""
        return CategoryRecord(**head, name=data.name or "", parent_id=parent)
    if obj.type == "IMAGE":
        data = obj.image_data or schemas.CatalogImage()
        return ImageRecord(**head, url=data.url or "", name=data.name or "")
    if obj.type == "DISCOUNT":
        data = obj.discount_data or schemas.CatalogDiscount()
        amount, currency = _money(data.amount_money)
        return DiscountRecord(
            **head,
            name=data.name or "",
            discount_type=data.discount_type or "",
            percentage=data.percentage or "",
            amount=amount,
            currency=currency,
        )
    if obj.type == "MODIFIER_LIST":
        data = obj.modifier_list_data or schemas.CatalogModifierList()
        low, high = _selection(data.min_selected_modifiers, data.max_selected_modifiers)
        return ModifierListRecord(
            **head,
            name=data.name or "",
            selection_type=data.selection_type or "",
            min_selected=low,
            max_selected=high,
            modifiers=tuple(_modifier(m) for m in data.modifiers or () if not m.is_deleted),
        )
    if obj.type == "ITEM":
        data = obj.item_data or schemas.CatalogItem()
        categories = [c.id for c in data.categories or ()]
        if not categories and data.category_id:
            categories = [data.category_id]  # deprecated field, older catalogs only
        lists = []
        for info in data.modifier_list_info or ():
            low, high = _item_selection(info)
            enabled = info.enabled if info.enabled is not None else True
            lists.append(
                ItemModifierListRecord(info.modifier_list_id, low, high, enabled, info.ordinal)
            )
        return ItemRecord(
            **head,
            name=data.name or "",
            description=data.description_plaintext or data.description or "",
            image_ids=tuple(data.image_ids or ()),
            category_ids=tuple(dict.fromkeys(categories)),
            modifier_lists=tuple(lists),
            variations=tuple(_variation(v) for v in data.variations or () if not v.is_deleted),
            is_archived=bool(data.is_archived),
        )
    return None


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    plural = "categories" if word == "category" else f"{word}s"
    return f"{count:,} {plural}"


class CatalogCheckpoint(Checkpoint):
    """A run's passes and `begin_time` are fixed on its first page, so a resumed run asks
    Square the same questions even if another run has moved the connection's cursor since."""

    passes: tuple[Pass, ...] = ()  # () until the first page
    begin: str | None = None  # the `begin_time` of every pass; None reads the whole catalog
    index: int = 0  # the pass under way, in `passes` (len(passes): finished)
    page: str | None = None  # Square's cursor within that pass
    latest: str | None = None  # Square's `latest_time` on the run's first answer
    objects: int = 0  # records read so far


class CatalogAction(Action):
    key = "catalog"
    label = "Catalog sync"
    description = "Categories, items and their variations, modifier lists and discounts."
    template = "square/catalog.html"
    incremental = True
    notifications = CATALOG_EVENTS
    freshness_words = "Catalog updated"
    schedule = Every(
        default=60,
        choices=((15, "15 min"), (30, "30 min"), (60, "hour"), (180, "3 hours"), (1440, "day")),
    )
    Checkpoint = CatalogCheckpoint

    def summary(self, tally: Tally) -> str:
        # An hourly or repeated sync usually finds nothing: "0 items" would read as an empty menu.
        if not (tally.items or tally.categories or tally.modifier_lists or tally.catalog_deleted):
            return "Catalog up to date: nothing new or changed in Square"
        text = (
            f"Catalog synced: {_plural(tally.items, 'item')}, "
            f"{_plural(tally.categories, 'category')}, "
            f"{_plural(tally.modifier_lists, 'modifier list')}"
        )
        deleted = tally.catalog_deleted
        return f"{text}, {deleted:,} deleted" if deleted else text

    def pages(self, client: SquareClient, request: SyncRequest) -> Iterator[Page]:
        return ahead(self._pages(client, request))

    def _pages(self, client: SquareClient, request: SyncRequest) -> Iterator[Page]:
        at: CatalogCheckpoint = request.checkpoint
        if not at.passes:
            begin = (request.cursor or {}).get("latest_time")
            at = CatalogCheckpoint(passes=INCREMENTAL_RUN if begin else FULL_RUN, begin=begin)
        passes, begin, latest, objects, cursor = at.passes, at.begin, at.latest, at.objects, at.page
        for index in range(at.index, len(passes)):
            current = passes[index]
            while True:
                try:
                    response = client.search_catalog(
                        object_types=list(TYPES_BY_PASS[current]), cursor=cursor, begin_time=begin
                    )
                except ApiError as exc:
                    if exc.field == "begin_time":
                        raise CursorExpired(
                            f"Square refused the last sync's begin_time: {exc}", provider="square"
                        ) from exc
                    if exc.code != "INVALID_CURSOR" or not cursor:
                        raise
                    # A stale page cursor (README §3), not the run's begin_time: read this
                    # pass again (idempotent).
                    cursor = None
                    continue
                if latest is None and response.latest_time is not None:
                    # The catalog's time when this run began; the next run starts after it.
                    latest = response.latest_time
                if current is Pass.DELETIONS:
                    # Live nested objects came with their parents; only lone deletions count.
                    found = [_deletion(o) for o in response.objects if o.is_deleted]
                else:
                    found = [records_of(o) for o in response.objects]
                records = [r for r in found if r is not None]
                objects += len(records)
                cursor = response.cursor
                done = index if cursor else index + 1
                yield Page(
                    records=records,
                    checkpoint=CatalogCheckpoint(
                        passes=passes,
                        begin=begin,
                        index=done,
                        page=cursor,
                        latest=latest,
                        objects=objects,
                    ),
                    progress=Progress(
                        done=done,
                        total=len(passes),
                        unit="steps",
                        message=f"{objects:,} objects · {PASS_NAMES[current]}",
                    ),
                    cursor={"latest_time": latest} if latest else None,
                )
                if not cursor:
                    break
