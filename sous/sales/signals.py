"""Signals other domains subscribe to (DESIGN: Downstream), sent after each committed page.

orders_imported(sender, organization, source, order_ids)
    order_ids: pks of the orders created or changed by that page (their lines were
    replaced with them); unchanged orders are not repeated.
"""

from django.dispatch import Signal

orders_imported = Signal()
