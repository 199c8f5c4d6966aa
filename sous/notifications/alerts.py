"""Alerts, healthchecks-style: one open alert per problem (organisation, source, condition,
subject). Opening an open one again updates it and tells nobody twice; resolving it sends a
short "resolved" notice. Owners and admins receive both."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import notify
from .models import Alert, Kind, Notification


@dataclass(frozen=True)
class Problem:
    """What the condition is, in words staff read, and the one action that fixes it."""

    source: str
    condition: str
    title: str
    detail: str = ""
    subject: str = ""
    action_label: str = ""
    url: str = ""


def open_(organization, problem: Problem) -> Alert:
    with transaction.atomic():
        alert = _open_alert(organization, problem).select_for_update().first()
        if alert is not None:
            alert.occurrences += 1
            alert.updated_at = timezone.now()
            alert.detail = problem.detail[:300]
            alert.save(update_fields=["occurrences", "updated_at", "detail"])
            return alert
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    organization=organization,
                    source=problem.source,
                    condition=problem.condition,
                    subject=problem.subject,
                    title=problem.title[:200],
                    detail=problem.detail[:300],
                    action_label=problem.action_label[:60],
                    url=problem.url[:300],
                )
        except IntegrityError:  # opened at the same moment elsewhere: that one stands
            return _open_alert(organization, problem).get()
        notify.send(
            notify.managers(organization),
            organization,
            Kind.ALERT,
            problem.title,
            body=problem.detail,
            url=problem.url,
            level=Notification.Level.ERROR,
            alert=alert,
        )
        return alert


def resolve(organization, source: str, condition: str, *, subject: str = "", why: str) -> None:
    """Resolve the open alert of this problem, if there is one, and say so."""
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update()
            .filter(
                organization=organization,
                source=source,
                condition=condition,
                subject=subject,
                resolved_at__isnull=True,
            )
            .first()
        )
        if alert is None:
            return
        alert.resolved_at = timezone.now()
        alert.resolution = why[:200]
        alert.save(update_fields=["resolved_at", "resolution"])
        notify.send(
            notify.managers(organization),
            organization,
            Kind.ALERT_RESOLVED,
            f"Resolved: {alert.title}",
            body=why,
            url=alert.url,
            level=Notification.Level.SUCCESS,
            alert=alert,
        )


def resolve_all(organization, source: str, *, why: str) -> None:
    """Every open alert of a source: it was disconnected, nothing is left to fix."""
    open_alerts = Alert.objects.filter(
        organization=organization, source=source, resolved_at__isnull=True
    ).values_list("condition", "subject")
    for condition, subject in list(open_alerts):
        resolve(organization, source, condition, subject=subject, why=why)


def open_for(organization, source: str | None = None) -> list[Alert]:
    """Open alerts, oldest first: of one source, or of the whole organisation."""
    found = Alert.objects.filter(organization=organization, resolved_at__isnull=True)
    if source is not None:
        found = found.filter(source=source)
    return list(found.order_by("opened_at"))


def _open_alert(organization, problem: Problem):
    return Alert.objects.filter(
        organization=organization,
        source=problem.source,
        condition=problem.condition,
        subject=problem.subject,
        resolved_at__isnull=True,
    )
