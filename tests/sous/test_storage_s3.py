"""Imported documents' content in an S3-compatible bucket (moto's server mode): a Drive scan
against the sandbox writes every file there, read back here with boto3 itself, and the later
scans replace and keep objects exactly as they do files on disk."""

from __future__ import annotations

import hashlib

import pytest

from integrations.models import SyncJob
from sous.documents.models import Document
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    scan,
    watch,
)

pytestmark = pytest.mark.django_db


def test_a_scan_stores_every_file_in_the_bucket_and_nothing_on_disk(
    google_config, drive, s3_server, s3_storage, settings
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")

    job = scan(google_config)

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    documents = list(Document.objects.filter(status=Document.Status.ACTIVE))
    assert len(documents) > 5
    stored = s3_server.objects(s3_storage)
    assert set(stored) == {d.content.name for d in documents}
    for document in documents:
        content = stored[document.content.name]
        assert hashlib.sha256(content).hexdigest() == document.content_sha256, document.name
        assert len(content) == document.content_size
        if document.checksum:  # Drive's md5 of a stored file (exports have none)
            assert hashlib.md5(content).hexdigest() == document.checksum, document.name
    assert not settings.MEDIA_ROOT.exists()


def test_scanning_again_changes_nothing_in_the_bucket(google_config, drive, s3_server, s3_storage):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    scan(google_config)
    before = s3_server.objects(s3_storage)
    google_config.cursors = {}  # a full crawl, as when Drive refuses the changes token
    google_config.save(update_fields=["cursors"])

    again = scan(google_config)

    assert again.counts["unchanged"] == len(before)
    assert s3_server.objects(s3_storage) == before


def test_a_changed_file_replaces_its_object_and_a_removed_one_keeps_it(
    google_config, drive, s3_server, s3_storage, django_capture_on_commit_callbacks
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    scan(google_config)
    tiramisu = Document.objects.get(name="Tiramisu.pdf")
    lemon = Document.objects.get(name="Lemon Tart.pdf")
    old_tiramisu = tiramisu.content.name
    drive.control(
        "POST", f"files/{tiramisu.external_id}/modify", json={"content": "More mascarpone"}
    )
    drive.control("POST", f"files/{lemon.external_id}/trash")

    # The older revision is deleted once the page's rows are committed.
    with django_capture_on_commit_callbacks(execute=True):
        scan(google_config)

    stored = s3_server.objects(s3_storage)
    tiramisu.refresh_from_db()
    assert old_tiramisu not in stored
    assert b"More mascarpone" in stored[tiramisu.content.name]
    lemon.refresh_from_db()
    assert lemon.status == Document.Status.REMOVED
    assert lemon.content.name in stored  # removed from Drive, its copy kept
