"""Read-only admin pages: imported orders change only through a sync."""

from django.contrib import admin

from .models import Order, OrderLineItem


class LineItemInline(admin.TabularInline):
    model = OrderLineItem
    fields = ["name", "variation_name", "quantity", "total_money", "currency"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "business_date",
        "location_external_id",
        "state",
        "total_money",
        "currency",
        "organization",
    ]
    list_filter = ["source", "state"]
    search_fields = ["external_id", "location_external_id", "organization__name"]
    date_hierarchy = "business_date"
    inlines = [LineItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
