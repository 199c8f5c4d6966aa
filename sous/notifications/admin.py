from django.contrib import admin

from .models import Alert, Notification


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("title", "organization", "source", "condition", "opened_at", "resolved_at")
    list_filter = ("condition", "source")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "organization", "kind", "created_at", "read_at", "emailed_at")
    list_filter = ("kind",)
