"""Read-only admin pages. Encrypted token fields are never shown, not even as ciphertext."""

from django.contrib import admin

from .models import IntegrationConfig, IntegrationEvent, SyncJob

SECRET_FIELDS = {"access_token_encrypted", "refresh_token_encrypted"}


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IntegrationConfig)
class IntegrationConfigAdmin(ReadOnlyAdmin):
    list_display = ["organization", "provider", "status", "account_name", "last_synced_at"]
    list_filter = ["provider", "status"]
    search_fields = ["organization__name", "account_name", "external_account_id"]
    exclude = sorted(SECRET_FIELDS)


@admin.register(IntegrationEvent)
class IntegrationEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "provider", "kind", "message", "who"]
    list_filter = ["provider", "kind"]


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "kind", "status", "progress_done", "summary"]
    list_filter = ["provider", "kind", "status"]
    search_fields = ["id", "organization__name"]
