"""The Integrations domain's rows.

One IntegrationConfig per (organisation, provider) holds the connection: who it is connected as,
its encrypted tokens and its operational state, so the grid renders without a network call.
Imported records (catalog, sales, documents) never point at it: they are keyed by organisation
and source, so deleting a connection keeps every one of them.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from sous.orgs.models import Organization

# IntegrationConfig has a field named `settings`; read the user model's name before it shadows.
USER_MODEL = settings.AUTH_USER_MODEL


class IntegrationConfig(models.Model):
    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        ERROR = "error", "Re-auth required"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="integrations"
    )
    provider = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)

    # Who we are connected as, at the provider.
    external_account_id = models.CharField(max_length=200, blank=True)
    account_name = models.CharField(max_length=200, blank=True)
    account_email = models.CharField(max_length=254, blank=True)

    # Ciphertexts from integrations.crypto (never plaintext; see services/tokens.py).
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)

    # Staff choices (locations, folders), validated by the provider's actions.
    settings = models.JSONField(default=dict, blank=True)
    # Where incremental syncs resume (catalog latest_time, Drive page token, ...), per kind.
    cursors = models.JSONField(default=dict, blank=True)
    # ISO times of the last successful sync, per job kind.
    last_synced = models.JSONField(default=dict, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Provider lookups that rarely change (Square locations, Drive folder paths), per name:
    # {"data": ..., "fetched_at": iso}. Refreshed by syncs, webhooks and the drawer's Refresh,
    # so opening the drawer never waits on the provider.
    lookups = models.JSONField(default=dict, blank=True)

    last_error = models.CharField(max_length=300, blank=True)
    error_since = models.DateTimeField(null=True, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)

    connected_by = models.ForeignKey(
        USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider"], name="one_connection_per_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} for {self.organization}"

    def __repr__(self) -> str:
        # Only ids and states: the encrypted fields stay out of logs and tracebacks too.
        return (
            f"<IntegrationConfig {self.pk} org={self.organization_id} "
            f"provider={self.provider} status={self.status}>"
        )

    @property
    def in_error(self) -> bool:
        return self.status == self.Status.ERROR

    @property
    def connected_as(self) -> str:
        if self.account_email and self.account_email != self.account_name:
            return f"{self.account_name} ({self.account_email})"
        return self.account_name or self.external_account_id


class ImportedCount(models.Model):
    """How many records of one kind a source has imported into an organisation ("orders",
    "menu items"), kept by the importers in the transaction that writes the rows, so the drawer
    and the disconnect dialog never count the imported tables. Outlives the connection, like
    the records it counts."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=40)
    label = models.CharField(max_length=40)
    count = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "label"], name="one_count_per_label"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} {self.label} from {self.source}"


class IntegrationEvent(models.Model):
    """What happened to a connection, for the drawer's Activity list and for audits."""

    class Kind(models.TextChoices):
        CONNECTED = "connected", "Connected"
        RECONNECTED = "reconnected", "Reconnected"
        ACCOUNT_SWITCHED = "account_switched", "Switched account"
        CONNECT_CANCELLED = "connect_cancelled", "Connection cancelled"
        HEALTH_FAILED = "health_failed", "Health check failed"
        RECOVERED = "recovered", "Connection recovered"
        TOKEN_REFRESHED = "token_refreshed", "Token refreshed"
        REFRESH_REFUSED = "refresh_refused", "Token refresh refused"
        CREDENTIALS_UNREADABLE = "credentials_unreadable", "Credentials unreadable"
        SYNC_REQUESTED = "sync_requested", "Sync requested"
        SETTINGS_CHANGED = "settings_changed", "Settings changed"
        DISCONNECTED = "disconnected", "Disconnected"
        ACCESS_REVOKED = "access_revoked", "Access revoked"
        DOCUMENT_DOWNLOADED = "document_downloaded", "Downloaded"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="integration_events"
    )
    provider = models.CharField(max_length=40)
    config = models.ForeignKey(
        IntegrationConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    message = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "schedule" or "command" when no person did it.
    actor_label = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # In the drawer's order, so its ten latest are read off the index without a sort.
        indexes = [
            models.Index(
                fields=["organization", "provider", "-created_at", "-id"], name="event_latest"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def who(self) -> str:
        if self.actor_id:
            return self.actor.get_full_name() or self.actor.email or self.actor.get_username()
        return self.actor_label or "Sous"


class OAuthState(models.Model):
    """One consent attempt: single-use, short-lived, bound to session, user, org and provider.

    Only a hash of the state value is stored, so a database reader cannot complete a flow.
    After a callback that came back with a different account, the new grant waits here
    (encrypted) for the staff member's explicit "Switch account".
    """

    TTL_SECONDS = 10 * 60

    class Mode(models.TextChoices):
        POPUP = "popup", "Popup"
        PAGE = "page", "Full page"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state_hash = models.CharField(max_length=64, unique=True)
    session_key = models.CharField(max_length=64)
    user = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=40)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.POPUP)
    code_verifier_encrypted = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    # The same-account guard's parked grant (see services/callback.py).
    pending_grant_encrypted = models.TextField(blank=True)
    pending_account = models.JSONField(default=dict, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.provider} consent for {self.organization_id} at {self.created_at:%H:%M}"

    def __repr__(self) -> str:
        return f"<OAuthState {self.id} provider={self.provider} org={self.organization_id}>"

    @staticmethod
    def hash(state: str) -> str:
        return hashlib.sha256(state.encode()).hexdigest()

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at


class SyncJob(models.Model):
    """One piece of provider work (a catalog sync, a sales range, a Drive scan) and its progress.

    Requests create it and return; a Celery task carrying only its id does the work, saving a
    checkpoint after each page so a redelivered task resumes where the last one stopped.
    Deep syncs split into child jobs (`parent`) whose progress adds up on the parent.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    COUNT_NAMES = ("created", "updated", "deleted", "unchanged", "skipped")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=40)
    config = models.ForeignKey(
        IntegrationConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    kind = models.CharField(max_length=60)  # "square.catalog", "square.sales", ...
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)

    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    progress_unit = models.CharField(max_length=40, blank=True)
    progress_message = models.CharField(max_length=200, blank=True)
    # Work done that progress_done/total cannot express: a deep sync's share of its chunks'
    # pages (done/total count whole chunks), a sales chunk's share of its time window before
    # its first order. None: derived from progress_done/total.
    progress_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    checkpoint = models.JSONField(default=dict, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=300, blank=True)  # for staff
    error_detail = models.TextField(blank=True)  # for engineers; never tokens
    cancel_requested = models.BooleanField(default=False)

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Manual"  # staff, from the drawer
        COMMAND = "command", "Command"  # manage.py integrations_sync (a shell, cron)
        SCHEDULE = "schedule", "Schedule"
        WEBHOOK = "webhook", "Webhook"

    # What asked for the job, and who: the user for a manual one; `trigger_detail` says more
    # where there is more to say (the command line's user and host, webhook event ids).
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    trigger_detail = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    celery_task_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Times the job was sent again because its worker died, since its last saved page
    # (bounded: a page that kills its worker every time must end the job, not loop).
    recoveries = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set when its task was sent or its worker last reported; for a queued job, when it was sent.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    # Not stored: whether jobs.dispatch could not hand the task to the broker just now.
    dispatch_failed = False

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "provider", "-created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
            # The drawer's recent jobs: a connection's latest top-level ones.
            models.Index(
                fields=["config", "-created_at"],
                condition=models.Q(parent__isnull=True),
                name="job_latest_top_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} ({self.id})"

    @property
    def active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int | None:
        if self.progress_percent is not None:
            return self.progress_percent
        if not self.progress_total:
            return None
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class Schedule(models.Model):
    """When one of a connection's actions runs without a click (integrations/jobs/schedules.py).

    The provider's cadence (providers/schedules.py) plans each run: when it is due and what it
    asks for are stored here, so a beat tick dispatches thousands without calling anyone.
    """

    config = models.ForeignKey(
        IntegrationConfig, on_delete=models.CASCADE, related_name="schedules"
    )
    action = models.CharField(max_length=40)  # the action's key: "sales", "catalog", "scan"
    enabled = models.BooleanField(default=True)
    # The one figure staff choose: an interval, or the delay after each location's close.
    minutes = models.PositiveIntegerField()
    # The next run, as the cadence planned it; null when there is nothing to run.
    next_run_at = models.DateTimeField(null=True, blank=True)
    next_params = models.JSONField(default=dict, blank=True)
    next_covers = models.CharField(max_length=200, blank=True)  # "SoHo"
    next_zone = models.CharField(max_length=64, blank=True)  # the zone staff read it in
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey(
        SyncJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the last due run did not start ("Skipped: Square needs re-auth"), "" when it did.
    skipped = models.CharField(max_length=200, blank=True)
    updated_by = models.ForeignKey(
        USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["config", "action"], name="one_schedule_per_action")
        ]
        indexes = [
            # The tick's query: enabled schedules due now.
            models.Index(
                fields=["next_run_at"],
                name="schedule_due",
                condition=models.Q(enabled=True, next_run_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} schedule of {self.config_id}"


class WebhookEvent(models.Model):
    """A provider's notification, stored as it arrived (after its signature was verified),
    then processed by a task. Unique per (provider, event id): a redelivery is a duplicate.

    Payloads are hints (ids and types); the jobs they start read the current data from the
    API. They carry no tokens.
    """

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        UNROUTED = "unrouted", "No connection"  # no connection has this account (yet)
        INVALID = "invalid", "Unreadable"

    provider = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=200, blank=True, db_index=True)
    # Set for a notification on a channel Sous opened for one connection (Drive); others are
    # routed by account.
    config = models.ForeignKey(
        IntegrationConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    body = models.BinaryField()  # the raw body, exactly as signed
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    processed_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)  # what it did, in words

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="one_event_per_id")
        ]
        indexes = [
            models.Index(fields=["state", "received_at"]),
            # The drawer's "last event": the newest for an account (webhooks), or for a
            # connection (push channels), read off the index.
            models.Index(fields=["provider", "account_id", "-received_at"], name="webhook_latest"),
            models.Index(fields=["config", "-received_at"], name="webhook_latest_on_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"


class NotificationChannel(models.Model):
    """A push channel open at the provider for one connection (Drive's changes.watch). It ends
    at `expires_at` unless a newer one replaces it first; stopped ones are deleted."""

    config = models.ForeignKey(IntegrationConfig, on_delete=models.CASCADE, related_name="channels")
    channel_id = models.CharField(max_length=64, unique=True)
    resource_id = models.CharField(max_length=200)
    account_id = models.CharField(max_length=200)  # the account it was opened with
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.config} channel {self.channel_id} until {self.expires_at:%Y-%m-%d %H:%M}"
