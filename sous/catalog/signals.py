"""Signals other domains subscribe to (DESIGN: Downstream), sent after each committed page.

catalog_changed(sender, organization, source, changed)
    changed: {"items": [pk, ...], "variations": [...], "categories": [...],
              "modifier_lists": [...], "modifiers": [...], "discounts": [...],
              "images": [...]}: rows created, updated or marked deleted by that page.
"""

from django.dispatch import Signal

catalog_changed = Signal()
