"""What staff can start from the Google drawer: Scan Now (job kind `google.scan`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from providers.base import Action, InvalidParams, Page, SyncRequest
from providers.records.tally import Tally
from providers.schedules import Every

from .client import GoogleClient
from .drive import KINDS, DriveScan, ScanCheckpoint, plural, watched_folders
from .push import CHANGE_STATES


class ScanDrive(Action):
    """Crawl the Recipes and Invoices folders (or read Drive's changes since the last scan)
    and import each file as a Document."""

    key = "scan"
    label = "Drive scan"
    description = (
        "Imports every file in your Recipes and Invoices folders and their subfolders. "
        "Later scans only fetch what changed."
    )
    template = "google/scan.html"
    incremental = True
    notifications = tuple(sorted(CHANGE_STATES))
    freshness_words = "Documents checked"
    # While folders are watched (an incremental scan reads only Drive's changes).
    schedule = Every(
        default=15,
        choices=((5, "5 min"), (15, "15 min"), (30, "30 min"), (60, "hour")),
        applies=lambda settings: bool(watched_folders(settings)),
        idle="Starts once a Recipes or Invoices folder is chosen.",
    )
    Checkpoint = ScanCheckpoint

    def validate(self, data: Mapping[str, str], *, settings: dict, now: datetime) -> dict:
        if not watched_folders(settings):
            raise InvalidParams("Choose a Recipes or Invoices folder first.")
        return {}

    def pages(self, client: GoogleClient, request: SyncRequest) -> Iterator[Page]:
        return DriveScan(client, request).pages()

    def summary(self, tally: Tally) -> str:
        """ "Drive scanned: 42 recipes, 118 invoices (7 new)"."""
        found = f"{plural(tally.recipes, 'recipe')}, {plural(tally.invoices, 'invoice')}"
        notes = [f"{tally.documents_new:,} new"]
        notes += [
            f"{count:,} {word}"
            for count, word in (
                (tally.documents_changed, "changed"),
                (tally.documents_removed, "removed"),
                (tally.documents_skipped, "skipped"),
            )
            if count
        ]
        text = f"Drive scanned: {found} ({', '.join(notes)})"
        for kind, label in KINDS.items():
            if kind in tally.unavailable_folders:
                text += f". {label} folder no longer available, pick another"
        return text
