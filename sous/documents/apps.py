from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """Recipes and invoices found in Drive, with their content."""

    name = "sous.documents"
    label = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from integrations.services import imported

        from .models import Document

        # The disconnect dialog lists what stays: every document and its stored copy.
        imported.register(
            "documents",
            lambda org, source: Document.objects.filter(organization=org, source=source).count(),
        )
