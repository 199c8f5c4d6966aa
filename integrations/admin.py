"""Read-only admin pages. Encrypted token fields are never shown, not even as ciphertext."""

from django.contrib import admin

from sous.admin import ReadOnlyAdminMixin

from .models import IntegrationConfig, IntegrationEvent, SyncJob

SECRET_FIELDS = {"access_token_encrypted", "refresh_token_encrypted"}


@admin.register(IntegrationConfig)
class IntegrationConfigAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["organization", "provider", "status", "account_name", "last_synced_at"]
    list_filter = ["provider", "status"]
    search_fields = ["organization__name", "account_name", "external_account_id"]
    exclude = sorted(SECRET_FIELDS)

    def has_delete_permission(self, request, obj=None):
        # Deleting the row would leave the grant alive at the provider: Disconnect, on
        # Admin > Integrations, revokes it first.
        return False


@admin.register(IntegrationEvent)
class IntegrationEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "organization", "provider", "kind", "message", "who"]
    list_filter = ["provider", "kind"]


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "organization", "kind", "status", "progress_done", "summary"]
    list_filter = ["provider", "kind", "status"]
    search_fields = ["id", "organization__name"]
