"""Read-only admin pages: imported orders change only through a sync."""

from django.contrib import admin

from sous.admin import ReadOnlyAdminMixin

from .models import Order, OrderLineItem


class LineItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLineItem
    fields = ["name", "variation_name", "quantity", "total_money", "currency"]
    extra = 0


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
