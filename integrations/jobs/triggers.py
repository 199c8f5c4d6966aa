"""Asking for work: staff in the drawer, `manage.py integrations_sync`, schedules, webhooks.

Requests never wait for provider work: they make the job (or join one that does the same
work), send its task once the transaction commits, and return. Per connection and kind at
most one job runs and one waits; a request the running job does not cover merges into the
waiting one where the action can merge them (two ranges become one), so a burst of requests
makes at most two jobs and staff asking twice get the same job.
"""

from __future__ import annotations

from django.db import transaction

from integrations import progress
from integrations.models import IntegrationConfig, IntegrationEvent, SyncJob
from integrations.services import activity, apps

from . import dispatch, events
from .control import active_for

Trigger = SyncJob.Trigger


def request(
    config: IntegrationConfig,
    action_key: str,
    params: dict,
    *,
    user=None,
    trigger: str = Trigger.MANUAL,
    detail: str = "",
    publish: bool = True,
) -> tuple[SyncJob, bool]:
    """The new job, or the active one that does this work too (created=False).

    `trigger` and `detail` record what asked (SyncJob.Trigger), `user` who did. A caller
    asking for many jobs at once publishes them itself (`publish=False`). Raises
    LookupError for an action the provider does not have."""
    provider = apps.provider(config.provider)
    action = provider.action(action_key)
    if action is None:
        raise LookupError(action_key)
    kind = action.kind(provider.key)
    with transaction.atomic():
        # Serialise requests for one connection so two clicks cannot both create a job.
        IntegrationConfig.objects.select_for_update().get(pk=config.pk)
        siblings = list(active_for(config).filter(kind=kind).order_by("created_at"))
        for active in siblings:
            if action.incremental and active.started_at is not None:
                continue  # it may have read before the change this request is about
            if action.overlaps(active.params, params):
                return active, False
        for waiting in (job for job in siblings if job.started_at is None):
            merged = action.merge(waiting.params, params)
            # Only while it has not started: the engine reads its params when it starts.
            if merged is None:
                continue
            detail = action.describe_request(merged)[:200] or waiting.trigger_detail
            if SyncJob.objects.filter(
                pk=waiting.pk, status=SyncJob.Status.QUEUED, started_at__isnull=True
            ).update(params=merged, trigger_detail=detail):
                waiting.params, waiting.trigger_detail = merged, detail
                return waiting, False
        job = SyncJob(
            organization_id=config.organization_id,
            provider=config.provider,
            config=config,
            kind=kind,
            params=params,
            requested_by=user if user is not None and user.is_authenticated else None,
            trigger=trigger,
            trigger_detail=detail[:200],
        )
        dispatch.stamp(job)
        job.save(force_insert=True)
        if trigger in (Trigger.MANUAL, Trigger.COMMAND):
            # People's requests go on the Activity list; schedules and webhooks would drown
            # it (their jobs say where they came from in the recent jobs).
            activity.record(
                config,
                IntegrationEvent.Kind.SYNC_REQUESTED,
                action.label,
                actor=user,
                actor_label="" if trigger == Trigger.MANUAL else Trigger(trigger).label,
            )
        dispatch.send_on_commit(job)
        if publish:
            # Once committed: a page told of a job must find it.
            transaction.on_commit(
                lambda: progress.publish(job.organization_id, events.payload(job))
            )
    return job, True


def origin(job: SyncJob) -> str:
    """Who or what asked, in words: "Maria, manual", "Command (ops@web-1)", "Nightly"."""
    if job.trigger == Trigger.MANUAL:
        user = job.requested_by
        who = user and (user.get_short_name() or user.email or user.get_username())
        return f"{who}, manual" if who else "Manual"
    name, detail = Trigger(job.trigger).label, job.trigger_detail
    if not detail:
        return name
    if job.trigger == Trigger.WEBHOOK:
        return f"{name}: {detail}"
    if job.trigger == Trigger.SCHEDULE:
        return detail  # the schedule's own name: "Nightly", "Hourly"
    return f"{name} ({detail})"
