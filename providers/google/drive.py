"""Watched Drive folders -> neutral document records (providers/records/documents.py).

A scan has two ways to learn what is in the watched folders:

- A full crawl lists each watched folder and its subfolders (several folders per files.list
  query), yielding a page of records per listing page. It takes the changes feed's start
  token *before* listing, so whatever changes during the crawl is replayed by the next scan.
- An incremental scan reads the changes feed from the token the last scan stored. The feed
  covers the whole account (reference pack §2.3), so each change is placed against the map of
  watched folders kept in the cursor: files inside are upserted, files outside are reported
  removed (the importer only touches documents it has), folders moving in are crawled,
  folders leaving take their documents with them.

Watched folders that differ from the ones the cursor was built for mean a full crawl. So does
a changes token Google refuses (its tokens do not expire, reference pack §2.3, but a garbled
or foreign one is refused): the scan raises CursorExpired and the engine runs it again with no
cursor. The scan's whole state is a `ScanCheckpoint`, saved after each page, so a redelivered
task resumes where the last page stopped; the cursor (`Page.cursor`, kept on the connection)
is a `ScanCursor`: the token plus the folder map.

Content is never downloaded here: each record carries a `DriveContent` that the importer
calls only for files it has no copy of (new, or a changed checksum / modified time).
"""

from __future__ import annotations

import copy
import enum
import logging
import mimetypes
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import msgspec

from providers.base import Checkpoint, Page, Progress, SyncRequest
from providers.errors import ApiError, CursorExpired, NotFound, RateLimited, Unauthorized
from providers.records.documents import (
    ContentUnavailable,
    DocumentFile,
    DocumentFolderRemoved,
    DocumentRemoved,
    DocumentScanFinished,
)
from providers.records.lookups import LookupData

from . import schemas
from .client import GoogleClient

log = logging.getLogger(__name__)

# Which watched folder a document came from, and how the drawer names it.
KINDS = {"recipe": "Recipes", "invoice": "Invoices"}

FOLDER = schemas.FOLDER_MIME
FILE_FIELDS = (
    "id,name,mimeType,parents,driveId,trashed,size,md5Checksum,modifiedTime,version,webViewLink"
)
LIST_FIELDS = f"nextPageToken,files({FILE_FIELDS})"
CHANGE_FIELDS = (
    f"nextPageToken,newStartPageToken,changes(fileId,removed,driveId,file({FILE_FIELDS}))"
)
FOLDER_FIELDS = "id,name,mimeType,parents,driveId,trashed"
PAGE_SIZE = 100  # files.list and changes.list: one page of records per request
PARENTS_PER_QUERY = 10  # folders listed together: "('a' in parents or 'b' in parents ...)"
MAX_DEPTH = 64  # folder chains deeper than this are cut (and cycles cannot hang us)

# Docs Editors files have no bytes of their own: files.export converts them (§2.2).
EXPORT_AS_PDF = {
    "application/vnd.google-apps.document",
    "application/vnd.google-apps.spreadsheet",
    "application/vnd.google-apps.presentation",
}
GOOGLE_TYPES = {
    "application/vnd.google-apps.form": "Google Form",
    "application/vnd.google-apps.drawing": "Google Drawing",
    "application/vnd.google-apps.site": "Google Site",
    "application/vnd.google-apps.map": "Google My Maps",
    "application/vnd.google-apps.shortcut": "Drive shortcut",
    "application/vnd.google-apps.script": "Apps Script",
    "application/vnd.google-apps.jam": "Jamboard",
}
# What a recipe or an invoice plausibly is: documents, spreadsheets, scans and photos.
SUPPORTED_TYPES = {
    "application/pdf",
    "text/plain",
    "text/csv",
    "text/markdown",
    "text/html",
    "application/rtf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
}
REMOVED = "deleted, or no longer shared with this Google account"
TRASHED = "moved to the Drive trash"
MOVED_OUT = "moved out of the watched folders"
FOLDER_GONE = "its watched folder is no longer available"


def watched_folders(settings: dict) -> dict[str, str]:
    """{kind: folder id} from the connection's settings (see GoogleProvider.clean_settings)."""
    folders = settings.get("folders") or {}
    return {
        kind: folders[kind]["id"]
        for kind in KINDS
        if isinstance(folders.get(kind), dict) and folders[kind].get("id")
    }


def unavailable(folder: schemas.DriveFile | None) -> str:
    """Why a watched folder (None: Drive refused to show it) cannot be scanned, in words for
    staff; "" when it can."""
    if folder is None:
        return "deleted or no longer shared"
    if folder.trashed or not folder.is_folder:
        return "in the Drive trash"
    return ""


def watched_lookup(roots: Iterable[Root]) -> dict:
    """The watched folders as the drawer's cached `watched` lookup keeps them:
    {"folders": {id: {"available": True, "path": ...} or {"available": False, "reason": ...}}}."""
    return {
        "folders": {
            root.id: (
                {"available": False, "reason": root.reason or unavailable(None)}
                if root.missing
                else {"available": True, "path": root.path}
            )
            for root in roots
        }
    }


def refused(exc: Exception) -> bool:
    """Google answered that this request cannot succeed as asked (not a transient error and
    not our credentials): a vanished file, a refused page token, a forbidden download."""
    return (
        isinstance(exc, ApiError)
        and not isinstance(exc, RateLimited | Unauthorized)
        and exc.status in (400, 403, 404, 410)
    )


def quoted(value: str) -> str:
    """A string literal for Drive's `q` grammar: backslash-escape `\\` and `'` (§2.1)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# --- content ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriveContent:
    """One file's bytes, fetched on demand by the importer (the `ContentSource` protocol)."""

    client: GoogleClient = field(repr=False, compare=False)
    file_id: str
    content_type: str
    extension: str
    export: bool = False
    on_fetched: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def fetch(self, sink: BinaryIO, max_bytes: int) -> int:
        try:
            if self.export:
                size = self.client.export(self.file_id, self.content_type, sink, max_bytes)
            else:
                size = self.client.download(self.file_id, sink, max_bytes)
        except ApiError as exc:
            if not refused(exc):
                raise
            if exc.code == "exportSizeLimitExceeded":
                raise ContentUnavailable("Google cannot export files over 10 MB") from None
            if isinstance(exc, NotFound):
                raise ContentUnavailable("it disappeared from Drive during the scan") from None
            raise ContentUnavailable(
                f"Google refused the download ({exc.code or exc.status})"
            ) from None
        if self.on_fetched is not None:
            self.on_fetched()
        return size


def plan_content(
    client: GoogleClient, file: schemas.DriveFile, on_fetched: Callable[[], None] | None = None
) -> tuple[DriveContent | None, str]:
    """How to get a file's bytes, or why we keep none: (source, "") or (None, reason)."""
    mime = file.mime_type
    if mime in EXPORT_AS_PDF:
        return DriveContent(client, file.id, "application/pdf", ".pdf", True, on_fetched), ""
    if mime.startswith("application/vnd.google-apps."):
        label = GOOGLE_TYPES.get(mime, "Google " + mime.rsplit(".", 1)[-1])
        return None, f"Unsupported type: {label}"
    if mime in SUPPORTED_TYPES or mime.startswith("image/"):
        return DriveContent(client, file.id, mime, _extension(file), False, on_fetched), ""
    return None, f"Unsupported type: {mime or 'unknown'}"


def _extension(file: schemas.DriveFile) -> str:
    stem, dot, ext = file.name.rpartition(".")
    if dot and stem and ext.isalnum() and len(ext) <= 5:
        return "." + ext.lower()
    return mimetypes.guess_extension(file.mime_type) or ""


def revision(file: schemas.DriveFile) -> str:
    """What identifies the bytes: the md5 for stored files, the modified time for Docs."""
    if file.md5_checksum:
        return f"md5:{file.md5_checksum}"
    modified = file.modified_time.isoformat() if file.modified_time else ""
    return f"modified:{modified}"


# --- paths ------------------------------------------------------------------------------------


class FolderPaths:
    """Folder metadata and human paths ("My Drive / Kitchen / Recipes"), fetched upwards with
    files.get and remembered for the life of this object (one request, or one scan)."""

    def __init__(self, client: GoogleClient) -> None:
        self.client = client
        self._files: dict[str, schemas.DriveFile] = {}
        self._drives: dict[str, str] = {}

    def folder(self, folder_id: str) -> schemas.DriveFile:
        if folder_id not in self._files:
            found = self.client.get_file(folder_id, FOLDER_FIELDS)
            self._files[folder_id] = self._files[found.id] = found
        return self._files[folder_id]

    def remember(self, file: schemas.DriveFile) -> None:
        self._files.setdefault(file.id, file)

    def forget(self) -> None:
        self._files.clear()

    def chain(self, file: schemas.DriveFile) -> list[schemas.DriveFile]:
        """The folders from the top (My Drive or a shared drive) down to `file` itself.

        A parent we may not read (a folder shared with us inside someone else's Drive) ends
        the chain there.
        """
        chain = [file]
        while chain[-1].parent and len(chain) < MAX_DEPTH:
            try:
                chain.append(self.folder(chain[-1].parent))
            except ApiError as exc:
                if not refused(exc):
                    raise
                break
        return list(reversed(chain))

    def label(self, node: schemas.DriveFile) -> str:
        """A top folder's name as Drive shows it: "My Drive", or the shared drive's name."""
        if node.parent:
            return node.name
        if node.drive_id:
            if node.drive_id not in self._drives:
                try:
                    self._drives[node.drive_id] = self.client.get_drive(node.drive_id).name
                except ApiError as exc:
                    if not refused(exc):
                        raise
                    self._drives[node.drive_id] = node.name
            return self._drives[node.drive_id] or node.name
        return "My Drive"

    def path(self, file: schemas.DriveFile) -> str:
        chain = self.chain(file)
        return " / ".join([self.label(chain[0]), *(f.name for f in chain[1:])])


# --- the scan ---------------------------------------------------------------------------------


class Phase(enum.Enum):
    """Where a scan is: it begins, reads the changes feed (incremental scans), lists folders,
    and is done."""

    BEGIN = "begin"
    CHANGES = "changes"
    CRAWL = "crawl"
    DONE = "done"


class Root(msgspec.Struct, forbid_unknown_fields=True):
    """A watched folder, as the scan found it."""

    id: str
    path: str = ""  # "My Drive / Kitchen / Recipes"
    ancestors: list[str] = []  # the folders above it, top first
    missing: bool = True  # trashed, deleted or no longer readable
    reason: str = ""  # why it is missing, for staff (`unavailable()`)


class Folder(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """A folder under a watched folder, stored as a short list: a map can hold thousands."""

    parent: str | None  # None for a watched folder itself
    name: str
    kind: str  # the watched folder's kind (KINDS)
    drive: str | None  # the shared drive it is in; None in My Drive


class Stats(msgspec.Struct, forbid_unknown_fields=True):
    """What the progress line counts."""

    folders: int = 0
    files: int = 0
    changes: int = 0
    downloaded: int = 0


class ScanCheckpoint(Checkpoint):
    """A scan's whole state: what it has found so far and where its listing stands."""

    phase: Phase = Phase.BEGIN
    incremental: bool = False  # reading the changes feed, not crawling everything
    scan: str = ""  # the full crawl's id ("" when incremental), for the importer's sweep
    token: str = ""  # changes feed position (full: taken before the crawl; else: next page)
    watch: dict[str, str] = {}  # {kind: folder id} as the settings were when the scan began
    roots: dict[str, Root] = {}  # by kind
    folders: dict[str, Folder] = {}  # by id: every folder under the roots
    queue: list[str] = []  # folders waiting to be listed
    batch: list[str] = []  # folders being listed together
    page: str | None = None  # that listing's next page token
    stats: Stats = msgspec.field(default_factory=Stats)


class ScanCursor(msgspec.Struct):
    """What a scan leaves for the next one: the changes feed position and what it covered
    (settings may change while a scan runs: then the next scan sees the difference and
    crawls afresh)."""

    token: str
    watch: dict[str, str]
    roots: dict[str, Root]
    folders: dict[str, Folder]


class DriveScan:
    """One Scan Now job's pages. See the module docstring for the two modes."""

    def __init__(self, client: GoogleClient, request: SyncRequest) -> None:
        self.client = client
        self.watch = watched_folders(request.settings)
        self.cursor = request.cursor or {}
        # Changed as the scan goes; each page carries a copy.
        self.state: ScanCheckpoint = copy.deepcopy(request.checkpoint)
        self.paths = FolderPaths(client)
        self.account_id = request.account_id

    # -- driving

    def pages(self) -> Iterator[Page]:
        if self.state.phase is Phase.BEGIN:
            self.state = self._begin()
        state = self.state
        if state.phase is Phase.DONE:
            return  # a redelivered task after the last page: the engine keeps its cursor
        if state.phase is Phase.CHANGES:
            yield from self._changes(state)
        yield from self._crawl(state)
        state.phase = Phase.DONE
        gone = tuple(kind for kind, root in state.roots.items() if root.missing)
        cursor = ScanCursor(
            token=state.token, watch=state.watch, roots=state.roots, folders=state.folders
        )
        # The scan resolved each watched folder afresh (a full crawl) or after a change that
        # touched it (renamed, moved, trashed): what the drawer shows of them now.
        watched = LookupData("watched", watched_lookup(state.roots.values()), self.account_id)
        yield Page(
            records=[DocumentScanFinished(scan=state.scan, unavailable=gone), watched],
            checkpoint=copy.deepcopy(state),
            progress=self._progress(state),
            cursor=msgspec.to_builtins(cursor),
        )

    def _begin(self) -> ScanCheckpoint:
        cursor = self._last_cursor()
        if cursor is not None and cursor.token and cursor.watch == self.watch:
            return ScanCheckpoint(
                phase=Phase.CHANGES,
                incremental=True,
                token=cursor.token,
                watch=dict(self.watch),
                roots=cursor.roots,
                folders=cursor.folders,
            )
        return self._full_state()

    def _last_cursor(self) -> ScanCursor | None:
        if not self.cursor:
            return None
        try:
            return msgspec.convert(self.cursor, ScanCursor)
        except msgspec.ValidationError:
            # Left in a shape this release does not read: the scan crawls everything instead.
            log.info("google.scan.cursor_unreadable")
            return None

    def _full_state(self) -> ScanCheckpoint:
        # The start token comes first: changes made while we crawl are replayed next time.
        state = ScanCheckpoint(
            phase=Phase.CRAWL,
            scan=uuid.uuid4().hex,
            token=self.client.start_page_token(),
            watch=dict(self.watch),
        )
        for kind, folder_id in self.watch.items():
            state.roots[kind] = Root(id=folder_id)
            self._add_root(state, kind)
        return state

    def _add_root(self, state: ScanCheckpoint, kind: str) -> bool:
        """Resolve a watched folder (its path may have changed) and queue it for listing."""
        root = state.roots[kind]
        try:
            folder = self.paths.folder(root.id)
        except ApiError as exc:
            if not refused(exc):
                raise
            folder = None
        reason = unavailable(folder)
        if reason:
            root.missing, root.reason = True, reason
            log.info("google.scan.folder_unavailable", extra={"kind": kind})
            return False
        chain = self.paths.chain(folder)
        state.roots[kind] = Root(
            id=folder.id,
            path=" / ".join([self.paths.label(chain[0]), *(f.name for f in chain[1:])]),
            ancestors=[f.id for f in chain[:-1]],
            missing=False,
        )
        state.folders[folder.id] = Folder(None, folder.name, kind, folder.drive_id)
        state.queue.append(folder.id)
        return True

    def _emit(self, state: ScanCheckpoint, records: list) -> Iterator[Page]:
        downloaded = state.stats.downloaded
        yield Page(records, checkpoint=copy.deepcopy(state), progress=self._progress(state))
        if state.stats.downloaded != downloaded:
            # The importer downloaded this page's new files after the page was yielded: an
            # empty page carries the true count to the progress bar (and the checkpoint).
            yield Page([], checkpoint=copy.deepcopy(state), progress=self._progress(state))

    def _progress(self, state: ScanCheckpoint) -> Progress:
        stats = state.stats
        parts = [
            f"{plural(stats.folders, 'folder')} and {plural(stats.files, 'file')} scanned",
            f"{stats.downloaded:,} downloaded",
        ]
        if state.incremental:
            parts.insert(0, plural(stats.changes, "change") + " checked")
        return Progress(done=stats.files, total=None, unit="files", message=" · ".join(parts))

    def _downloaded(self) -> None:
        self.state.stats.downloaded += 1

    # -- full listing (the whole crawl, or the subtrees an incremental scan must list)

    def _crawl(self, state: ScanCheckpoint) -> Iterator[Page]:
        folders = state.folders
        roots = {root.id for root in state.roots.values()}
        while state.queue or state.batch:
            if not state.batch:
                queue = [f for f in state.queue if f in folders]
                if not queue:
                    state.queue = []
                    break
                drive = folders[queue[0]].drive
                batch = [f for f in queue if folders[f].drive == drive][:PARENTS_PER_QUERY]
                state.batch, state.page = batch, None
                state.queue = [f for f in queue if f not in batch]
            batch = state.batch
            query = " or ".join(f"{quoted(f)} in parents" for f in batch)
            try:
                listing = self.client.list_files(
                    f"({query}) and trashed = false",
                    fields=LIST_FIELDS,
                    page_size=PAGE_SIZE,
                    page_token=state.page,
                    drive_id=folders[batch[0]].drive,
                )
            except ApiError as exc:
                if state.page and refused(exc) and exc.status == 400:
                    # Page tokens last hours, not forever (§2.1): list this batch again.
                    state.page = None
                    continue
                raise
            records = []
            for file in listing.files:
                parent = next((p for p in file.parents if p in batch), None)
                if parent is None or file.trashed:
                    continue
                if file.is_folder:
                    if file.id in roots:
                        continue  # another watched folder inside this one: it has its own kind
                    if file.id not in folders:
                        state.queue.append(file.id)
                    folders[file.id] = Folder(
                        parent, file.name, folders[parent].kind, file.drive_id
                    )
                else:
                    records.append(self._record(state, file, parent))
            state.page = listing.next_page_token
            if not state.page:
                state.stats.folders += len(batch)
                state.batch = []
            yield from self._emit(state, records)

    def _record(self, state: ScanCheckpoint, file: schemas.DriveFile, parent: str) -> DocumentFile:
        state.stats.files += 1
        content, skip = plan_content(self.client, file, self._downloaded)
        return DocumentFile(
            external_id=file.id,
            kind=state.folders[parent].kind,
            name=file.name,
            folder_id=parent,
            folder_path=self._folder_path(state, parent),
            mime_type=file.mime_type,
            size=file.byte_size,
            checksum=file.md5_checksum or "",
            modified_at=file.modified_time,
            version=file.version or "",
            # Only Drive's own https links reach the drawer's <a href>.
            web_url=file.web_view_link if file.web_view_link.startswith("https://") else "",
            revision=revision(file),
            content=content,
            skip_reason=skip,
            scan=state.scan,
        )

    def _folder_path(self, state: ScanCheckpoint, folder_id: str) -> str:
        folders, names = state.folders, []
        current = folder_id
        for _ in range(MAX_DEPTH):
            folder = folders[current]
            if folder.parent is None or folder.parent not in folders:
                root = state.roots.get(folder.kind)
                top = root.path if root is not None and root.id == current else folder.name
                return " / ".join([top or folder.name, *reversed(names)])
            names.append(folder.name)
            current = folder.parent
        return " / ".join(reversed(names))

    # -- incremental (the changes feed)

    def _changes(self, state: ScanCheckpoint) -> Iterator[Page]:
        while True:
            try:
                listing = self.client.list_changes(
                    state.token, fields=CHANGE_FIELDS, page_size=PAGE_SIZE
                )
            except ApiError as exc:
                if not refused(exc):
                    raise
                raise CursorExpired(
                    f"Google refused the changes token: {exc}", provider="google"
                ) from exc
            records: list = []
            is_folder = [self._about_folder(state, change) for change in listing.changes]
            # Folders first, so files of a folder that moved in on this page land inside it.
            for change, folder in zip(listing.changes, is_folder, strict=True):
                if folder:
                    self._folder_changed(state, change, records)
            for change, folder in zip(listing.changes, is_folder, strict=True):
                if not folder:
                    self._file_changed(state, change, records)
            state.stats.changes += len(listing.changes)
            if listing.next_page_token:
                state.token = listing.next_page_token
            else:
                state.token = listing.new_start_page_token or state.token
                state.phase = Phase.CRAWL
            yield from self._emit(state, records)
            if state.phase is not Phase.CHANGES:
                return

    def _about_folder(self, state: ScanCheckpoint, change: schemas.Change) -> bool:
        if change.file is not None:
            return change.file.is_folder
        return change.file_id in state.folders or any(
            change.file_id == root.id or change.file_id in root.ancestors
            for root in state.roots.values()
        )

    def _folder_changed(self, state: ScanCheckpoint, change: schemas.Change, records: list) -> None:
        folder_id, file = change.file_id, change.file
        folders = state.folders
        touched = [
            kind
            for kind, root in state.roots.items()
            if folder_id == root.id or folder_id in root.ancestors
        ]
        if touched:
            # A watched folder (or a folder above it) was renamed, moved, trashed, restored
            # or deleted: look at the watched folder afresh and list it again.
            for kind in touched:
                self._reroot(state, kind, records)
            return
        known = folders.get(folder_id)
        gone = change.removed or file is None
        parent = None if gone else next((p for p in file.parents if p in folders), None)
        if gone or file.trashed or parent is None:
            if known is not None:
                ids = self._subtree(folders, folder_id)
                for gone_id in ids:
                    folders.pop(gone_id, None)
                reason = REMOVED if gone else (TRASHED if file.trashed else MOVED_OUT)
                records.append(DocumentFolderRemoved(tuple(ids), reason))
            return
        entry = Folder(parent, file.name, folders[parent].kind, file.drive_id)
        if known != entry:
            # New in the watched folders, renamed, or moved within them: list it (again).
            if known is not None:
                for below in self._subtree(folders, folder_id)[1:]:
                    folders.pop(below, None)
            folders[folder_id] = entry
            state.queue.append(folder_id)

    def _reroot(self, state: ScanCheckpoint, kind: str, records: list) -> None:
        folders = state.folders
        mine = [f for f, folder in folders.items() if folder.kind == kind]
        for folder_id in mine:
            folders.pop(folder_id)
        was_missing = state.roots[kind].missing
        self.paths.forget()
        if not self._add_root(state, kind) and mine and not was_missing:
            records.append(DocumentFolderRemoved(tuple(mine), FOLDER_GONE))

    def _file_changed(self, state: ScanCheckpoint, change: schemas.Change, records: list) -> None:
        file = change.file
        if change.removed or file is None:
            records.append(DocumentRemoved(change.file_id, REMOVED))
            return
        parent = next((p for p in file.parents if p in state.folders), None)
        if file.trashed:
            records.append(DocumentRemoved(file.id, TRASHED))
        elif parent is None:
            records.append(DocumentRemoved(file.id, MOVED_OUT))
        else:
            records.append(self._record(state, file, parent))

    @staticmethod
    def _subtree(folders: dict[str, Folder], top: str) -> list[str]:
        """`top` and every folder below it in the map."""
        children: dict[str | None, list[str]] = {}
        for folder_id, folder in folders.items():
            children.setdefault(folder.parent, []).append(folder_id)
        found, stack = [], [top]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(children.get(current, ()))
        return found
