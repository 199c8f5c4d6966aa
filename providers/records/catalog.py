"""Neutral catalog records: a restaurant's menu as any point of sale describes it.

Providers translate their objects into these; `integrations/sync/catalog.py` saves them into
`sous.catalog`. Nested objects travel inside their parent (variations in an item, modifiers in a
modifier list) so one importer call writes a parent and its children together. Money is integer
minor units plus an ISO currency; `version` is the provider's own, higher means newer.

Example, a burger with two sizes in one category and one modifier list:

    ItemRecord(
        external_id="ITEM1", version=1700000000000, updated_at=datetime(2023, 11, 14, tzinfo=UTC),
        name="Classic Cheeseburger", description="Made in house.", image_ids=(),
        category_ids=("CAT1",),
        modifier_lists=(ItemModifierListRecord("LIST1", min_selected=1, max_selected=1),),
        variations=(
            VariationRecord("VAR1", 1700000000000, ..., name="Single", sku="10001",
                            price=1650, currency="USD"),
            VariationRecord("VAR2", 1700000000000, ..., name="Double", price=2200, ...),
        ),
    )
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CategoryRecord:
    external_id: str
    version: int
    updated_at: datetime | None
    name: str
    parent_id: str = ""  # the parent category's external id, "" at the top level


@dataclass(frozen=True, slots=True)
class ImageRecord:
    external_id: str
    version: int
    updated_at: datetime | None
    url: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class VariationRecord:
    external_id: str
    version: int
    updated_at: datetime | None
    name: str
    sku: str = ""
    price: int | None = None  # None: priced at the point of sale (variable pricing)
    currency: str = ""
    ordinal: int | None = None


@dataclass(frozen=True, slots=True)
class ItemModifierListRecord:
    """An item's use of a modifier list; None selections mean "as the list says"."""

    modifier_list_id: str
    min_selected: int | None = None
    max_selected: int | None = None
    enabled: bool = True
    ordinal: int | None = None


@dataclass(frozen=True, slots=True)
class ItemRecord:
    external_id: str
    version: int
    updated_at: datetime | None
    name: str
    description: str = ""
    image_ids: tuple[str, ...] = ()  # the first one is the item's picture
    category_ids: tuple[str, ...] = ()
    modifier_lists: tuple[ItemModifierListRecord, ...] = ()
    variations: tuple[VariationRecord, ...] = ()  # the item's complete current list
    is_archived: bool = False


@dataclass(frozen=True, slots=True)
class ModifierRecord:
    external_id: str
    version: int
    updated_at: datetime | None
    name: str
    price: int | None = None
    currency: str = ""
    on_by_default: bool = False
    ordinal: int | None = None


@dataclass(frozen=True, slots=True)
class ModifierListRecord:
    external_id: str
    version: int
    updated_at: datetime | None
    name: str
    selection_type: str = ""  # SINGLE | MULTIPLE (informational)
    min_selected: int | None = None  # None: no minimum
    max_selected: int | None = None  # None: no maximum
    modifiers: tuple[ModifierRecord, ...] = ()  # the list's complete current modifiers


@dataclass(frozen=True, slots=True)
class DiscountRecord:
    external_id: str
    version: int
    updated_at: datetime | None
    name: str
    discount_type: str = ""  # FIXED_PERCENTAGE | FIXED_AMOUNT | VARIABLE_* (provider's words)
    percentage: str = ""  # "20.0", as the provider writes it
    amount: int | None = None
    currency: str = ""


# What a deletion can name. Kept as words so the importer maps them to its own tables.
DELETABLE_KINDS = (
    "category",
    "image",
    "item",
    "variation",
    "modifier_list",
    "modifier",
    "discount",
)


@dataclass(frozen=True, slots=True)
class CatalogDeletionRecord:
    """The provider deleted an object: Sous marks its row deleted and keeps it."""

    kind: str  # one of DELETABLE_KINDS
    external_id: str
    version: int
    updated_at: datetime | None
