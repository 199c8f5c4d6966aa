"""The seeded restaurant catalog (README §6) and its live, editable copy.

`build_catalog()` turns `menu.py` into Square catalog objects for one merchant, at the sizes
asked for, plus a compact `Menu` the order generator draws from (orders always reference the
*seeded* catalog, as years of history would). `CatalogStore` is the live copy that the control
API edits: copy-on-write, so a page being serialised outside the lock never sees a half edit.
"""

from __future__ import annotations

import copy
import itertools
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from . import ids
from .config import Sizes
from .menu import CATEGORIES, DISCOUNTS, ITEM_VARIANTS, MODIFIER_LISTS, SIZE_LADDERS, TAXES
from .merchants import CREATED_AT_MS
from .timefmt import iso_ms

CURRENCY = "USD"
DAY_MS = 86_400_000
IMAGE_EVERY = 3  # one item in three has a photo
# Where Square's image URLs point (never fetched: Sous keeps the URL, not the file).
IMAGE_CDN = "https://items-images-production.s3.us-west-2.amazonaws.com"

# README §6: what ListCatalog and SearchCatalogObjects return when no types are given. The
# docs spell the last one QUICK_AMOUNT_SETTINGS, the enum QUICK_AMOUNTS_SETTINGS: accept both.
DEFAULT_TYPES = frozenset(
    {
        "ITEM",
        "CATEGORY",
        "TAX",
        "DISCOUNT",
        "MODIFIER_LIST",
        "PRICING_RULE",
        "PRODUCT_SET",
        "TIME_PERIOD",
        "MEASUREMENT_UNIT",
        "SUBSCRIPTION_PLAN",
        "ITEM_OPTION",
        "CUSTOM_ATTRIBUTE_DEFINITION",
        "QUICK_AMOUNTS_SETTINGS",
    }
)
# CatalogObjectType enum [A], plus the docs' spelling.
KNOWN_TYPES = DEFAULT_TYPES | {
    "IMAGE",
    "ITEM_VARIATION",
    "MODIFIER",
    "SUBSCRIPTION_PLAN_VARIATION",
    "ITEM_OPTION_VAL",
    "AVAILABILITY_PERIOD",
    "QUICK_AMOUNT_SETTINGS",
}
# Nested objects live inside their parent (README §6 "Nested types").
NESTED = {"ITEM": ("item_data", "variations"), "MODIFIER_LIST": ("modifier_list_data", "modifiers")}
EDITABLE_TYPES = {"ITEM", "CATEGORY", "TAX", "DISCOUNT", "MODIFIER_LIST", "IMAGE"}


def normalise_type(name: str) -> str:
    upper = name.strip().upper()
    return "QUICK_AMOUNTS_SETTINGS" if upper == "QUICK_AMOUNT_SETTINGS" else upper


def rate_of(percentage: str) -> int:
    """A percentage string ("8.875") as an integer rate per 100 000, for exact cent arithmetic."""
    return int(Decimal(percentage) * 1000)


def money(amount: int) -> dict:
    return {"amount": amount, "currency": CURRENCY}


# --- The compact menu the order generator draws from -------------------------------------------


@dataclass(frozen=True)
class MenuTax:
    id: str
    version: int
    name: str
    percentage: str
    rate: int  # per 100 000


@dataclass(frozen=True)
class MenuDiscount:
    id: str
    version: int
    name: str
    type: str
    percentage: str | None
    amount: int | None


@dataclass(frozen=True)
class MenuModifier:
    id: str
    version: int
    name: str
    price: int


@dataclass(frozen=True)
class MenuModifierList:
    id: str
    name: str
    min_selected: int
    max_selected: int
    modifiers: tuple[MenuModifier, ...]


@dataclass(frozen=True)
class MenuVariation:
    id: str
    version: int
    name: str
    price: int


@dataclass(frozen=True)
class MenuItem:
    id: str
    name: str
    variations: tuple[MenuVariation, ...]
    modifier_lists: tuple[MenuModifierList, ...]
    taxes: tuple[MenuTax, ...]


@dataclass(frozen=True)
class Menu:
    items: tuple[MenuItem, ...]
    cum_weights: tuple[float, ...]  # popularity, for random.choices
    taxes: tuple[MenuTax, ...]
    discounts: tuple[MenuDiscount, ...]


# --- Generation ----------------------------------------------------------------------------------


def _wrap(kind: str, object_id: str, stamp: int, data_key: str, data: dict) -> dict:
    # `version` is the update time in milliseconds, as Square's versions are.
    return {
        "type": kind,
        "id": object_id,
        "updated_at": iso_ms(stamp),
        "version": stamp,
        "is_deleted": False,
        "present_at_all_locations": True,
        data_key: data,
    }


def _image(dish: str, cid) -> dict:
    """CatalogImage data as Square returns it: the URL of the uploaded file on its CDN."""
    folder = cid("image-file", dish).lower()
    return {
        "name": f"{dish}.jpeg",
        "url": f"{IMAGE_CDN}/files/{folder}/original.jpeg",
        "caption": dish,
    }


def _price(base: int, factor: float) -> int:
    """Menu prices end in .00, .25, .50 or .75."""
    return max(25, int(round(base * factor / 25)) * 25)


def build_catalog(seed: int, merchant_index: int, sizes: Sizes) -> tuple[list[dict], Menu]:
    rng = random.Random(ids.hash64(seed, "catalog", merchant_index))
    epoch = CREATED_AT_MS + merchant_index * 7 * DAY_MS + DAY_MS
    price_factor = rng.uniform(0.92, 1.15)  # each merchant prices a little differently

    def stamp() -> int:
        return epoch + rng.randrange(200 * DAY_MS)

    def cid(*parts: object) -> str:
        return ids.catalog_id(seed, merchant_index, *parts)

    objects: list[dict] = []

    # Categories: the menu's own, then numbered repeats ("Starters 2") if more are asked for.
    categories = []  # (id, name, ladder, alcoholic, dishes, the menu.py name it repeats)
    for c in range(sizes.categories):
        name, ladder, alcoholic, dishes = CATEGORIES[c % len(CATEGORIES)]
        base_name = name
        if c >= len(CATEGORIES):
            name = f"{name} {c // len(CATEGORIES) + 1}"
        category_id = cid("category", c)
        categories.append((category_id, name, ladder, alcoholic, dishes, base_name))
        data = {
            "name": name,
            "category_type": "REGULAR_CATEGORY",
            "is_top_level": True,
            "online_visibility": True,
            "root_category": category_id,
        }
        objects.append(_wrap("CATEGORY", category_id, stamp(), "category_data", data))

    taxes = []
    for t, (name, percentage, _alcohol_only) in enumerate(TAXES):
        tax_id = cid("tax", t)
        stamped = stamp()
        data = {
            "name": name,
            "calculation_phase": "TAX_SUBTOTAL_PHASE",
            "inclusion_type": "ADDITIVE",
            "percentage": percentage,
            "applies_to_custom_amounts": True,
            "enabled": True,
        }
        objects.append(_wrap("TAX", tax_id, stamped, "tax_data", data))
        taxes.append(MenuTax(tax_id, stamped, name, percentage, rate_of(percentage)))
    sales_taxes = tuple(t for t, spec in zip(taxes, TAXES, strict=True) if not spec[2])

    discounts = []
    for d, (name, kind, percentage, amount) in enumerate(DISCOUNTS):
        discount_id = cid("discount", d)
        stamped = stamp()
        data: dict = {"name": name, "discount_type": kind, "pin_required": kind.startswith("VAR")}
        if percentage is not None:
            data["percentage"] = percentage
        if amount is not None:
            data["amount_money"] = money(amount)
        data["modify_tax_basis"] = "MODIFY_TAX_BASIS"
        objects.append(_wrap("DISCOUNT", discount_id, stamped, "discount_data", data))
        discounts.append(MenuDiscount(discount_id, stamped, name, kind, percentage, amount))

    modifier_lists = []  # (MenuModifierList, categories it applies to)
    category_names = [c[5] for c in categories]
    for m in range(sizes.modifier_lists):
        if m < len(MODIFIER_LISTS):
            name, selection, low, high, options, applies = MODIFIER_LISTS[m]
        else:
            name, selection, low, high = f"Extras {m - len(MODIFIER_LISTS) + 1}", "MULTIPLE", 0, 2
            options = (("Extra Sauce", 75), ("Gluten-Free Swap", 200), ("Make It Vegan", 150))
            applies = (category_names[m % len(category_names)],)
        list_id = cid("modifier_list", m)
        list_stamp = stamp()
        modifiers = []
        modifier_objects = []
        for o, (option, cents) in enumerate(options):
            modifier_id = cid("modifier", m, o)
            price = _price(cents, price_factor) if cents else 0
            modifiers.append(MenuModifier(modifier_id, list_stamp, option, price))
            data = {
                "name": option,
                "price_money": money(price),
                "on_by_default": False,
                "ordinal": o + 1,
                "modifier_list_id": list_id,
            }
            modifier_objects.append(
                _wrap("MODIFIER", modifier_id, list_stamp, "modifier_data", data)
            )
        data = {
            "name": name,
            "ordinal": m + 1,
            "selection_type": selection,
            "modifiers": modifier_objects,
            "modifier_type": "LIST",
            "min_selected_modifiers": low,
            "max_selected_modifiers": high,
        }
        objects.append(_wrap("MODIFIER_LIST", list_id, list_stamp, "modifier_list_data", data))
        menu_list = MenuModifierList(list_id, name, low, high, tuple(modifiers))
        modifier_lists.append((menu_list, set(applies)))

    items: list[MenuItem] = []
    for j in range(sizes.items):
        category_id, _name, ladder, alcoholic, dishes, base_name = categories[j % len(categories)]
        position = j // len(categories)
        dish, base = dishes[position % len(dishes)]
        round_ = position // len(dishes)
        if round_:
            variant = ITEM_VARIANTS[(round_ - 1) % len(ITEM_VARIANTS)]
            dish = f"{variant} {dish}"
            if round_ > len(ITEM_VARIANTS):
                dish = f"{dish} {round_ // len(ITEM_VARIANTS) + 1}"
        item_id = cid("item", j)
        item_stamp = stamp()
        names, factors = SIZE_LADDERS[ladder]
        variations = []
        variation_objects = []
        for v in range(sizes.variations_per_item):
            if v < len(names):
                var_name, factor = names[v], factors[v]
            else:
                var_name, factor = f"Size {v + 1}", 1 + 0.3 * v
            variation_id = cid("variation", j, v)
            price = _price(base * factor, price_factor)
            variations.append(MenuVariation(variation_id, item_stamp, var_name, price))
            data = {
                "item_id": item_id,
                "name": var_name,
                "sku": f"{merchant_index + 1}{j + 1:04d}{v + 1:02d}",
                "ordinal": v + 1,
                "pricing_type": "FIXED_PRICING",
                "price_money": money(price),
                "track_inventory": False,
                "sellable": True,
                "stockable": True,
            }
            variation_objects.append(
                _wrap("ITEM_VARIATION", variation_id, item_stamp, "item_variation_data", data)
            )
        applicable = tuple(ml for ml, cats in modifier_lists if base_name in cats)
        item_taxes = tuple(taxes) if alcoholic else sales_taxes
        ordinal = position + 1
        image_ids = []
        if j % IMAGE_EVERY == 0:  # some dishes have a photo, most do not
            image_id = cid("image", j)
            image_ids.append(image_id)
            objects.append(_wrap("IMAGE", image_id, item_stamp, "image_data", _image(dish, cid)))
        data = {
            "name": dish,
            "description_html": f"<p>{dish}, made in house.</p>",
            "is_taxable": True,
            "tax_ids": [t.id for t in item_taxes],
            "modifier_list_info": [
                {
                    "modifier_list_id": ml.id,
                    "min_selected_modifiers": ml.min_selected,
                    "max_selected_modifiers": ml.max_selected,
                    "enabled": True,
                }
                for ml in applicable
            ],
            "variations": variation_objects,
            "product_type": "FOOD_AND_BEV",
            "skip_modifier_screen": not applicable,
            "categories": [{"id": category_id, "ordinal": ordinal}],
            "reporting_category": {"id": category_id, "ordinal": ordinal},
            "description_plaintext": f"{dish}, made in house.",
            "is_archived": False,
            "is_alcoholic": alcoholic,
        }
        if image_ids:
            data["image_ids"] = image_ids
        objects.append(_wrap("ITEM", item_id, item_stamp, "item_data", data))
        items.append(MenuItem(item_id, dish, tuple(variations), applicable, item_taxes))

    # Popularity follows a Zipf-like curve over a shuffled ranking: a few best sellers.
    ranking = list(range(len(items)))
    rng.shuffle(ranking)
    weights = [0.0] * len(items)
    for rank, index in enumerate(ranking):
        weights[index] = 1.0 / (rank + 1) ** 0.8
    menu = Menu(
        items=tuple(items),
        cum_weights=tuple(itertools.accumulate(weights)),
        taxes=tuple(taxes),
        discounts=tuple(discounts),
    )
    return objects, menu


# --- The live catalog ----------------------------------------------------------------------------


def nested_of(obj: dict) -> list[dict]:
    where = NESTED.get(obj["type"])
    if not where:
        return []
    return obj.get(where[0], {}).get(where[1], []) or []


def references(obj: dict) -> list[str]:
    """Ids an object points at, for `include_related_objects` (one level, README §6)."""
    kind = obj["type"]
    refs: list[str] = []
    if kind == "ITEM":
        data = obj.get("item_data", {})
        refs += [c["id"] for c in data.get("categories", []) if "id" in c]
        if data.get("reporting_category", {}).get("id"):
            refs.append(data["reporting_category"]["id"])
        if data.get("category_id"):
            refs.append(data["category_id"])
        refs += data.get("tax_ids", [])
        refs += [info["modifier_list_id"] for info in data.get("modifier_list_info", [])]
    elif kind == "ITEM_VARIATION":
        refs.append(obj.get("item_variation_data", {}).get("item_id", ""))
    elif kind == "MODIFIER":
        refs.append(obj.get("modifier_data", {}).get("modifier_list_id", ""))
    elif kind == "CATEGORY":
        refs.append(obj.get("category_data", {}).get("parent_category", {}).get("id", ""))
    return [r for r in dict.fromkeys(refs) if r]


def _merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class CatalogStore:
    """One merchant's live catalog. Callers hold the half's lock while calling mutators."""

    def __init__(self, seeded: list[dict]) -> None:
        self.order: list[str] = [obj["id"] for obj in seeded]
        self.objects: dict[str, dict] = {obj["id"]: obj for obj in seeded}
        self.parent: dict[str, str] = {
            child["id"]: obj["id"] for obj in seeded for child in nested_of(obj)
        }
        self.deleted_nested: dict[str, dict] = {}
        self.latest_ms = max((obj["version"] for obj in seeded), default=0)
        self.changed: set[str] = set()  # top-level ids added or edited since the seed

    # reading

    def iter_objects(self, types: frozenset[str], include_deleted: bool) -> Iterator[dict]:
        for object_id in self.order:
            obj = self.objects[object_id]
            if obj.get("is_deleted") and not include_deleted:
                continue
            if obj["type"] in types:
                yield obj
            for child in nested_of(obj):
                if child["type"] in types and (include_deleted or not child.get("is_deleted")):
                    yield child
        if include_deleted:
            yield from (o for o in self.deleted_nested.values() if o["type"] in types)

    def get(self, object_id: str) -> dict | None:
        if object_id in self.objects:
            return self.objects[object_id]
        parent_id = self.parent.get(object_id)
        if parent_id:
            for child in nested_of(self.objects[parent_id]):
                if child["id"] == object_id:
                    return child
        return self.deleted_nested.get(object_id)

    # writing (copy-on-write: readers outside the lock keep a consistent old object)

    def _stamp(self, now: int) -> int:
        self.latest_ms = max(now, self.latest_ms + 1)
        return self.latest_ms

    @staticmethod
    def _touch(obj: dict, stamp: int) -> None:
        obj["version"] = stamp
        obj["updated_at"] = iso_ms(stamp)

    def add(self, body: dict, now: int) -> dict:
        kind = normalise_type(str(body.get("type", "")))
        if kind not in EDITABLE_TYPES:
            raise ValueError(f"type must be one of {sorted(EDITABLE_TYPES)}")
        obj = copy.deepcopy(body)
        obj["type"] = kind
        if not obj.get("id") or str(obj["id"]).startswith("#") or obj["id"] in self.objects:
            obj["id"] = ids.encode(secrets.randbits(120), ids.BASE32, 24)
        stamp = self._stamp(now)
        obj.setdefault("is_deleted", False)
        obj.setdefault("present_at_all_locations", True)
        self._touch(obj, stamp)
        for child in nested_of(obj):
            if not child.get("id") or str(child["id"]).startswith("#"):
                child["id"] = ids.encode(secrets.randbits(120), ids.BASE32, 24)
            child.setdefault("type", "ITEM_VARIATION" if kind == "ITEM" else "MODIFIER")
            child.setdefault("is_deleted", False)
            child.setdefault("present_at_all_locations", True)
            self._touch(child, stamp)
            if kind == "ITEM":
                child.setdefault("item_variation_data", {})["item_id"] = obj["id"]
            else:
                child.setdefault("modifier_data", {})["modifier_list_id"] = obj["id"]
            self.parent[child["id"]] = obj["id"]
        self.objects[obj["id"]] = obj
        self.order.append(obj["id"])
        self.changed.add(obj["id"])
        return obj

    def update(self, object_id: str, patch: dict, now: int) -> dict:
        patch = {k: v for k, v in patch.items() if k not in ("id", "type", "version")}
        stamp = self._stamp(now)
        if object_id in self.objects:
            obj = copy.deepcopy(self.objects[object_id])
            _merge(obj, patch)
            self._touch(obj, stamp)
            self.objects[object_id] = obj
            self.changed.add(object_id)
            return obj
        parent_id = self.parent.get(object_id)
        if not parent_id or object_id in self.deleted_nested:
            raise KeyError(object_id)
        parent = copy.deepcopy(self.objects[parent_id])
        self._touch(parent, stamp)
        for child in nested_of(parent):
            if child["id"] == object_id:
                _merge(child, patch)
                self._touch(child, stamp)
                self.objects[parent_id] = parent
                self.changed.add(parent_id)
                return child
        raise KeyError(object_id)

    def delete(self, object_id: str, now: int) -> dict:
        stamp = self._stamp(now)
        if object_id in self.objects:
            obj = copy.deepcopy(self.objects[object_id])
            obj["is_deleted"] = True
            self._touch(obj, stamp)
            for child in nested_of(obj):  # deleting an item deletes its variations
                child["is_deleted"] = True
                self._touch(child, stamp)
            self.objects[object_id] = obj
            self.changed.add(object_id)
            return obj
        parent_id = self.parent.get(object_id)
        if not parent_id or object_id in self.deleted_nested:
            raise KeyError(object_id)
        parent = copy.deepcopy(self.objects[parent_id])
        data_key, list_key = NESTED[parent["type"]]
        children = parent[data_key][list_key]
        child = next(c for c in children if c["id"] == object_id)
        parent[data_key][list_key] = [c for c in children if c["id"] != object_id]
        self._touch(parent, stamp)
        child["is_deleted"] = True
        self._touch(child, stamp)
        self.objects[parent_id] = parent
        self.deleted_nested[object_id] = child
        self.changed.add(parent_id)
        return child

    # keeping across a restart (durable.py)

    def saved(self) -> dict:
        """The edits since the seed: changed and added objects, in catalog order."""
        return {
            "objects": [self.objects[i] for i in self.order if i in self.changed],
            "deleted_nested": list(self.deleted_nested.values()),
            "latest_ms": self.latest_ms,
        }

    def apply_saved(self, saved: dict) -> None:
        for obj in saved["objects"]:
            if obj["id"] not in self.objects:
                self.order.append(obj["id"])
            self.objects[obj["id"]] = obj
            for child in nested_of(obj):
                self.parent[child["id"]] = obj["id"]
            self.changed.add(obj["id"])
        self.deleted_nested.update((o["id"], o) for o in saved["deleted_nested"])
        self.latest_ms = int(saved["latest_ms"])
