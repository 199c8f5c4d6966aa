from django.apps import AppConfig


class SalesConfig(AppConfig):
    """Imported sales: orders and their line items (money as integer minor units + currency)."""

    name = "sous.sales"
    label = "sales"
    verbose_name = "Sales"
