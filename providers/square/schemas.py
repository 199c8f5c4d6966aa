"""Square response bodies we read, parsed strictly at the edge (fields per the OpenAPI spec in
shared/reference/square/openapi-subset.json). Unknown fields are ignored: Square adds fields."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import msgspec

T = TypeVar("T")


class SquareModel(msgspec.Struct, frozen=True, gc=False):
    """msgspec rather than pydantic: a SearchOrders page is a thousand orders and a few
    megabytes of JSON, which msgspec decodes about eight times faster (see bench/README.md).
    `gc=False`: decoded JSON cannot hold reference cycles, so the cyclic garbage collector
    need not track the tens of thousands of objects a page makes."""


class ObtainTokenResponse(SquareModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime | None = None
    merchant_id: str = ""
    refresh_token: str = ""
    short_lived: bool = False
    refresh_token_expires_at: datetime | None = None


class TokenStatus(SquareModel):
    scopes: list[str] = []
    expires_at: datetime | None = None
    client_id: str = ""
    merchant_id: str = ""


class Merchant(SquareModel):
    id: str
    business_name: str = ""
    country: str = ""
    currency: str = ""
    status: str = ""
    main_location_id: str = ""


class RetrieveMerchantResponse(SquareModel):
    merchant: Merchant


class Location(SquareModel):
    id: str
    name: str = ""
    status: str = ""
    timezone: str = "UTC"
    currency: str = ""
    business_name: str = ""
    business_email: str = ""


class ListLocationsResponse(SquareModel):
    locations: list[Location] = []


# --- Catalog (README §6): SearchCatalogObjects ------------------------------------------------


class Money(SquareModel):
    amount: int
    currency: str = ""


class CatalogObjectCategory(SquareModel):
    id: str
    ordinal: int | None = None


class CatalogItemModifierListInfo(SquareModel):
    modifier_list_id: str
    min_selected_modifiers: int | None = None
    max_selected_modifiers: int | None = None
    enabled: bool | None = None
    ordinal: int | None = None


class CatalogItemVariation(SquareModel):
    item_id: str = ""
    name: str | None = None
    sku: str | None = None
    ordinal: int | None = None
    pricing_type: str | None = None
    price_money: Money | None = None


class CatalogModifier(SquareModel):
    name: str | None = None
    price_money: Money | None = None
    on_by_default: bool | None = None
    ordinal: int | None = None
    modifier_list_id: str | None = None


class CatalogCategory(SquareModel):
    name: str | None = None
    parent_category: CatalogObjectCategory | None = None


class CatalogImage(SquareModel):
    name: str | None = None
    url: str | None = None


class CatalogDiscount(SquareModel):
    name: str | None = None
    discount_type: str | None = None
    percentage: str | None = None
    amount_money: Money | None = None


class CatalogModifierList(SquareModel):
    name: str | None = None
    selection_type: str | None = None
    min_selected_modifiers: int | None = None
    max_selected_modifiers: int | None = None
    modifiers: list[CatalogObject] | None = None


class CatalogItem(SquareModel):
    name: str | None = None
    description: str | None = None
    description_plaintext: str | None = None
    image_ids: list[str] | None = None
    # `category_id` is deprecated since 2023-12-13 in favour of `categories` (README §6).
    category_id: str | None = None
    categories: list[CatalogObjectCategory] | None = None
    modifier_list_info: list[CatalogItemModifierListInfo] | None = None
    variations: list[CatalogObject] | None = None
    is_archived: bool | None = None


class CatalogObject(SquareModel):
    type: str
    id: str
    updated_at: datetime | None = None
    version: int = 0
    is_deleted: bool = False
    item_data: CatalogItem | None = None
    category_data: CatalogCategory | None = None
    item_variation_data: CatalogItemVariation | None = None
    modifier_list_data: CatalogModifierList | None = None
    modifier_data: CatalogModifier | None = None
    discount_data: CatalogDiscount | None = None
    image_data: CatalogImage | None = None


class SearchCatalogObjectsResponse(SquareModel):
    objects: list[CatalogObject] = []
    cursor: str | None = None
    # Kept as Square wrote it: the next incremental run sends it back as `begin_time`.
    latest_time: str | None = None


# --- Orders (README §7): SearchOrders ---------------------------------------------------------


class OrderSource(SquareModel):
    name: str | None = None


class OrderLineItemModifier(SquareModel):
    uid: str | None = None
    catalog_object_id: str | None = None
    name: str | None = None
    quantity: str | None = None
    base_price_money: Money | None = None
    total_price_money: Money | None = None


class OrderLineItem(SquareModel):
    quantity: str
    uid: str | None = None
    name: str | None = None
    catalog_object_id: str | None = None
    catalog_version: int | None = None
    variation_name: str | None = None
    item_type: str | None = None
    modifiers: list[OrderLineItemModifier] | None = None
    base_price_money: Money | None = None
    gross_sales_money: Money | None = None
    total_tax_money: Money | None = None
    total_discount_money: Money | None = None
    total_money: Money | None = None


class Order(SquareModel):
    id: str
    location_id: str
    created_at: datetime
    updated_at: datetime
    state: str | None = None
    version: int | None = None
    source: OrderSource | None = None
    line_items: list[OrderLineItem] | None = None
    closed_at: datetime | None = None
    total_money: Money | None = None
    total_tax_money: Money | None = None
    total_discount_money: Money | None = None
    total_tip_money: Money | None = None
    total_service_charge_money: Money | None = None


class SearchCursor(SquareModel):
    """Only the cursor of a paged answer (the rest is skipped without being built)."""

    cursor: str | None = None


class SearchOrdersResponse(SquareModel):
    orders: list[Order] = []
    cursor: str | None = None


def from_json(kind: type[T], content: bytes) -> T:
    """`content` parsed strictly as `kind`; msgspec.ValidationError names the offending field."""
    return msgspec.json.decode(content, type=kind)


def from_data(kind: type[T], data: object) -> T:
    """Already-decoded JSON (a dict) as `kind`."""
    return msgspec.convert(data, kind)
