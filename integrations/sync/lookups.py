"""Cached lookups read by a job (`LookupData` records) -> the connection's kept lookups, so a
sync or a notification that read the locations or the watched folders refreshes the drawer's
copy too (integrations/services/lookups.py)."""

from __future__ import annotations

from integrations.services import lookups
from providers.records.lookups import LookupData

from . import Counts


def import_lookups(organization, source: str, records: list[LookupData]) -> Counts:
    for record in records:
        lookups.store(
            organization.pk, source, record.name, record.data, account_id=record.account_id
        )
    # Not imported rows: the job's counts and summary stay its records'.
    return Counts()
