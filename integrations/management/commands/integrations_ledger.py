"""Print the completeness ledger: per location and business day, its state and figures.

    manage.py integrations_ledger --org acme-bistro --start 2024-11-01 --end 2024-11-30
    manage.py integrations_ledger --org acme-bistro --location L1 --start … --end … --json

The same rows as the drawer's calendar, days never pulled included. Money is in minor units
with `--json` (exact, as stored) and formatted otherwise.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations.management.cli import OneLineErrors
from integrations.models import IntegrationConfig
from integrations.services import apps, ledger
from providers import registry
from sous.orgs.models import Organization
from sous.sales.ledger import FIGURE_LABELS, FIGURES

MAX_DAYS = 3 * 366


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def day_argument(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"dates look like 2024-11-01 (got {text!r})") from None


class Command(OneLineErrors, BaseCommand):
    help = "The completeness ledger of a connection's sales: one row per location and day."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument("--provider", default="square", help="the connection (square)")
        parser.add_argument(
            "--location", action="append", help="a location id (repeatable; default: all synced)"
        )
        parser.add_argument("--start", required=True, type=day_argument, help="first day")
        parser.add_argument("--end", required=True, type=day_argument, help="last day")
        parser.add_argument("--json", action="store_true", help="JSON lines, money in minor units")

    def handle(self, *args, **options):
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            raise usage_error(f"No organisation with slug {options['org']!r}.")
        key = options["provider"]
        if key not in registry.provider_keys():
            raise usage_error(f"No provider {key!r}.")
        config = IntegrationConfig.objects.filter(organization=org, provider=key).first()
        if config is None:
            raise usage_error(f"{org.slug} has no {key} connection.")
        action = ledger.ledger_action(apps.provider(key))
        if action is None:
            raise usage_error(f"{key} keeps no sales ledger.")
        first, last = options["start"], options["end"]
        if first > last:
            raise usage_error("--start must be on or before --end.")
        if last - first > timedelta(days=MAX_DAYS):
            raise usage_error("A range can cover at most three years.")
        now = timezone.now()
        synced = list(ledger.locations(config, action, now))
        wanted = options["location"] or synced
        unknown = [loc for loc in wanted if loc not in synced]
        if unknown:
            raise usage_error(f"Not a synced location of {org.slug}: {', '.join(unknown)}.")
        days = ledger.rows(config, wanted, first, last, now=now)
        if options["json"]:
            for day in days:
                self.stdout.write(json.dumps(_as_json(day)))
            return
        self._table(days)

    def _table(self, days) -> None:
        header = ("LOCATION", "DAY", "STATE", "ORDERS", "GROSS", "DISCOUNTS", "NET", "TAX")
        header += ("TIPS", "SERVICE", "TOTAL", "LAST PULLED", "LAST CHANGE")
        rows = [header]
        for day in days:
            row = day.entry.row
            pulled = day.read
            figures = dict(day.figures) if pulled else {}
            rows.append(
                (
                    day.location_name,
                    day.day.isoformat(),
                    day.state.label,
                    *(figures.get(label, "-") for label in _LABELS),
                    row.last_pulled_at.strftime("%Y-%m-%d %H:%M") if pulled else "-",
                    day.change or "-",
                )
            )
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(header) - 1)]
        for row in rows:
            cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, str(row[-1])]).rstrip())


_LABELS = [FIGURE_LABELS[name] for name in FIGURES]


def _as_json(day) -> dict:
    row = day.entry.row
    return {
        "location_id": day.entry.location_id,
        "location": day.location_name,
        "business_date": day.day.isoformat(),
        "state": day.state.value,
        "currency": day.entry.currency,
        **{name: day.entry.figures[name] for name in FIGURES},
        "last_pulled_at": row.last_pulled_at.isoformat() if row and row.last_pulled_at else None,
        "last_change": row.last_change if row else None,
        "changed_after_close_at": (
            row.changed_after_close_at.isoformat() if row and row.changed_after_close_at else None
        ),
        "failure": row.failure if row and day.state.value == "failed" else "",
    }
