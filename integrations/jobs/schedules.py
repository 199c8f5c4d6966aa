"""Schedules: data that arrives without a click.

Each connection has one Schedule per action whose provider declares a cadence
(providers/schedules.py), made with the cadence's defaults when the connection is made (or by
the first tick after an upgrade). The cadence plans each run; this module stores the plan,
dispatches due runs from beat's tick and plans the next.

The tick takes due rows with `SELECT … FOR UPDATE SKIP LOCKED` and moves `next_run_at` on in the
same transaction as the job it asks for, so two beat processes, or a beat restarted mid-tick,
never dispatch a run twice. Each connection has its own fixed offset inside the cadence's
spread, so ten thousand restaurants on the same cadence do not all start in the same second.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Prefetch, prefetch_related_objects
from django.utils import timezone

from integrations import progress
from integrations.models import IntegrationConfig, Schedule, SyncJob
from integrations.services import apps
from providers import registry
from providers.base import InvalidParams
from providers.schedules import Cadence

from . import events, triggers

log = logging.getLogger(__name__)

BATCH = 500  # due schedules per transaction
# A schedule whose run is this late was not dispatched: beat is not running.
OVERDUE = timedelta(minutes=10)


def cadence_of(config: IntegrationConfig, action_key: str) -> Cadence | None:
    try:
        action = apps.provider(config.provider).action(action_key)
    except registry.UnknownProvider:
        return None
    return action.schedule if action is not None else None


def offset(config_id: int, cadence: Cadence) -> timedelta:
    """The connection's own fixed place inside the cadence's spread (stable across restarts
    and hosts: a hash, not a random draw)."""
    seconds = int(cadence.spread.total_seconds())
    if seconds <= 0:
        return timedelta(0)
    digest = hashlib.blake2s(str(config_id).encode(), digest_size=8).digest()
    return timedelta(seconds=int.from_bytes(digest) % seconds)


def plan(schedule: Schedule, config: IntegrationConfig, *, after: datetime) -> None:
    """Set the schedule's next run, the first due strictly after `after` (not saved)."""
    cadence = cadence_of(config, schedule.action)
    run = None
    provider = apps.provider(config.provider)
    action = provider.action(schedule.action)
    if cadence is not None and schedule.enabled and provider.runs_unattended(action):
        provider_key = provider.key
        run = cadence.next_run(
            minutes=schedule.minutes,
            settings=config.settings,
            cursor=config.cursors.get(f"{provider_key}.{schedule.action}", {}),
            after=after,
            offset=offset(config.pk, cadence),
        )
    schedule.next_run_at = run.at if run else None
    schedule.next_params = run.params if run else {}
    schedule.next_covers = run.covers[:200] if run else ""
    schedule.next_zone = run.zone if run else ""


PLANNED = ["next_run_at", "next_params", "next_covers", "next_zone", "updated_at"]


def prefetch() -> Prefetch:
    """For a query of connections: each one's schedules with their last jobs, for `of`."""
    return Prefetch("schedules", queryset=Schedule.objects.select_related("last_job"))


def of(config: IntegrationConfig) -> list[Schedule]:
    """The connection's schedules with their last jobs, read once per config instance: the
    grid, the card and the drawer each ask, several times in one request."""
    prefetch_related_objects([config], prefetch())
    return list(config.schedules.all())


def ensure(config: IntegrationConfig) -> list[Schedule]:
    """The connection's schedules in its provider's order of actions, made on first use."""
    provider = apps.provider(config.provider)
    existing = {s.action: s for s in of(config)}
    now = timezone.now()
    result = []
    made = False
    for action in provider.actions:
        if action.schedule is None:
            continue
        schedule = existing.get(action.key)
        if schedule is None:
            schedule = Schedule(config=config, action=action.key, minutes=action.schedule.default)
            plan(schedule, config, after=now)
            schedule.save()
            made = True
        result.append(schedule)
    if made:
        config.refresh_from_db(fields=["schedules"])  # the next `of` reads the new ones too
    return result


def replan(config: IntegrationConfig) -> None:
    """Plan every schedule of the connection again from now: its settings changed (locations,
    cutoffs, folders) or it was reconnected."""
    now = timezone.now()
    for schedule in ensure(config):
        plan(schedule, config, after=now)
        schedule.save(update_fields=PLANNED)


def update(schedule: Schedule, *, enabled: bool, minutes: int | None, user=None) -> Schedule:
    """Staff's choice: on or off, and its one figure (among the cadence's choices)."""
    cadence = cadence_of(schedule.config, schedule.action)
    if cadence is None:
        raise InvalidParams("This sync cannot run on a schedule any more.")
    if minutes is not None:
        if minutes not in dict(cadence.choices):
            raise InvalidParams("Choose one of the listed times.")
        schedule.minutes = minutes
    schedule.enabled = enabled
    schedule.updated_by = user if user is not None and user.is_authenticated else None
    schedule.skipped = ""
    plan(schedule, schedule.config, after=timezone.now())
    schedule.save()
    return schedule


@dataclass
class Tick:
    dispatched: int = 0  # jobs asked for (a run joining an active job counts too)
    skipped: int = 0  # due runs not started (the connection needs re-auth, say)
    installed: int = 0  # connections given their default schedules


def tick(now: datetime | None = None, *, batch: int = BATCH) -> Tick:
    """Beat, every minute: dispatch the schedules due at `now`, each exactly once."""
    now = now or timezone.now()
    result = Tick(installed=install_missing())
    while True:
        started: list[SyncJob] = []
        with transaction.atomic():
            # The connections too: a run locks its connection to coalesce, so two ticks
            # sharing one connection's schedules would wait on each other (and deadlock).
            # One whose connection is busy (a staff request, another tick) waits for the next.
            due = list(
                Schedule.objects.select_for_update(skip_locked=True, of=("self", "config"))
                .filter(enabled=True, next_run_at__lte=now)
                .select_related("config")
                .order_by("next_run_at")[:batch]
            )
            for schedule in due:
                _run(schedule, now, result, started)
            _save_runs(due)
        progress.publish_many((job.organization_id, events.payload(job)) for job in started)
        # Only an empty batch ends the tick. A short one may be short because another tick
        # held the connection of a run outside its own batch: if both stopped on a short batch,
        # that run would wait a whole minute for the next tick.
        if not due:
            return result


def _run(schedule: Schedule, now: datetime, result: Tick, started: list[SyncJob]) -> None:
    config = schedule.config
    cadence = cadence_of(config, schedule.action)
    schedule.last_run_at = now
    if config.in_error:
        name = apps.provider(config.provider).name
        schedule.skipped = f"Skipped: {name} needs re-auth"
        result.skipped += 1
    elif cadence is not None:
        try:
            job, created = triggers.request(
                config,
                schedule.action,
                schedule.next_params,
                trigger=SyncJob.Trigger.SCHEDULE,
                detail=cadence.label(schedule.minutes),
                publish=False,
            )
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the tick
            log.exception("integrations.schedule.failed", extra={"schedule_id": schedule.pk})
            schedule.skipped = (
                "Skipped: it could not be started (we have been notified)"
                if settings.ERROR_REPORTING
                else "Skipped: it could not be started (the details are in the server log)"
            )
            result.skipped += 1
        else:
            schedule.last_job, schedule.skipped = job, ""
            result.dispatched += 1
            if created:
                started.append(job)
    plan(schedule, config, after=max(now, schedule.next_run_at))


SAVED = [*PLANNED, "last_run_at", "last_job", "skipped"]


def _save_runs(due: list[Schedule]) -> None:
    """One statement for the batch: Django's bulk_update builds a CASE per field and row,
    which took longer than dispatching the runs themselves."""
    if not due:
        return
    now = timezone.now()
    for schedule in due:
        schedule.updated_at = now
    fields = [Schedule._meta.get_field(name) for name in SAVED]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    table = connection.ops.quote_name(Schedule._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 - our own names
            [
                [f.get_db_prep_value(getattr(s, f.attname), connection) for f in fields] + [s.pk]
                for s in due
            ],
        )


def install_missing(limit: int = BATCH) -> int:
    """Default schedules for connections made before schedules existed."""
    keys = [
        key
        for key in registry.provider_keys()
        if any(action.schedule for action in registry.provider_class(key).actions)
    ]
    missing = IntegrationConfig.objects.filter(provider__in=keys).exclude(
        Exists(Schedule.objects.filter(config=OuterRef("pk")))
    )[:limit]
    installed = 0
    for config in missing:
        ensure(config)
        installed += 1
    return installed


# --- in words ---------------------------------------------------------------------------------


def describe(schedule: Schedule) -> str:
    """ "Every hour", "Nightly, 30 min after each location's day closes"."""
    cadence = cadence_of(schedule.config, schedule.action)
    return cadence.describe(schedule.minutes) if cadence else ""


def next_run_words(schedule: Schedule, now: datetime | None = None) -> str:
    """ "tonight 3:30 AM (SoHo)", "in 12 min", "" when nothing is planned."""
    if not schedule.enabled or schedule.next_run_at is None:
        return ""
    now = now or timezone.now()
    at = schedule.next_run_at
    if at <= now + timedelta(minutes=1):
        words = "any moment now"
    elif at - now < timedelta(hours=1):
        words = f"in {int((at - now).total_seconds() // 60)} min"
    else:
        zone = ZoneInfo(schedule.next_zone or "UTC")
        local, today = at.astimezone(zone), now.astimezone(zone).date()
        clock = f"{local:%-I:%M %p}"
        days = (local.date() - today).days
        if (days == 0 and local.hour >= 18) or (days == 1 and local.hour < 6):
            words = f"tonight {clock}"
        elif days == 0:
            words = f"today {clock}"
        elif days == 1:
            words = f"tomorrow {clock}"
        else:
            words = f"{local:%a} {local.day} {local:%b} {clock}"
        if not schedule.next_zone or schedule.next_zone == "UTC":
            words += " UTC"
    return f"{words} ({schedule.next_covers})" if schedule.next_covers else words
