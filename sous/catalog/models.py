"""The imported menu: categories, items, variations, modifier lists, modifiers, discounts, images.

Every row is keyed by (organisation, source, external id) and carries the source's `version`
and `updated_at`, so a re-import writes only what changed and never goes back to an older
version. Objects deleted at the source are marked `is_deleted` and kept: recipes, costings and
years of sales lines still point at them. Nothing here points at the connection that imported
it (DESIGN: Disconnect), and rows are written in bulk by `integrations/sync/catalog.py`.
"""

from __future__ import annotations

from django.db import models

from sous.orgs.models import Organization


class Imported(models.Model):
    """What every imported catalog row has: who owns it, where it came from, which version."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=40)  # the provider key: "square"
    external_id = models.CharField(max_length=255)
    version = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)  # at the source
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)  # when Sous saw the deletion
    first_imported_at = models.DateTimeField()
    last_changed_at = models.DateTimeField()  # the last write that changed this row

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"],
                name="%(app_label)s_%(class)s_unique_external",
            )
        ]

    def __str__(self) -> str:
        return getattr(self, "name", "") or self.external_id


class Category(Imported):
    name = models.CharField(max_length=255)
    parent_external_id = models.CharField(max_length=255, blank=True)

    class Meta(Imported.Meta):
        verbose_name_plural = "categories"


class Image(Imported):
    url = models.URLField(max_length=2000, blank=True)
    name = models.CharField(max_length=255, blank=True)


class ModifierList(Imported):
    name = models.CharField(max_length=255)
    selection_type = models.CharField(max_length=20, blank=True)
    min_selected = models.IntegerField(null=True, blank=True)  # None: no minimum
    max_selected = models.IntegerField(null=True, blank=True)  # None: no maximum


class Modifier(Imported):
    modifier_list = models.ForeignKey(
        ModifierList, on_delete=models.CASCADE, related_name="modifiers"
    )
    name = models.CharField(max_length=255)
    price = models.BigIntegerField(null=True, blank=True)  # minor units
    currency = models.CharField(max_length=3, blank=True)
    on_by_default = models.BooleanField(default=False)
    ordinal = models.IntegerField(null=True, blank=True)


class Discount(Imported):
    name = models.CharField(max_length=255)
    discount_type = models.CharField(max_length=40, blank=True)
    percentage = models.CharField(max_length=20, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)  # minor units
    currency = models.CharField(max_length=3, blank=True)


class Item(Imported):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    image_external_id = models.CharField(max_length=255, blank=True)
    image_url = models.URLField(max_length=2000, blank=True)
    is_archived = models.BooleanField(default=False)
    categories = models.ManyToManyField(Category, through="ItemCategory", related_name="items")
    modifier_lists = models.ManyToManyField(
        ModifierList, through="ItemModifierList", related_name="items"
    )


class ItemVariation(Imported):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="variations")
    name = models.CharField(max_length=255, blank=True)
    sku = models.CharField(max_length=255, blank=True)
    price = models.BigIntegerField(null=True, blank=True)  # minor units; None: priced at sale
    currency = models.CharField(max_length=3, blank=True)
    ordinal = models.IntegerField(null=True, blank=True)


class ItemCategory(models.Model):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="category_links")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="item_links")
    ordinal = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "category"], name="catalog_item_category_once")
        ]

    def __str__(self) -> str:
        return f"{self.item_id} in {self.category_id}"


class ItemModifierList(models.Model):
    """An item's use of a modifier list, with the item's own selection limits when it has any."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="modifier_list_links")
    modifier_list = models.ForeignKey(
        ModifierList, on_delete=models.CASCADE, related_name="item_links"
    )
    min_selected = models.IntegerField(null=True, blank=True)  # None: the list's own limit
    max_selected = models.IntegerField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    ordinal = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "modifier_list"], name="catalog_item_modifier_list_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id} uses {self.modifier_list_id}"
