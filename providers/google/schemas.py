"""Google response bodies we read, parsed strictly at the edge (shared/reference/google/).
msgspec, like Square's schemas: one schema library for every provider. Unknown fields are
ignored: Google adds fields."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import msgspec

T = TypeVar("T")


class GoogleModel(msgspec.Struct, frozen=True, gc=False):
    """`gc=False`: decoded JSON cannot hold reference cycles (see providers/square/schemas.py)."""


class UserInfo(GoogleModel):
    """OpenID Connect userinfo (https://www.googleapis.com/oauth2/v3/userinfo)."""

    sub: str
    email: str = ""
    email_verified: bool = False
    name: str = ""
    picture: str = ""


# --- Drive v3 (https://developers.google.com/drive/api/reference/rest/v3; reference pack §2).
# Field names are Drive's camelCase; int64 values (size, version, expiration) arrive as JSON
# strings.


class DriveModel(GoogleModel, rename="camel"):
    pass


class DriveFile(DriveModel):
    """A File resource, with the fields our `fields=` selections ask for."""

    id: str
    name: str = ""
    mime_type: str = ""
    parents: tuple[str, ...] = ()
    drive_id: str | None = None  # the shared drive it lives in; None in My Drive
    trashed: bool = False
    size: str | None = None  # int64 as a string; absent for folders and shortcuts
    md5_checksum: str | None = None  # blobs only
    modified_time: datetime | None = None
    version: str | None = None
    web_view_link: str = ""

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER_MIME

    @property
    def byte_size(self) -> int | None:
        return int(self.size) if self.size is not None and self.size.isdigit() else None

    @property
    def parent(self) -> str | None:
        return self.parents[0] if self.parents else None


class FileList(DriveModel):
    files: tuple[DriveFile, ...] = ()
    next_page_token: str | None = None
    incomplete_search: bool = False


class Change(DriveModel):
    """One entry of the changes feed: `removed` means deleted or no longer visible to us."""

    file_id: str
    removed: bool = False
    file: DriveFile | None = None
    drive_id: str | None = None


class ChangeList(DriveModel):
    changes: tuple[Change, ...] = ()
    next_page_token: str | None = None
    new_start_page_token: str | None = None  # only on the last page


class StartPageToken(DriveModel):
    start_page_token: str


class Channel(DriveModel):
    """changes.watch's answer (reference README §2.4)."""

    id: str
    resource_id: str
    expiration: str  # Unix ms, int64 as a string

    @property
    def expiration_ms(self) -> int:
        return int(self.expiration)


class SharedDrive(DriveModel):
    id: str
    name: str = ""


class DriveList(DriveModel):
    drives: tuple[SharedDrive, ...] = ()
    next_page_token: str | None = None


FOLDER_MIME = "application/vnd.google-apps.folder"


def from_json(kind: type[T], content: bytes) -> T:
    """`content` parsed strictly as `kind`; msgspec.ValidationError names the offending field."""
    return msgspec.json.decode(content, type=kind)
