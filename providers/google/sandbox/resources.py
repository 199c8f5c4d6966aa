"""Drive v3 resources as JSON: File, User, Drive, About (field names from the discovery doc)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .content import digests, size_of
from .drive_store import DriveStore
from .fields import Selection, wants
from .model import DOCUMENT, PRESENTATION, SPREADSHEET, Account, Node, SharedDrive

# What files.export converts each Docs Editors type to, and the links Drive advertises.
EXPORT_FORMATS: dict[str, tuple[str, ...]] = {
    DOCUMENT: ("application/pdf", "text/plain", "text/html"),
    SPREADSHEET: ("application/pdf", "text/csv"),
    PRESENTATION: ("application/pdf", "text/plain"),
}
_EDITOR_PATH = {DOCUMENT: "document", SPREADSHEET: "spreadsheets", PRESENTATION: "presentation"}
_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "text/plain": "txt",
}


def rfc3339(moment: datetime) -> str:
    """Drive's timestamps: UTC with milliseconds, e.g. 2026-01-15T09:00:00.000Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def user(account: Account, viewer: Account | None) -> dict:
    return {
        "kind": "drive#user",
        "displayName": account.name,
        "photoLink": account.picture,
        "me": viewer is not None and account.sub == viewer.sub,
        "permissionId": account.permission_id,
        "emailAddress": account.email,
    }


def web_view_link(node: Node) -> str:
    if node.is_folder:
        return f"https://drive.google.com/drive/folders/{node.id}"
    if node.mime_type in _EDITOR_PATH:
        return (
            f"https://docs.google.com/{_EDITOR_PATH[node.mime_type]}/d/{node.id}/edit?usp=drivesdk"
        )
    return f"https://drive.google.com/file/d/{node.id}/view?usp=drivesdk"


def file_size(node: Node) -> int | None:
    """Blobs: their byte count. Docs Editors files: the size of their PDF export."""
    if node.content is None:
        return None
    if node.is_editor_file:
        return size_of(
            replace(node.content, kind="pdf", raw=None)
        )  # what export(application/pdf) gives
    return size_of(node.content)


def file_resource(
    store: DriveStore, node: Node, viewer: Account, selection: Selection | None
) -> dict:
    """The full File for `viewer`; expensive fields only when `selection` asks for them."""
    in_shared_drive = node.drive_id is not None
    owner = store.accounts.get(node.owner or "")
    modifier = store.accounts.get(node.last_modifier or "")
    trashed = store.is_trashed(node)
    resource: dict = {
        "kind": "drive#file",
        "id": node.id,
        "name": node.name,
        "mimeType": node.mime_type,
        "starred": node.starred,
        "trashed": trashed,
        "explicitlyTrashed": node.explicitly_trashed,
        "spaces": ["drive"],
        "version": str(node.version),
        "webViewLink": web_view_link(node),
        "iconLink": f"https://drive-thirdparty.googleusercontent.com/16/type/{node.mime_type}",
        "hasThumbnail": node.mime_type.startswith("image/") or node.is_editor_file,
        "thumbnailVersion": "0",
        "viewedByMe": True,
        "createdTime": rfc3339(node.created),
        "modifiedTime": rfc3339(node.modified),
        "modifiedByMe": node.last_modifier == viewer.sub,
        "shared": in_shared_drive,
        "ownedByMe": node.owner == viewer.sub,
        "isAppAuthorized": False,
        "copyRequiresWriterPermission": False,
        "writersCanShare": True,
        "viewersCanCopyContent": True,
        "capabilities": {
            "canDownload": True,
            "canEdit": True,
            "canListChildren": node.is_folder,
            "canAddChildren": node.is_folder,
            "canTrash": True,
            "canRename": True,
            "canReadRevisions": not node.is_folder,
        },
    }
    if node.parent is not None:
        resource["parents"] = [node.parent]
    if in_shared_drive:
        resource["driveId"] = node.drive_id
    if owner is not None:
        resource["owners"] = [user(owner, viewer)]
    if modifier is not None:
        resource["lastModifyingUser"] = user(modifier, viewer)
        if node.last_modifier == viewer.sub:
            resource["modifiedByMeTime"] = rfc3339(node.modified)
    if node.explicitly_trashed and node.trashed_time is not None:
        resource["trashedTime"] = rfc3339(node.trashed_time)
    if node.is_folder:
        resource["folderColorRgb"] = "#8f8f8f"
        resource["quotaBytesUsed"] = "0"
        return resource

    if wants(selection, "size") or wants(selection, "quotaBytesUsed"):
        size = str(file_size(node))
        resource["size"] = size
        resource["quotaBytesUsed"] = size if node.is_blob else "0"
    if node.is_editor_file:
        resource["exportLinks"] = {
            fmt: f"https://docs.google.com/feeds/download/{_EDITOR_PATH[node.mime_type]}/Export"
            f"?id={node.id}&exportFormat={fmt.rsplit('/', 1)[-1]}"
            for fmt in EXPORT_FORMATS[node.mime_type]
        }
        return resource

    # Blobs: checksums over exactly the bytes alt=media serves (README §2.2).
    extension = (
        node.name.rsplit(".", 1)[-1] if "." in node.name else _EXTENSIONS.get(node.mime_type)
    )
    if extension:
        resource["fileExtension"] = extension
        resource["fullFileExtension"] = extension
    resource["originalFilename"] = node.name
    resource["headRevisionId"] = f"0B{node.id[1:12]}{node.version:04d}"
    resource["webContentLink"] = f"https://drive.google.com/uc?id={node.id}&export=download"
    if any(wants(selection, k) for k in ("md5Checksum", "sha1Checksum", "sha256Checksum")):
        sums = digests(node.content)
        resource.update(md5Checksum=sums.md5, sha1Checksum=sums.sha1, sha256Checksum=sums.sha256)
    if node.mime_type.startswith("image/"):
        resource["imageMediaMetadata"] = {"width": 16, "height": 16, "rotation": 0}
    return resource


DEFAULT_FILE_FIELDS = ("kind", "id", "name", "mimeType", "resourceKey")


def drive_resource(drive: SharedDrive) -> dict:
    return {
        "kind": "drive#drive",
        "id": drive.id,
        "name": drive.name,
        "createdTime": rfc3339(drive.created),
        "hidden": False,
        "colorRgb": drive.color_rgb,
        "capabilities": {"canListChildren": True, "canDownload": True, "canAddChildren": True},
        "restrictions": {
            "adminManagedRestrictions": False,
            "copyRequiresWriterPermission": False,
            "domainUsersOnly": False,
            "driveMembersOnly": False,
        },
    }


def about_resource(store: DriveStore, account: Account) -> dict:
    usage = sum(
        file_size(n) or 0
        for n in store.nodes.values()
        if n.owner == account.sub and n.is_blob and n.content is not None
    )
    trash = sum(
        file_size(n) or 0
        for n in store.nodes.values()
        if n.owner == account.sub and n.is_blob and store.is_trashed(n)
    )
    return {
        "kind": "drive#about",
        "user": user(account, account),
        "storageQuota": {
            "limit": str(15 * 1024**3),
            "usage": str(usage),
            "usageInDrive": str(usage),
            "usageInDriveTrash": str(trash),
        },
        "maxUploadSize": str(5 * 1024**4),
        "appInstalled": False,
        "canCreateDrives": True,
        "exportFormats": {k: list(v) for k, v in EXPORT_FORMATS.items()},
        "importFormats": {"text/plain": [DOCUMENT], "text/csv": [SPREADSHEET]},
        "maxImportSizes": {DOCUMENT: "10485760", SPREADSHEET: "104857600"},
        "folderColorPalette": ["#ac725e", "#8f8f8f", "#4986e7"],
    }
