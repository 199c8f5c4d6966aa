"""The documents importer on its own: content decisions, skips, retries, removals.

Records are built by hand; their `content` is a small stand-in for the provider's fetcher
(the `ContentSource` protocol), so each case controls exactly what the bytes do.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.storage import default_storage

from integrations.sync import save_records
from providers.errors import RateLimited
from providers.records.documents import (
    ContentTooLarge,
    ContentUnavailable,
    DocumentFile,
    DocumentFolderRemoved,
    DocumentScanFinished,
)
from providers.records.tally import Tally
from sous.documents.models import Document

pytestmark = pytest.mark.django_db


class Bytes:
    """A ContentSource serving fixed bytes, or failing the way it is told to."""

    content_type = "application/pdf"
    extension = ".pdf"

    def __init__(self, data: bytes = b"%PDF-1.4 soup", fail: Exception | None = None) -> None:
        self.data, self.fail, self.calls = data, fail, 0

    def fetch(self, sink, max_bytes: int) -> int:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        if len(self.data) > max_bytes:
            sink.write(self.data[:max_bytes])
            raise ContentTooLarge("streamed past the cap")
        sink.write(self.data)
        return len(self.data)


def record(file_id: str, content, **overrides) -> DocumentFile:
    values = {
        "external_id": file_id,
        "kind": "recipe",
        "name": f"{file_id}.pdf",
        "folder_id": "fold",
        "folder_path": "My Drive / Recipes",
        "mime_type": "application/pdf",
        "size": None,
        "checksum": "",
        "modified_at": datetime(2026, 1, 2, tzinfo=UTC),
        "version": "3",
        "web_url": f"https://drive.google.com/file/d/{file_id}/view",
        "revision": "modified:2026-01-02T00:00:00+00:00",
        "content": content,
    }
    return DocumentFile(**{**values, **overrides})


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_download_that_outgrows_the_cap_is_skipped_and_nothing_is_kept(org, settings):
    settings.DOCUMENTS_MAX_FILE_BYTES = 1024 * 1024
    counts = save_records(org, "google", [record("big", Bytes(b"x" * (1024 * 1024 + 1)))])
    big = Document.objects.get()
    assert (big.status, big.skip_reason) == ("skipped", "Larger than the 1 MB limit")
    assert not big.content and counts.skipped == 1
    assert not default_storage.exists("documents")  # the partial bytes never reached storage


def test_a_download_google_refuses_is_skipped_with_the_reason(org):
    refused = Bytes(fail=ContentUnavailable("Google cannot export files over 10 MB"))
    save_records(org, "google", [record("huge-doc", refused)])
    doc = Document.objects.get()
    assert doc.skip_reason == "Not downloaded: Google cannot export files over 10 MB"


def test_a_page_that_failed_half_way_is_redone_without_twins_or_lost_counts(org):
    first, second = Bytes(b"%PDF first"), Bytes(fail=RateLimited("slow down", retry_after=1))
    with pytest.raises(RateLimited):
        save_records(org, "google", [record("a", first), record("b", second)])
    assert not Document.objects.exists()  # rows are written only once the page's bytes are in

    second.fail = None
    counts = save_records(org, "google", [record("a", first), record("b", second)])
    assert counts.created == 2 and counts.totals.documents_new == 2
    a = Document.objects.get(external_id="a")
    assert a.content.name.endswith("/a.pdf")  # the same name again, no "a_x7Yz.pdf" twin
    files = default_storage.listdir(a.content.name.rsplit("/", 1)[0])[1]
    assert files == ["a.pdf"]


def test_an_unchanged_revision_is_not_fetched_again_but_a_new_one_is(org):
    content = Bytes()
    save_records(org, "google", [record("a", content)])
    save_records(org, "google", [record("a", content, name="Renamed.pdf")])
    assert content.calls == 1
    counts = save_records(org, "google", [record("a", content, revision="modified:later")])
    assert content.calls == 2 and counts.updated == 1


def test_removed_folders_take_their_documents_and_a_full_crawl_sweeps_the_rest(org):
    save_records(
        org,
        "google",
        [
            record("a", Bytes(), scan="s1"),
            record("b", Bytes(), scan="s1", folder_id="other"),
            record("c", Bytes(), scan="s1", kind="invoice"),
        ],
    )
    counts = save_records(
        org, "google", [DocumentFolderRemoved(("other",), "moved out of the watched folders")]
    )
    assert counts.deleted == 1
    save_records(org, "google", [record("a", Bytes(), scan="s2")])
    finished = save_records(org, "google", [DocumentScanFinished(scan="s2")])
    assert finished.totals == Tally(documents_removed=1, recipes=1)
    statuses = dict(Document.objects.values_list("external_id", "status"))
    assert statuses == {"a": "active", "b": "removed", "c": "removed"}
    assert all(d.content for d in Document.objects.all())  # removed ones keep their content
