"""The records the Google emulator keeps: accounts, shared drives and Drive nodes.

Plain dataclasses; the stores (`drive_store.py`, `auth_store.py`) own them and guard them
with one lock. Nothing here talks HTTP.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, fields
from datetime import datetime

from .content import ContentSpec

FOLDER = "application/vnd.google-apps.folder"
DOCUMENT = "application/vnd.google-apps.document"
SPREADSHEET = "application/vnd.google-apps.spreadsheet"
PRESENTATION = "application/vnd.google-apps.presentation"
# Docs Editors files have no bytes of their own: `alt=media` is refused and `files.export`
# converts them (README §2.2).
EDITOR_TYPES = frozenset({DOCUMENT, SPREADSHEET, PRESENTATION})


@dataclass
class Account:
    """A Google Account that can sign in on the consent page."""

    sub: str  # the stable OIDC subject (21 digits, like Google's)
    email: str
    name: str
    given_name: str
    family_name: str
    picture: str
    permission_id: str  # Drive's User.permissionId
    root_id: str  # the id of this account's "My Drive" folder
    locale: str = "en"
    hosted_domain: str | None = None  # `hd` claim for Workspace accounts

    def public(self) -> dict:
        return {
            "sub": self.sub,
            "email": self.email,
            "name": self.name,
            "root_id": self.root_id,
        }


@dataclass
class SharedDrive:
    id: str
    name: str
    created: datetime
    members: set[str]  # account subs
    color_rgb: str = "#1e88e5"


@dataclass
class Node:
    """One Drive item: a folder, a binary file or a Docs Editors file.

    Roots (each account's My Drive and each shared drive) are nodes without a parent; Drive
    never lists them but `files.get` answers for them.
    """

    id: str
    name: str
    mime_type: str
    parent: str | None
    drive_id: str | None  # the shared drive this item lives in; None for My Drive
    owner: str | None  # account sub for My Drive items; shared-drive items have no owner
    created: datetime
    modified: datetime
    version: int
    seq: int  # creation order: the default listing order and the final sort tie-break
    content: ContentSpec | None = None  # None for folders
    explicitly_trashed: bool = False
    trashed_time: datetime | None = None
    starred: bool = False
    last_modifier: str | None = None  # account sub

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER

    @property
    def is_editor_file(self) -> bool:
        return self.mime_type in EDITOR_TYPES

    @property
    def is_blob(self) -> bool:
        return not self.is_folder and not self.is_editor_file


def node_record(node: Node) -> dict:
    """A node as JSON-ready data, for keeping across a restart (durable.py)."""
    record = {f.name: getattr(node, f.name) for f in fields(Node)}
    for name in ("created", "modified", "trashed_time"):
        if record[name] is not None:
            record[name] = record[name].isoformat()
    spec = node.content
    if spec is not None:
        record["content"] = {
            "kind": spec.kind,
            "title": spec.title,
            "lines": list(spec.lines),
            "seed": spec.seed,
            "size": spec.size,
            "raw": None if spec.raw is None else base64.b64encode(spec.raw).decode(),
        }
    return record


def node_from(record: dict) -> Node:
    values = dict(record)
    for name in ("created", "modified", "trashed_time"):
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    content = values["content"]
    if content is not None:
        raw = content["raw"]
        values["content"] = ContentSpec(
            kind=content["kind"],
            title=content["title"],
            lines=tuple(content["lines"]),
            seed=int(content["seed"]),
            size=content["size"],
            raw=None if raw is None else base64.b64decode(raw),
        )
    return Node(**values)
