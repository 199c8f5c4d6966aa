"""Count the imported figures (the drawer's and the disconnect dialog's) again from the rows.

    manage.py integrations_recount

The importers keep the figures as they commit. Run this once after upgrading from a release
whose workers did not keep them (they may have imported while the new release migrated), or
whenever rows were written around the importers. Safe while imports run.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.services import imported


class Command(BaseCommand):
    help = "Count the imported figures again from the imported rows."

    def handle(self, *args, **options) -> None:
        changed = imported.recount_all()
        self.stdout.write(f"Imported figures counted again: {changed} changed.")
