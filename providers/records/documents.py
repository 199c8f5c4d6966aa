"""Neutral records for the documents domain: files found in watched folders, and removals.

A provider's scan yields these; `integrations/sync/documents.py` saves them into
`sous.documents`. Content is *not* in the record: a file's bytes are fetched only when the
importer finds that it has no copy of this revision yet, through the record's `content`
(a `ContentSource` bound to the job's API client, living only in the worker's memory).

Example, a PDF in "My Drive / Kitchen / Recipes / Mains":

    DocumentFile(
        external_id="1x2y3z", kind="recipe", name="Braised Short Ribs.pdf",
        folder_id="1fold", folder_path="My Drive / Kitchen / Recipes / Mains",
        mime_type="application/pdf", size=48213, checksum="9e107d9d372bb6826bd81d3542a419d6",
        modified_at=datetime(2026, 1, 2, 10, 30, tzinfo=UTC), version="14",
        web_url="https://drive.google.com/file/d/1x2y3z/view", revision="md5:9e107d9d...",
        content=<DriveContent 1x2y3z>, scan="c0ffee",
    )
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol


class ContentTooLarge(Exception):
    """The bytes exceeded the size the importer allows; nothing usable was written."""


class ContentUnavailable(Exception):
    """The provider cannot give us these bytes (export refused, file gone meanwhile).

    The message is a short reason staff can read ("Google cannot export files over 10 MB").
    """


class ContentSource(Protocol):
    """How to get one revision's bytes, decided by the provider (download or export)."""

    content_type: str  # MIME type of the bytes fetch() writes (application/pdf for exports)
    extension: str  # ".pdf", for the stored file's name

    def fetch(self, sink: BinaryIO, max_bytes: int) -> int:
        """Write the bytes to `sink`; return their count. Raise ContentTooLarge past
        `max_bytes`, ContentUnavailable when the provider will not serve them, and the
        provider errors (RateLimited, Unauthorized, ...) for the job machinery to handle."""


@dataclass(frozen=True)
class DocumentFile:
    """A file inside a watched folder, as the provider sees it now."""

    external_id: str  # the provider's file id; unique per (organisation, source)
    kind: str  # "recipe" | "invoice": which watched folder it lies under
    name: str
    folder_id: str  # the provider id of the folder directly containing it
    folder_path: str  # "My Drive / Kitchen / Recipes / Mains"
    mime_type: str
    size: int | None
    checksum: str  # md5 of the bytes when the provider has one, else ""
    modified_at: datetime | None
    version: str
    web_url: str
    # Identifies this revision's content: "md5:<checksum>" or "modified:<time>" for files
    # without a checksum (Google Docs). A stored copy of another revision is replaced.
    revision: str
    content: ContentSource | None = field(default=None, repr=False, compare=False)
    skip_reason: str = ""  # why no content is kept ("unsupported type: video/mp4")
    scan: str = ""  # the full crawl that saw it ("" for incremental changes)


@dataclass(frozen=True)
class DocumentRemoved:
    """A file that left the watched folders (trashed, deleted, unshared, moved out).

    Providers may report files they never imported (a change feed is account-wide): only
    documents that exist are marked.
    """

    external_id: str
    reason: str


@dataclass(frozen=True)
class DocumentFolderRemoved:
    """Folders that left the watched folders: every document directly inside them is removed."""

    folder_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class DocumentScanFinished:
    """The last record of a scan. With `scan`, it was a full crawl: documents of this source
    it did not see are no longer in any watched folder."""

    scan: str = ""
    unavailable: tuple[str, ...] = ()  # kinds whose watched folder is gone or unreadable
