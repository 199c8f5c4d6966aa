"""Read-only admin pages: imported rows change only through a sync."""

from django.contrib import admin

from sous.admin import ReadOnlyAdminMixin

from .models import Category, Discount, Image, Item, ItemVariation, Modifier, ModifierList


class ImportedAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_filter = ["source", "is_deleted"]
    search_fields = ["name", "external_id", "organization__name"]


class VariationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ItemVariation
    fields = ["name", "sku", "price", "currency", "is_deleted"]
    extra = 0


@admin.register(Item)
class ItemAdmin(ImportedAdmin):
    list_display = ["name", "organization", "source", "is_deleted", "updated_at"]
    inlines = [VariationInline]


@admin.register(Category)
class CategoryAdmin(ImportedAdmin):
    list_display = ["name", "organization", "source", "is_deleted"]


@admin.register(ModifierList)
class ModifierListAdmin(ImportedAdmin):
    list_display = ["name", "min_selected", "max_selected", "organization", "is_deleted"]


@admin.register(Modifier)
class ModifierAdmin(ImportedAdmin):
    list_display = ["name", "modifier_list", "price", "currency", "is_deleted"]


@admin.register(Discount)
class DiscountAdmin(ImportedAdmin):
    list_display = ["name", "discount_type", "percentage", "amount", "is_deleted"]


@admin.register(Image)
class ImageAdmin(ImportedAdmin):
    list_display = ["external_id", "url", "organization", "is_deleted"]
    search_fields = ["external_id", "url"]


@admin.register(ItemVariation)
class ItemVariationAdmin(ImportedAdmin):
    list_display = ["name", "item", "sku", "price", "currency", "is_deleted"]
