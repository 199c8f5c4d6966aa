"""Importers: neutral records (providers/records/) -> bulk upserts into the sous.* domains.

Each importer takes (organization, source, records of one type) and returns `Counts`. The job
engine (integrations/jobs/execute.py) drives an action's pages and hands each page's records
here, grouped by type. A new record type adds a line to IMPORTERS; a new provider adds nothing here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from importlib import import_module

import msgspec

from providers.records.tally import Tally

# record class name -> "module.function"
IMPORTERS: dict[str, str] = {
    # providers/records/documents.py
    "DocumentFile": "integrations.sync.documents.import_files",
    "DocumentRemoved": "integrations.sync.documents.remove_files",
    "DocumentFolderRemoved": "integrations.sync.documents.remove_folders",
    "DocumentScanFinished": "integrations.sync.documents.finish_scan",
    # providers/records/catalog.py
    "CategoryRecord": "integrations.sync.catalog.import_categories",
    "ImageRecord": "integrations.sync.catalog.import_images",
    "ModifierListRecord": "integrations.sync.catalog.import_modifier_lists",
    "DiscountRecord": "integrations.sync.catalog.import_discounts",
    "ItemRecord": "integrations.sync.catalog.import_items",
    "CatalogDeletionRecord": "integrations.sync.catalog.import_deletions",
    # providers/records/sales.py
    "OrderRecord": "integrations.sync.sales.import_orders",
    "BusinessDaysRead": "integrations.sync.ledger.import_days_read",
    # providers/records/locations.py
    "LocationRecord": "integrations.sync.locations.import_locations",
    # providers/records/lookups.py
    "LookupData": "integrations.sync.lookups.import_lookups",
    # providers/records/notifications.py
    "MissedNotification": "integrations.webhooks.process.import_missed",
}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    # Records received by kind, for the finishing summary (the action's `summary()`).
    totals: Tally = field(default_factory=Tally)

    def add(self, other: Counts) -> None:
        for name in ("created", "updated", "deleted", "unchanged", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.totals.add(other.totals)

    def as_json(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "totals": msgspec.to_builtins(self.totals),
        }

    @classmethod
    def from_json(cls, data: dict | None) -> Counts:
        data = dict(data or {})
        # Names a Tally does not have (an older release's "new orders") are left out.
        totals = msgspec.convert(data.pop("totals", None) or {}, Tally)
        known = {k: int(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known, totals=totals)


def importer_for(record) -> callable:
    name = type(record).__name__
    try:
        module_path, _, func = IMPORTERS[name].rpartition(".")
    except KeyError:
        raise LookupError(f"no importer registered for {name}") from None
    return getattr(import_module(module_path), func)


def save_records(organization, source: str, records: list) -> Counts:
    """Save one page: each record type in one bulk call, in the page's order of types."""
    groups: dict[str, list] = defaultdict(list)
    for record in records:
        groups[type(record).__name__].append(record)
    counts = Counts()
    for batch in groups.values():
        counts.add(importer_for(batch[0])(organization, source, batch))
    return counts
