"""Notifications by email, through Django's email framework (EMAIL_URL): at most once each,
with a link straight to what to look at."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Notification

log = logging.getLogger(__name__)

# A pending email older than this had its task lost (the broker was down): the sweep sends it.
# Past a day it is news nobody needs any more.
SWEEP_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=1)


def send(notification_pk: int) -> bool:
    """Send one notification's email unless it went already; False when there was nothing to
    send. A failure leaves it pending for the sweep."""
    now = timezone.now()
    # Claimed first: two tasks for one notification (a redelivery, the sweep) send once.
    claimed = Notification.objects.filter(
        pk=notification_pk, email_wanted=True, emailed_at__isnull=True
    ).update(emailed_at=now)
    if not claimed:
        return False
    notification = Notification.objects.select_related("user", "organization").get(
        pk=notification_pk
    )
    try:
        message(notification).send()
    except Exception:
        Notification.objects.filter(pk=notification_pk).update(emailed_at=None)
        log.warning("notifications.email.failed", exc_info=True, extra={"id": notification_pk})
        raise
    log.info("notifications.email.sent", extra={"id": notification_pk, "kind": notification.kind})
    return True


def message(notification: Notification) -> EmailMessage:
    base = settings.PUBLIC_BASE_URL
    context = {
        "notification": notification,
        "link": base + notification.url if notification.url else "",
        "choices_link": base + reverse("notifications:email_choices"),
    }
    return EmailMessage(
        subject=f"[Sous] {notification.title}",
        body=render_to_string("notifications/email.txt", context),
        to=[notification.user.email],
    )


def send_pending() -> int:
    """Beat: emails whose task never ran. Returns how many were sent."""
    now = timezone.now()
    pending = Notification.objects.filter(
        email_wanted=True,
        emailed_at__isnull=True,
        created_at__lt=now - SWEEP_AFTER,
        created_at__gt=now - GIVE_UP_AFTER,
    ).values_list("pk", flat=True)[:500]
    sent = 0
    for pk in list(pending):
        # One failure (logged in send()) must not hold up the others; the next sweep retries.
        with contextlib.suppress(Exception):
            sent += send(pk)
    return sent
