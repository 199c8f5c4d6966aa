"""Locations importer: what the provider lists now -> the connection's settings.

Keeps the names and time zones Sous plans with current (a renamed location, or one moved to
another time zone), and records a location met for the first time as new and excluded, with an
activity entry telling staff to include it (rules in providers/locations.py). Run by the
provider's locations refresh (asked for by its location events) and by every sales sync, so a
new location is noticed with webhooks off too.
"""

from __future__ import annotations

from django.db import transaction

from integrations.jobs import schedules
from integrations.models import IntegrationConfig, IntegrationEvent
from integrations.services import activity, apps
from providers import locations
from providers.records.locations import LocationRecord
from providers.records.tally import Tally

from . import Counts


def import_locations(organization, source: str, records: list[LocationRecord]) -> Counts:
    name = apps.provider(source).name
    with transaction.atomic():
        # Under the row lock: the picker's save and concurrent syncs merge, never overwrite.
        config = (
            IntegrationConfig.objects.select_for_update()
            .filter(organization=organization, provider=source)
            .first()
        )
        if config is None:  # disconnected meanwhile
            return Counts(skipped=len(records))
        result = locations.remember(config.settings, records)
        if result.settings != config.settings:
            config.settings = result.settings
            config.save(update_fields=["settings", "updated_at"])
        for record in result.added:
            activity.record(
                config,
                IntegrationEvent.Kind.SETTINGS_CHANGED,
                f"New location in {name}: {record.name}, excluded from sales until you include it",
                actor_label=name,
            )
        for record in result.changed:
            activity.record(
                config,
                IntegrationEvent.Kind.SETTINGS_CHANGED,
                f"Location changed in {name}: {record.name} ({record.timezone})",
                actor_label=name,
            )
        if result.added or result.changed:
            schedules.replan(config)  # nightly runs follow each location's own zone
    # Settings, not imported rows: a sales job's created / updated / unchanged stay its orders'.
    return Counts(totals=Tally(locations=len(records), locations_new=len(result.added)))
