"""Document records -> sous.documents.Document, with a copy of each revision's content.

The importer decides which bytes to fetch: a file whose stored copy already holds its current
revision (same md5, or same modified time for Google Docs) is not downloaded again. Files
over DOCUMENTS_MAX_FILE_BYTES, types the provider cannot give us, and downloads the provider
refuses are recorded as skipped with the reason. Bytes are streamed to Django's default
storage before the page's rows are written in one transaction; if the page fails half-way,
the job redoes it and the same revision lands under the same name again.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.text import get_valid_filename

from integrations.services import imported
from providers.records.documents import (
    ContentTooLarge,
    ContentUnavailable,
    DocumentFile,
    DocumentFolderRemoved,
    DocumentRemoved,
    DocumentScanFinished,
)
from providers.records.tally import Tally
from sous.documents.models import Document
from sous.documents.signals import documents_imported

from . import Counts

log = logging.getLogger(__name__)

SPOOL_BYTES = 1024 * 1024  # smaller downloads stay in memory on their way to storage
SWEPT = "no longer in a watched folder"
# Fields a new provider listing can change on an existing document.
METADATA = (
    "kind",
    "name",
    "folder_id",
    "folder_path",
    "mime_type",
    "size",
    "checksum",
    "modified_at",
    "version",
    "web_url",
    "revision",
)
CONTENT = (
    "content",
    "content_type",
    "content_size",
    "content_sha256",
    "content_revision",
    "content_fetched_at",
)
UPDATED_FIELDS = [
    *METADATA,
    *CONTENT,
    "status",
    "skip_reason",
    "removed_at",
    "removed_reason",
    "last_scan",
    "updated_at",
]


@dataclass
class Stored:
    """A revision's bytes, now in storage."""

    name: str
    content_type: str
    size: int
    sha256: str


class _Hashing:
    """A write-only file object that hashes what passes through it."""

    def __init__(self, target) -> None:
        self.target = target
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.target.write(data)


def max_file_bytes() -> int:
    return settings.DOCUMENTS_MAX_FILE_BYTES


def too_large(size: int | None = None) -> str:
    limit = f"Larger than the {size_label(max_file_bytes())} limit"
    return f"{limit} ({size_label(size)})" if size else limit


def size_label(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size} bytes"


def storage_name(organization, source: str, record: DocumentFile, sha256: str, ext: str) -> str:
    stem = record.name
    if ext and stem.lower().endswith(ext):
        stem = stem[: -len(ext)]
    safe = get_valid_filename(stem)[:80] or "document"
    return (
        f"documents/{organization.pk}/{source}/{get_valid_filename(record.external_id)}/"
        f"{sha256[:16]}/{safe}{ext}"
    )


def fetch(organization, source: str, record: DocumentFile) -> Stored:
    """Stream one revision into storage; raises ContentTooLarge / ContentUnavailable."""
    source_bytes = record.content
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        sink = _Hashing(spool)
        size = source_bytes.fetch(sink, max_file_bytes())
        sha256 = sink.digest.hexdigest()
        spool.seek(0)
        name = storage_name(organization, source, record, sha256, source_bytes.extension)
        if default_storage.exists(name):
            # A retried page: the same bytes again. Replace rather than get a "_x7Yz" twin.
            default_storage.delete(name)
        saved = default_storage.save(name, File(spool, name=name))
    return Stored(saved, source_bytes.content_type, size, sha256)


def import_files(organization, source: str, records: list[DocumentFile]) -> Counts:
    counts = Counts()
    latest = {record.external_id: record for record in records}  # one per file, last wins
    existing = {
        doc.external_id: doc
        for doc in Document.objects.filter(
            organization=organization, source=source, external_id__in=list(latest)
        )
    }
    # 1. Content, outside any transaction (downloads take time).
    stored: dict[str, Stored] = {}
    skipped: dict[str, str] = {}
    for external_id, record in latest.items():
        doc = existing.get(external_id)
        reason = record.skip_reason or (
            too_large(record.size) if record.size and record.size > max_file_bytes() else ""
        )
        if not reason and record.content is None:
            reason = "No content available"
        if reason:
            skipped[external_id] = reason
            continue
        if doc is not None and doc.content and doc.content_revision == record.revision:
            continue  # this revision is already stored
        try:
            stored[external_id] = fetch(organization, source, record)
        except ContentTooLarge:
            skipped[external_id] = too_large()
        except ContentUnavailable as exc:
            skipped[external_id] = f"Not downloaded: {exc}"

    # 2. Rows, in one transaction.
    now = timezone.now()
    replaced: list[str] = []
    created: list[Document] = []
    changed: list[Document] = []
    marked: list[Document] = []  # only the full crawl's marker moved: saved, not "updated"
    with transaction.atomic():
        for external_id, record in latest.items():
            doc = existing.get(external_id)
            is_new = doc is None
            if is_new:
                doc = Document(
                    organization=organization,
                    source=source,
                    external_id=external_id,
                    first_seen_at=now,
                )
            before = _snapshot(doc)
            _apply(doc, record, stored.get(external_id), skipped.get(external_id), replaced, now)
            if not is_new and _snapshot(doc) == before:
                counts.unchanged += 1
                if record.scan and doc.last_scan != record.scan:
                    doc.last_scan = record.scan
                    marked.append(doc)
                continue
            doc.updated_at = now
            if record.scan:
                doc.last_scan = record.scan
            (created if is_new else changed).append(doc)
            if external_id in skipped:
                counts.skipped += 1
            elif is_new:
                counts.created += 1
            else:
                counts.updated += 1
        Document.objects.bulk_create(created)
        Document.objects.bulk_update(changed, UPDATED_FIELDS)
        Document.objects.bulk_update(marked, ["last_scan"])
        # Every document found counts, removed ones too (their copy stays). Last statement.
        imported.add(organization, source, "documents", len(created))
    counts.totals = Tally(
        documents_new=counts.created,
        documents_changed=counts.updated,
        documents_downloaded=len(stored),
        documents_skipped=counts.skipped,
    )
    _after_commit(organization, source, [d.pk for d in (*created, *changed)], replaced)
    return counts


def _apply(doc, record: DocumentFile, stored: Stored | None, skip: str | None, replaced, now):
    for name in METADATA:
        setattr(doc, name, getattr(record, name))
    doc.name, doc.folder_path = doc.name[:500], doc.folder_path[:1000]
    if stored is not None:
        if doc.content and doc.content.name != stored.name:
            replaced.append(doc.content.name)
        doc.content.name = stored.name
        doc.content_type = stored.content_type
        doc.content_size = stored.size
        doc.content_sha256 = stored.sha256
        doc.content_revision = record.revision
        doc.content_fetched_at = now
    if skip:
        doc.status, doc.skip_reason = Document.Status.SKIPPED, skip[:300]
    else:
        doc.status, doc.skip_reason = Document.Status.ACTIVE, ""
    doc.removed_at, doc.removed_reason = None, ""


def _snapshot(doc: Document) -> tuple:
    return (
        *(getattr(doc, name) for name in METADATA),
        doc.content.name or "",
        *(getattr(doc, name) for name in CONTENT[1:]),
        doc.status,
        doc.skip_reason,
        doc.removed_at,
    )


def remove_files(organization, source: str, records: list[DocumentRemoved]) -> Counts:
    by_reason: dict[str, list[str]] = {}
    for record in records:
        by_reason.setdefault(record.reason, []).append(record.external_id)
    return _remove(
        organization,
        source,
        [(Q(external_id__in=ids), reason) for reason, ids in by_reason.items()],
    )


def remove_folders(organization, source: str, records: list[DocumentFolderRemoved]) -> Counts:
    return _remove(
        organization,
        source,
        [(Q(folder_id__in=list(record.folder_ids)), record.reason) for record in records],
    )


def finish_scan(organization, source: str, records: list[DocumentScanFinished]) -> Counts:
    """Sweep after a full crawl; report what the watched folders hold now."""
    counts = Counts()
    for record in records:
        if record.scan:
            # Present before, not seen by this crawl: no longer under any watched folder.
            counts.add(_remove(organization, source, [(~Q(last_scan=record.scan), SWEPT)]))
    present = Document.objects.filter(
        organization=organization, source=source, status__in=Document.PRESENT
    )
    by_kind = dict(present.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    counts.totals.recipes = by_kind.get(Document.Kind.RECIPE, 0)
    counts.totals.invoices = by_kind.get(Document.Kind.INVOICE, 0)
    counts.totals.unavailable_folders = tuple(
        sorted({kind for record in records for kind in record.unavailable})
    )
    return counts


def _remove(organization, source: str, groups: list[tuple[Q, str]]) -> Counts:
    now = timezone.now()
    ids: list[int] = []
    with transaction.atomic():
        for condition, reason in groups:
            matched = Document.objects.filter(
                condition, organization=organization, source=source, removed_at__isnull=True
            )
            found = list(matched.values_list("pk", flat=True))
            Document.objects.filter(pk__in=found).update(
                status=Document.Status.REMOVED,
                removed_at=now,
                removed_reason=reason[:300],
                updated_at=now,
            )
            ids += found
    _after_commit(organization, source, ids, [])
    return Counts(deleted=len(ids), totals=Tally(documents_removed=len(ids)))


def _after_commit(organization, source: str, ids: list[int], replaced: list[str]) -> None:
    def done() -> None:
        for name in replaced:
            # An older revision's bytes; removed documents keep theirs (they are not here).
            default_storage.delete(name)
        if ids:
            documents_imported.send(
                sender=Document, organization=organization, source=source, ids=ids
            )

    transaction.on_commit(done)
