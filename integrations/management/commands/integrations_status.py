"""List every connection with its state, health, last sync, active jobs and next runs."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.timesince import timesince

from integrations.jobs import control, events, schedules
from integrations.management.cli import OneLineErrors
from integrations.models import IntegrationConfig
from integrations.services import apps, health
from integrations.webhooks import receive
from providers import registry


def ago(moment, now) -> str:
    """ "just now" under a minute ("0 minutes ago" says nothing), else "3 hours, 5 minutes ago"."""
    if (now - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, now)} ago"


class Command(OneLineErrors, BaseCommand):
    help = "Every connection: state, health, last synced, active jobs and next runs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-health", action="store_true", help="skip the live health check (no network)"
        )

    def handle(self, *args, **options):
        configs = IntegrationConfig.objects.select_related("organization").order_by(
            "organization__slug", "provider"
        )
        if not configs:
            self.stdout.write("No connections yet.")
            return
        rows = [
            (
                "ORGANISATION",
                "PROVIDER",
                "STATE",
                "HEALTH",
                "LAST SYNCED",
                "ACTIVE JOBS",
                "NEXT RUNS",
            )
        ]
        for config in configs:
            if options["no_health"]:
                checked = "-"
            else:
                report = health.check(config)
                checked = "healthy" if report.healthy else report.detail
            last = ago(config.last_synced_at, timezone.now()) if config.last_synced_at else "never"
            active = ", ".join(
                f"{events.kind_label(job)} {job.percent if job.percent is not None else '?'}%"
                for job in control.active_for(config)
            )
            provider = apps.provider(config.provider)
            upcoming = "; ".join(
                f"{provider.action(s.action).label}: "
                f"{schedules.next_run_words(s) or ('off' if not s.enabled else 'nothing to run')}"
                for s in schedules.ensure(config)
            )
            rows.append(
                (
                    config.organization.slug,
                    config.provider,
                    config.get_status_display(),
                    checked,
                    last,
                    active or "-",
                    upcoming or "-",
                )
            )
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        # A burst of refused notifications is someone probing, or a key rotated on one side only.
        for key in registry.provider_keys():
            provider = registry.provider_class(key)
            if provider.sends_notifications:
                refused = receive.refused_this_hour(key)
                why = "bad channel token" if provider.push_channels else "bad signature"
                name = provider.name
                self.stdout.write(f"{name} notifications refused this hour ({why}): {refused}")
