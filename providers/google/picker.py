"""The drawer's folder picker, served from our endpoints (the browser never sees a Google token).

Three views of the user's folders: the tops (My Drive and each shared drive), one folder's
subfolders, and a search by name across all of them. Each lists one Drive page at a time
(with "Load more"), so a Drive with thousands of folders answers as fast as a small one.
Each folder on offer carries a signed `choice` (id, name, path, drive) that
`GoogleProvider.clean_settings` accepts back: what staff save is what Drive told us.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core import signing

from providers.base import InvalidParams
from providers.errors import ApiError

from . import schemas
from .client import GoogleClient
from .drive import (
    FOLDER,
    KINDS,
    FolderPaths,
    Root,
    quoted,
    refused,
    unavailable,
    watched_folders,
    watched_lookup,
)

BROWSE_PAGE = 50
SEARCH_PAGE = 20
CHOICE_SALT = "providers.google.folder-choice"
CHOICE_MAX_AGE = 24 * 3600  # a picker left open overnight must be reopened
CHILD_FIELDS = "nextPageToken,files(id,name,mimeType,parents,driveId)"


def sign_choice(folder: dict, account_id: str) -> str:
    """Signed for one Google account: a choice cannot be saved to another connection."""
    return signing.dumps(folder, salt=f"{CHOICE_SALT}:{account_id}", compress=True)


def read_choice(value: str, account_id: str) -> dict:
    try:
        folder = signing.loads(value, salt=f"{CHOICE_SALT}:{account_id}", max_age=CHOICE_MAX_AGE)
    except signing.BadSignature:
        raise InvalidParams("That folder choice has expired. Open the picker again.") from None
    if not isinstance(folder, dict) or not folder.get("id"):
        raise InvalidParams("That folder choice is not valid.")
    return folder


def folders(client: GoogleClient, params: Mapping[str, str], account_id: str) -> dict:
    """Data for google/folders.html (this package's templates)."""

    def _entry(file: schemas.DriveFile, path: str, name: str | None = None) -> dict:
        folder = {"id": file.id, "name": name or file.name, "path": path, "drive_id": file.drive_id}
        return {**folder, "choice": sign_choice(folder, account_id)}

    kind = params.get("for", "")
    if kind not in KINDS:
        kind = "recipe"
    query = " ".join(params.get("q", "").split())[:100]
    parent = params.get("parent", "").strip()[:200]
    page = params.get("page", "").strip() or None
    data = {
        "kind": kind,
        "kind_label": KINDS[kind],
        "query": query,
        "parent": parent,
        "append": page is not None,  # "Load more": only the next rows
        "crumbs": [],
        "here": None,
        "folders": [],
        "next_page": "",
    }
    paths = FolderPaths(client)
    if query:
        data["mode"] = "search"
        listing = client.list_files(
            f"name contains {quoted(query)} and mimeType = {quoted(FOLDER)} and trashed = false",
            fields=CHILD_FIELDS,
            page_size=SEARCH_PAGE,
            page_token=page,
            order_by="name",
            all_drives=True,
        )
        for file in listing.files:
            paths.remember(file)
        data["folders"] = [_entry(f, paths.path(f)) for f in listing.files if f.is_folder]
        data["next_page"] = listing.next_page_token or ""
    elif parent:
        data["mode"] = "browse"
        here = paths.folder(parent)
        if not here.is_folder or here.trashed:
            data["message"] = "That folder is no longer available."
            return data
        chain = paths.chain(here)
        names = [paths.label(chain[0]), *(f.name for f in chain[1:])]
        here_path = " / ".join(names)
        data["crumbs"] = [{"id": f.id, "name": n} for f, n in zip(chain, names, strict=True)]
        data["here"] = _entry(here, here_path, name=names[-1])
        listing = client.list_files(
            f"{quoted(here.id)} in parents and mimeType = {quoted(FOLDER)} and trashed = false",
            fields=CHILD_FIELDS,
            page_size=BROWSE_PAGE,
            page_token=page,
            order_by="name",
            drive_id=here.drive_id,
        )
        data["folders"] = [
            _entry(f, f"{here_path} / {f.name}") for f in listing.files if f.is_folder
        ]
        data["next_page"] = listing.next_page_token or ""
    else:
        data["mode"] = "tops"
        tops = [] if page else [_entry(paths.folder("root"), "My Drive", name="My Drive")]
        drives = client.list_drives(page_token=page)
        for drive in drives.drives:
            top = schemas.DriveFile(
                id=drive.id, name=drive.name, mime_type=FOLDER, drive_id=drive.id
            )
            tops.append({**_entry(top, drive.name), "shared": True})
        data["folders"] = tops
        data["next_page"] = drives.next_page_token or ""
    return data


def watched(client: GoogleClient, folder_ids: Iterable[str]) -> dict:
    """Is each watched folder still there, and where is it now? The `watched` lookup's data
    (drive.watched_lookup), as a scan would leave it."""
    paths = FolderPaths(client)
    roots = []
    for folder_id in folder_ids:
        try:
            folder = paths.folder(folder_id)
        except ApiError as exc:
            if not refused(exc):
                raise
            folder = None
        reason = unavailable(folder)
        path = "" if reason else paths.path(folder)
        roots.append(Root(id=folder_id, path=path, missing=bool(reason), reason=reason))
    return watched_lookup(roots)


def covers(data: dict, settings: dict) -> bool:
    """Whether kept `watched` data knows every folder now watched."""
    known = (data or {}).get("folders") or {}
    return all(folder_id in known for folder_id in watched_folders(settings).values())


def show_watched(data: dict, params: Mapping[str, str]) -> dict:
    """{"status": {kind: {available, path, reason}}} for the folders in `params` ({kind: id},
    the saved ones), from kept `data`; a folder it does not know is left out."""
    known = (data or {}).get("folders") or {}
    status = {}
    for kind in KINDS:
        folder_id = params.get(kind, "").strip()
        if folder_id in known:
            status[kind] = known[folder_id]
    return {"status": status}
