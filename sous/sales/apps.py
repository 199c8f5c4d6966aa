from django.apps import AppConfig


class SalesConfig(AppConfig):
    """Imported sales: orders and their line items (money as integer minor units + currency)."""

    name = "sous.sales"
    label = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from integrations.services import imported

        from .models import Order

        imported.register(
            "orders",
            lambda org, source: Order.objects.filter(organization=org, source=source).count(),
        )
