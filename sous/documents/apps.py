from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """Recipes and invoices found in Drive, with their content."""

    name = "sous.documents"
    label = "documents"
    verbose_name = "Documents"
