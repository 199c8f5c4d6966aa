"""What Sous tells people: notifications (the bell, and email by each person's choice) and
alerts (one open per problem, resolved on its own when the problem clears)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sous.orgs.models import Organization


class Kind(models.TextChoices):
    """What a notification is about; each person chooses per kind what also comes by email."""

    ALERT = "alert", "Something needs attention (alerts)"
    ALERT_RESOLVED = "alert_resolved", "A problem was resolved"
    JOB_FAILED = "job_failed", "A sync I started failed"
    JOB_FINISHED = "job_finished", "A sync I started finished"

    @classmethod
    def emailed_by_default(cls, kind: str) -> bool:
        # A failure or a problem is worth an email; a sync that went well is not.
        return kind in (cls.ALERT, cls.ALERT_RESOLVED, cls.JOB_FAILED)


class Alert(models.Model):
    """One open alert per problem: (organisation, source, condition, subject). Repeats update it;
    it resolves itself when the condition clears."""

    class Condition(models.TextChoices):
        REAUTH = "reauth", "Re-auth required"
        JOB_FAILED = "job_failed", "Sync failed"
        STALE = "stale", "Out of date"
        FOLDER_MISSING = "folder_missing", "Watched folder missing"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=40)  # the provider key: "square"
    condition = models.CharField(max_length=30, choices=Condition.choices)
    subject = models.CharField(max_length=60, blank=True)  # which job kind, data type, folder
    title = models.CharField(max_length=200)  # "Square needs to be reconnected"
    detail = models.CharField(max_length=300, blank=True)  # the latest reason, in plain words
    action_label = models.CharField(max_length=60, blank=True)  # "Reconnect Square"
    url = models.CharField(max_length=300, blank=True)  # where that action is (a path)
    occurrences = models.PositiveIntegerField(default=1)
    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "condition", "subject"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_alert_per_problem",
            )
        ]
        indexes = [models.Index(fields=["organization", "source", "resolved_at"])]

    def __str__(self) -> str:
        state = "resolved" if self.resolved_at else "open"
        return f"{self.organization} {self.source} {self.condition} {self.subject} ({state})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class Notification(models.Model):
    class Level(models.TextChoices):
        INFO = "info", "Info"
        SUCCESS = "success", "Success"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=300, blank=True)  # a path in Sous: the drawer that fixes it
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Email: wanted when the person asked for this kind by email; sent once (a sweep sends
    # what a lost task did not).
    email_wanted = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "organization", "-created_at"]),
            models.Index(
                fields=["created_at"],
                condition=Q(email_wanted=True, emailed_at__isnull=True),
                name="notification_email_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: {self.title}"


class EmailChoice(models.Model):
    """A person's choice for one kind; no row means the kind's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_choices"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    email = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_email_choice_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: {'email' if self.email else 'in Sous only'}"
