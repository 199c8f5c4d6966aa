from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The imported menu: categories, items, variations, modifier lists, modifiers, discounts."""

    name = "sous.catalog"
    label = "catalog"
    verbose_name = "Catalog"
