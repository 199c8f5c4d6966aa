"""Start a sync from the command line or cron, optionally following it to the end.

    manage.py integrations_sync --org acme-bistro --provider square --kind catalog --wait
    manage.py integrations_sync --all-orgs --provider square --kind sales \\
        --start 2026-01-01 --end 2026-01-31
"""

from __future__ import annotations

import getpass
import socket
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from integrations.jobs import events, triggers
from integrations.management.cli import OneLineErrors
from integrations.models import IntegrationConfig, SyncJob
from integrations.services import apps
from providers import registry
from providers.base import InvalidParams
from sous.orgs.models import Organization

POLL_SECONDS = 0.5
# Off a terminal (cron, CI, a log file) a line at most this often, and whenever a job ends.
PLAIN_LINE_SECONDS = 10


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(OneLineErrors, BaseCommand):
    help = "Enqueue (or with --wait, follow) a sync for one organisation or all of them."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--org", help="the organisation's slug")
        who.add_argument("--all-orgs", action="store_true", help="every connected organisation")
        parser.add_argument("--provider", required=True, choices=registry.provider_keys())
        parser.add_argument(
            "--kind", required=True, help="the action, e.g. catalog, sales, drive_scan"
        )
        parser.add_argument("--start", default="", help="first day, YYYY-MM-DD (ranges only)")
        parser.add_argument("--end", default="", help="last day, YYYY-MM-DD (ranges only)")
        parser.add_argument("--wait", action="store_true", help="follow the jobs until they end")

    def handle(self, *args, **options):
        provider = apps.provider(options["provider"])
        action = provider.action(options["kind"])
        if action is None or not action.manual:
            kinds = ", ".join(a.key for a in provider.actions if a.manual) or "none"
            raise usage_error(f"{provider.name} has no kind {options['kind']!r} (kinds: {kinds}).")
        configs = IntegrationConfig.objects.filter(provider=provider.key).select_related(
            "organization"
        )
        if options["org"]:
            if not Organization.objects.filter(slug=options["org"]).exists():
                raise usage_error(f"No organisation with slug {options['org']!r}.")
            configs = configs.filter(organization__slug=options["org"])
            if not configs:
                raise usage_error(f"{options['org']} has no {provider.name} connection.")
        form = {k: options[k] for k in ("start", "end") if options[k]}
        if form and not action.takes_dates:
            dated = [a.key for a in provider.actions if a.takes_dates]
            raise usage_error(
                f"{provider.name} {action.key} takes no dates: --start and --end are for "
                f"{', '.join(dated) or 'no kind of ' + provider.name}."
            )
        started = []
        caller = f"{getpass.getuser()}@{socket.gethostname()}"  # whose shell or cron asked
        for config in configs:
            try:
                params = action.validate(form, settings=config.settings, now=timezone.now())
            except InvalidParams as exc:
                raise usage_error(str(exc)) from None
            job, created = triggers.request(
                config, action.key, params, trigger=SyncJob.Trigger.COMMAND, detail=caller
            )
            verb = (
                "Started"
                if created
                else ("Already running:" if job.started_at else "Joined the waiting")
            )
            self.stdout.write(
                f"{verb} {events.kind_label(job)} for {config.organization.slug} (job {job.id})"
            )
            started.append(job)
        if not started:
            self.stdout.write(f"No organisation has a {provider.name} connection.")
            return
        if options["wait"]:
            failed = [job for job in started if self.follow(job) != SyncJob.Status.SUCCEEDED]
            if failed:
                raise CommandError(f"{len(failed)} of {len(started)} sync(s) did not succeed.")

    def follow(self, job: SyncJob) -> str:
        """Show progress until the job ends: a bar on a terminal, plain lines otherwise."""
        label = events.kind_label(job)
        interactive = sys.stdout.isatty()
        bar = tqdm(total=None, unit="", dynamic_ncols=True) if interactive else None
        last_line, last_time = "", 0.0
        while True:
            job.refresh_from_db()
            line = job.progress_message or job.get_status_display()
            if bar is not None:
                bar.total = job.progress_total
                bar.n = job.progress_done
                bar.set_description_str(label)
                bar.set_postfix_str(line)
                bar.refresh()
            elif line != last_line and (
                not job.active or time.monotonic() - last_time >= PLAIN_LINE_SECONDS
            ):
                percent = f"{job.percent}% " if job.percent is not None else ""
                self.stdout.write(f"{label}: {percent}{line}")
                self.stdout.flush()  # a pipe is block-buffered: the line must reach the log now
                last_line, last_time = line, time.monotonic()
            if not job.active:
                break
            time.sleep(POLL_SECONDS)
        if bar is not None:
            bar.close()
        if job.status == SyncJob.Status.SUCCEEDED:
            self.stdout.write(self.style.SUCCESS(job.summary))
        else:
            self.stderr.write(f"{job.get_status_display()}: {job.error or job.summary}")
        return job.status
