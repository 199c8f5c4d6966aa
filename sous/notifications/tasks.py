"""Celery tasks of the notifications domain (the default queue). They carry ids only."""

from celery import shared_task

from . import emails
from .notify import SEND_EMAIL_TASK


@shared_task(name=SEND_EMAIL_TASK, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_email(notification_pk: int) -> bool:
    return emails.send(notification_pk)


@shared_task(name="notifications.send_pending_emails")
def send_pending_emails() -> int:
    """Beat, every 5 minutes: emails whose task was lost."""
    return emails.send_pending()
