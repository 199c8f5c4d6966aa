"""What a sync imported, by kind of record: the importers fill a `Tally`, and an action's
finishing summary reads it ("Catalog synced: 312 items, 14 categories, 9 modifier lists").

It counts records received by kind (a catalog read again still says "312 items"), and what
became of them where a summary says so ("7 new"); `integrations.sync.Counts` holds the rows
written. A job keeps its tally as JSON (SyncJob.counts), zeros left out; names a Tally does
not have are ignored when it is read back.

Example, one page of a Sales sync:

    Tally(orders=1000, orders_new=990, orders_changed=10, line_items=3120)
"""

from __future__ import annotations

import msgspec


class Tally(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What one page, or one whole job, imported (see the module docstring)."""

    # Catalog: objects received, by type, and objects the provider deleted that Sous had.
    categories: int = 0
    images: int = 0
    discounts: int = 0
    modifier_lists: int = 0
    modifiers: int = 0
    items: int = 0
    variations: int = 0
    catalog_deleted: int = 0
    # Sales: orders received, of which new and changed in Sous, and their line items.
    orders: int = 0
    orders_new: int = 0
    orders_changed: int = 0
    line_items: int = 0
    # Documents: files by what happened to them in Sous.
    documents_new: int = 0
    documents_changed: int = 0
    documents_removed: int = 0
    documents_skipped: int = 0
    documents_downloaded: int = 0
    # Documents: what the watched folders hold at the end of a scan, by kind, and the kinds
    # ("recipe", "invoice": DocumentFile.kind) whose watched folder is no longer available.
    recipes: int = 0
    invoices: int = 0
    unavailable_folders: tuple[str, ...] = ()
    # Notifications: events read from the provider's feed, of which ones never received.
    events_read: int = 0
    events_missed: int = 0
    # Locations: listed by the provider, of which ones Sous met for the first time.
    locations: int = 0
    locations_new: int = 0

    def add(self, other: Tally) -> None:
        for name in _NUMBERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unavailable_folders = tuple(
            sorted({*self.unavailable_folders, *other.unavailable_folders})
        )


_NUMBERS = tuple(name for name in Tally.__struct_fields__ if name != "unavailable_folders")
