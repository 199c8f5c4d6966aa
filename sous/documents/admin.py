"""Documents are imported, not edited here: the admin lists them and serves their stored copy."""

from django.contrib import admin
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from sous.admin import ReadOnlyAdminMixin

from . import downloads
from .models import Document


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "organization",
        "kind",
        "status",
        "folder_path",
        "size",
        "updated_at",
        "stored_copy",
    ]
    list_filter = ["source", "kind", "status"]
    search_fields = ["name", "folder_path", "external_id", "organization__name"]
    date_hierarchy = "updated_at"
    # Django would link the file field to MEDIA_URL, which nothing serves (and must not: it
    # would skip the organisation check); the stored copy is served by get_urls' view.
    exclude = ["content"]
    # web_url read-only too: its form field would warn about Django 6's https default.
    readonly_fields = ["stored_copy", "web_url"]

    @admin.display(description="Stored copy")
    def stored_copy(self, document: Document) -> str:
        if not document.content:
            return "None kept"
        url = reverse("admin:documents_document_download", args=[document.pk])
        return format_html('<a href="{}">Download</a> {}', url, document.content.name)

    def get_urls(self):
        # Site staff read any organisation's documents here, where the admin's own
        # permissions apply; the product's download view serves an organisation's members.
        download = self.admin_site.admin_view(self.download_view)
        return [
            path("<int:pk>/download/", download, name="documents_document_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, pk: int):
        document = get_object_or_404(Document, pk=pk)
        if not self.has_view_permission(request, document) or not document.content:
            raise Http404("No stored copy")
        return downloads.response(document, request)
