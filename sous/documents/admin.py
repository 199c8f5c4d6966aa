"""Documents are imported, not edited here: the admin lists them and links their stored copy."""

from django.contrib import admin

from sous.admin import ReadOnlyAdminMixin

from .models import Document


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "status", "folder_path", "size", "updated_at"]
    list_filter = ["source", "kind", "status"]
    search_fields = ["name", "folder_path", "external_id", "organization__name"]
    date_hierarchy = "updated_at"
