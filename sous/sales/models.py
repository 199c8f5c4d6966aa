"""Imported sales: orders and their line items, money as integer minor units plus currency.

An order is keyed by (organisation, source, external id) and carries the source's version and
`updated_at`: re-importing a range writes only the orders that changed, never duplicates one and
never goes back to an older version. Its lines are replaced together with it. `business_date`
is the location's business day the order belongs to (its own time zone and cutoff), decided at
import. Nothing here points at the connection that imported it (DESIGN: Disconnect); rows are
written in bulk by `integrations/sync/sales.py`.
"""

from __future__ import annotations

from django.db import models

from sous.orgs.models import Organization


class Order(models.Model):
    class State(models.TextChoices):
        OPEN = "OPEN", "Open"
        COMPLETED = "COMPLETED", "Completed"
        CANCELED = "CANCELED", "Cancelled"

    # No index of its own: the unique constraint and both indexes below lead with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=40)  # the provider key: "square"
    external_id = models.CharField(max_length=255)
    version = models.BigIntegerField(default=0)
    location_external_id = models.CharField(max_length=255)
    state = models.CharField(max_length=20, choices=State.choices)
    source_name = models.CharField(max_length=255, blank=True)  # "Square Point of Sale"
    business_date = models.DateField()
    # The source's own times.
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    total_money = models.BigIntegerField()
    total_tax_money = models.BigIntegerField(default=0)
    total_discount_money = models.BigIntegerField(default=0)
    total_tip_money = models.BigIntegerField(default=0)
    total_service_charge_money = models.BigIntegerField(default=0)
    first_imported_at = models.DateTimeField()
    last_changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="sales_order_unique_external"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "source", "location_external_id", "business_date"],
                name="sales_order_location_day",
            ),
            models.Index(fields=["organization", "business_date"], name="sales_order_day"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.business_date})"


class OrderLineItem(models.Model):
    # No index of its own: the (order, uid) unique constraint leads with it.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="line_items", db_index=False
    )
    uid = models.CharField(max_length=255)  # unique within the order
    name = models.CharField(max_length=512, blank=True)
    variation_name = models.CharField(max_length=255, blank=True)
    item_type = models.CharField(max_length=40, blank=True)
    quantity = models.DecimalField(max_digits=20, decimal_places=5)
    catalog_object_id = models.CharField(max_length=255, blank=True)  # the variation sold
    catalog_version = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    base_price_money = models.BigIntegerField(null=True, blank=True)
    gross_sales_money = models.BigIntegerField(null=True, blank=True)
    total_discount_money = models.BigIntegerField(default=0)
    total_tax_money = models.BigIntegerField(default=0)
    total_money = models.BigIntegerField(null=True, blank=True)
    # [{"name", "catalog_object_id", "quantity", "base_price_money", "total_price_money"}]
    modifiers = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "uid"], name="sales_line_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


class SalesDay(models.Model):
    """The completeness ledger: one row per location and business day a sync has looked at.

    Its figures are always what the stored orders add up to (completed orders only: open
    ones are not paid yet and cancelled ones never will be); `pulled_figures` is what they
    added up to when a sync last read the whole day, so a re-pull can say what it changed.
    How complete the day is (open, in the late window, complete, ...) depends on the time
    and is worked out by `sous.sales.ledger.state`; a day without a row was never pulled.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=40)
    location_external_id = models.CharField(max_length=255)
    business_date = models.DateField()
    currency = models.CharField(max_length=3, blank=True)
    orders = models.PositiveIntegerField(default=0)
    # Minor units. gross - discounts = net; net + tax + tips + service charges = total.
    gross_sales = models.BigIntegerField(default=0)
    discounts = models.BigIntegerField(default=0)
    net_sales = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    tips = models.BigIntegerField(default=0)
    service_charges = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    closes_at = models.DateTimeField(null=True, blank=True)  # the business day's end
    final_at = models.DateTimeField(null=True, blank=True)  # its end plus the late window
    first_pulled_at = models.DateTimeField(null=True, blank=True)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    pulled_figures = models.JSONField(default=dict, blank=True)
    # What the latest re-pull changed: {"orders": [before, after], "total": [...]}; {} for
    # nothing, None until the day has been pulled twice.
    last_change = models.JSONField(null=True, blank=True)
    # Set for good when a re-pull found other figures than a pull made after the late window.
    changed_after_close_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "location_external_id", "business_date"],
                name="sales_day_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.location_external_id} {self.business_date}"
