from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The imported menu: categories, items, variations, modifier lists, modifiers, discounts."""

    name = "sous.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from integrations.services import imported

        from .models import Category, Item, ModifierList

        # What the disconnect dialog lists under "Stays" (deleted-at-source rows are kept too).
        for label, model in (
            ("menu items", Item),
            ("categories", Category),
            ("modifier lists", ModifierList),
        ):
            imported.register(
                label,
                lambda org, source, model=model: model.objects.filter(
                    organization=org, source=source, is_deleted=False
                ).count(),
            )
