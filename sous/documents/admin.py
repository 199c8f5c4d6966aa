"""Documents are imported, not edited here: the admin lists them and links their stored copy."""

from django.contrib import admin

from .models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "status", "folder_path", "size", "updated_at"]
    list_filter = ["source", "kind", "status"]
    search_fields = ["name", "folder_path", "external_id", "organization__name"]
    date_hierarchy = "updated_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
