"""What the integrations domain tells people (sous.notifications): alerts for problems owners
and admins must fix — a connection needing re-auth, a background sync that failed, a watched
Drive folder gone — each resolving itself once fixed; and the end of a sync to whoever started it.
"""

from __future__ import annotations

from django.urls import reverse

from integrations.jobs import events
from integrations.models import IntegrationConfig, SyncJob
from integrations.sync import Counts
from sous.notifications import alerts, notify
from sous.notifications.alerts import Problem
from sous.notifications.models import Alert, Kind, Notification

from . import apps

Condition = Alert.Condition
# Jobs nobody is watching: a failure is an alert, not a note to whoever clicked.
UNATTENDED = (SyncJob.Trigger.SCHEDULE, SyncJob.Trigger.WEBHOOK)


def drawer_url(key: str) -> str:
    """The page that fixes it: Admin › Integrations with that provider's drawer open."""
    return f"{reverse('integrations:index')}?open={key}"


def _name(key: str) -> str:
    try:
        return apps.provider(key).name
    except Exception:  # noqa: BLE001 - a provider since removed keeps its key as its name
        return key.title()


# --- Connections ---------------------------------------------------------------------------------


def needs_reauth(config: IntegrationConfig, reason: str) -> None:
    name = _name(config.provider)
    alerts.open_(
        config.organization,
        Problem(
            source=config.provider,
            condition=Condition.REAUTH,
            title=f"{name} needs to be reconnected",
            detail=f"{reason}. Syncs with {name} are paused until someone reconnects it.",
            action_label=f"Reconnect {name}",
            url=drawer_url(config.provider),
        ),
    )


def reconnected(config: IntegrationConfig, why: str) -> None:
    alerts.resolve(config.organization, config.provider, Condition.REAUTH, why=why)


def disconnected(organization, key: str) -> None:
    alerts.resolve_all(organization, key, why=f"{_name(key)} was disconnected")


# --- Jobs ----------------------------------------------------------------------------------------


def job_finished(job: SyncJob) -> None:
    """A top-level job ended: tell whoever started it; open or resolve what it says about the
    connection's health."""
    if job.parent_id:
        return
    if job.trigger == SyncJob.Trigger.MANUAL and job.requested_by_id:
        _tell_starter(job)
    if job.status == SyncJob.Status.FAILED and job.trigger in UNATTENDED:
        _sync_failed(job)
    elif job.status == SyncJob.Status.SUCCEEDED:
        alerts.resolve(
            job.organization,
            job.provider,
            Condition.JOB_FAILED,
            subject=job.kind,
            why=f"{_label(job)} succeeded again: {job.summary}",
        )
        _folders(job)


def _label(job: SyncJob) -> str:
    return events.kind_label(job)


def _tell_starter(job: SyncJob) -> None:
    if job.status == SyncJob.Status.SUCCEEDED:
        kind, level, title, body = Kind.JOB_FINISHED, Notification.Level.SUCCESS, job.summary, ""
    elif job.status == SyncJob.Status.FAILED:
        kind, level = Kind.JOB_FAILED, Notification.Level.ERROR
        title, body = f"{_label(job)} failed", job.error
    else:
        return  # cancelled: by that person, or by a disconnect they are told of elsewhere
    notify.send(
        [job.requested_by],
        job.organization,
        kind,
        title or f"{_label(job)} finished",
        body=body,
        url=drawer_url(job.provider),
        level=level,
    )


def _sync_failed(job: SyncJob) -> None:
    name = _name(job.provider)
    alerts.open_(
        job.organization,
        Problem(
            source=job.provider,
            condition=Condition.JOB_FAILED,
            subject=job.kind,
            title=f"{name}: the automatic {_label(job).lower()} failed",
            detail=job.error or "It stopped with an error.",
            action_label=f"Open {name}",
            url=drawer_url(job.provider),
        ),
    )


def _folders(job: SyncJob) -> None:
    """A scan that met a watched folder no longer there (deleted, unshared) opens an alert per
    folder; one that found it again resolves it."""
    config = job.config
    if config is None:
        return
    watched = (config.settings or {}).get("folders") or {}
    if not watched:
        return
    gone = set(Counts.from_json(job.counts).totals.unavailable_folders)
    name = _name(job.provider)
    for kind, folder in watched.items():
        where = (folder or {}).get("path") or kind
        if kind in gone:
            alerts.open_(
                job.organization,
                Problem(
                    source=job.provider,
                    condition=Condition.FOLDER_MISSING,
                    subject=kind,
                    title=f"A watched {name} folder is gone: {where}",
                    detail="It was deleted, moved out of reach or unshared. Pick another folder.",
                    action_label="Choose another folder",
                    url=drawer_url(job.provider),
                ),
            )
        else:
            alerts.resolve(
                job.organization,
                job.provider,
                Condition.FOLDER_MISSING,
                subject=kind,
                why=f"{where} is available again",
            )
