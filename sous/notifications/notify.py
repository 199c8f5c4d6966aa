"""Telling people: a notification row per person (the bell), pushed live to their open pages,
and an email when they chose email for its kind (sent by a task once the row is committed)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from sous import live
from sous.celery import app
from sous.orgs.models import Membership

from .models import Alert, EmailChoice, Kind, Notification

log = logging.getLogger(__name__)

SEND_EMAIL_TASK = "notifications.send_email"


def user_group(user_id: int) -> str:
    """The channel-layer group of one person's open pages."""
    return f"user-{user_id}-notifications"


def managers(organization) -> list:
    """Who receives alerts: the organisation's owners and admins."""
    memberships = Membership.objects.filter(
        organization=organization, role__in=Membership.MANAGER_ROLES
    ).select_related("user")
    return [m.user for m in memberships if m.user.is_active]


def send(
    users: Iterable,
    organization,
    kind: str,
    title: str,
    *,
    body: str = "",
    url: str = "",
    level: str = Notification.Level.INFO,
    alert: Alert | None = None,
) -> list[Notification]:
    users = list(users)
    chosen = dict(
        EmailChoice.objects.filter(user__in=users, kind=kind).values_list("user_id", "email")
    )
    notifications = Notification.objects.bulk_create(
        Notification(
            user=user,
            organization=organization,
            kind=kind,
            level=level,
            title=title[:200],
            body=body[:500],
            url=url[:300],
            alert=alert,
            email_wanted=chosen.get(user.pk, Kind.emailed_by_default(kind)) and bool(user.email),
        )
        for user in users
    )
    transaction.on_commit(lambda: _deliver(notifications))
    return notifications


def _deliver(notifications: list[Notification]) -> None:
    live.send((user_group(n.user_id), "notifications.event", payload(n)) for n in notifications)
    for notification in notifications:
        if notification.email_wanted:
            queue_email(notification.pk)


def queue_email(notification_pk: int) -> None:
    try:
        app.send_task(SEND_EMAIL_TASK, args=[notification_pk])
    except Exception:  # noqa: BLE001 - the row says it is unsent: the sweep sends it later
        log.warning("notifications.email.dispatch_failed", extra={"notification": notification_pk})


def payload(notification: Notification) -> dict:
    """What an open page needs to redraw its bell: no more than the person may read."""
    return {
        "type": "notification",
        "id": notification.pk,
        "organization": notification.organization_id,
        "kind": notification.kind,
        "level": notification.level,
        "title": notification.title,
    }
