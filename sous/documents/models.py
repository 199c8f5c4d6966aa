"""Recipes and invoices found in watched Drive folders, with a copy of their content.

A Document is keyed by (organisation, source, external id), never by the connection: a
disconnect keeps every one of them and their stored content, and a reconnect re-attaches
by upsert. Documents that leave the watched folders are marked removed, not deleted.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from sous.orgs.models import Organization


class Document(models.Model):
    class Kind(models.TextChoices):
        RECIPE = "recipe", "Recipe"
        INVOICE = "invoice", "Invoice"

    class Status(models.TextChoices):
        ACTIVE = "active", "Imported"
        SKIPPED = "skipped", "Skipped"  # present in the folder, content not kept (skip_reason)
        REMOVED = "removed", "Removed"  # no longer in a watched folder (removed_reason)

    PRESENT = (Status.ACTIVE, Status.SKIPPED)

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="documents"
    )
    source = models.CharField(max_length=40)  # "google"
    external_id = models.CharField(max_length=200)  # the Drive file id
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)

    name = models.CharField(max_length=500)
    folder_id = models.CharField(max_length=200, blank=True, db_index=True)
    folder_path = models.CharField(max_length=1000, blank=True)
    mime_type = models.CharField(max_length=200)
    size = models.BigIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64, blank=True)  # the provider's md5, if any
    modified_at = models.DateTimeField(null=True, blank=True)
    version = models.CharField(max_length=40, blank=True)
    web_url = models.URLField(max_length=1000, blank=True)
    revision = models.CharField(max_length=100, blank=True)  # see DocumentFile.revision

    # The stored copy (Django's default storage) and which revision it holds.
    content = models.FileField(upload_to="documents/", max_length=500, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    content_size = models.BigIntegerField(null=True, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    content_revision = models.CharField(max_length=100, blank=True)
    content_fetched_at = models.DateTimeField(null=True, blank=True)

    skip_reason = models.CharField(max_length=300, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.CharField(max_length=300, blank=True)
    last_scan = models.CharField(max_length=40, blank=True)  # the last full crawl that saw it

    first_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="one_document_per_file"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "source", "status", "kind"]),
            models.Index(fields=["organization", "-content_fetched_at"]),
            # The drawer's latest imported files, in its order: read off the index.
            models.Index(
                fields=[
                    "organization",
                    "source",
                    "status",
                    "-content_fetched_at",
                    "-updated_at",
                    "-id",
                ],
                name="document_latest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    @property
    def present(self) -> bool:
        return self.status in self.PRESENT
