"""Partial responses: Google's `fields` parameter (`nextPageToken,files(id,name)`, `a/b`, `*`).

A selection is a dict from field name to a sub-selection, or to None for "the whole value".
Names are checked against the resource schemas (from the Drive v3 discovery document), so a
typo is a 400 "Invalid field selection", as Google answers, instead of a silent empty field.
"""

from __future__ import annotations

import re

Selection = dict[str, "Selection | None"]


class FieldsError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Invalid field selection {name}")
        self.name = name


ANY = "*"  # an object whose sub-fields are not checked
_USER = ("kind", "displayName", "photoLink", "me", "permissionId", "emailAddress")
# Property names of the discovery document's schemas; the value names a nested schema.
SCHEMAS: dict[str, dict[str, str | None]] = {
    "User": dict.fromkeys(_USER),
    "File": {
        **dict.fromkeys(
            [
                "appProperties",
                "contentHints",
                "contentRestrictions",
                "copyRequiresWriterPermission",
                "createdTime",
                "description",
                "driveId",
                "explicitlyTrashed",
                "exportLinks",
                "fileExtension",
                "folderColorRgb",
                "fullFileExtension",
                "hasAugmentedPermissions",
                "hasThumbnail",
                "headRevisionId",
                "iconLink",
                "id",
                "inheritedPermissionsDisabled",
                "isAppAuthorized",
                "kind",
                "labelInfo",
                "linkShareMetadata",
                "md5Checksum",
                "mimeType",
                "modifiedByMe",
                "modifiedByMeTime",
                "modifiedTime",
                "name",
                "originalFilename",
                "ownedByMe",
                "parents",
                "permissionIds",
                "permissions",
                "properties",
                "quotaBytesUsed",
                "resourceKey",
                "sha1Checksum",
                "sha256Checksum",
                "shared",
                "sharedWithMeTime",
                "shortcutDetails",
                "size",
                "spaces",
                "starred",
                "teamDriveId",
                "thumbnailLink",
                "thumbnailVersion",
                "trashed",
                "trashedTime",
                "version",
                "videoMediaMetadata",
                "viewedByMe",
                "viewedByMeTime",
                "viewersCanCopyContent",
                "webContentLink",
                "webViewLink",
                "writersCanShare",
                "clientEncryptionDetails",
                "downloadRestrictions",
            ]
        ),
        "capabilities": ANY,
        "imageMediaMetadata": ANY,
        "owners": "User",
        "lastModifyingUser": "User",
        "sharingUser": "User",
        "trashingUser": "User",
    },
    "FileList": {"kind": None, "nextPageToken": None, "incompleteSearch": None, "files": "File"},
    "Drive": {
        **dict.fromkeys(
            [
                "kind",
                "id",
                "name",
                "createdTime",
                "hidden",
                "colorRgb",
                "themeId",
                "backgroundImageLink",
                "orgUnitId",
            ]
        ),
        "capabilities": ANY,
        "restrictions": ANY,
        "backgroundImageFile": ANY,
    },
    "DriveList": {"kind": None, "nextPageToken": None, "drives": "Drive"},
    "About": {
        **dict.fromkeys(
            [
                "kind",
                "appInstalled",
                "canCreateDrives",
                "canCreateTeamDrives",
                "folderColorPalette",
                "maxUploadSize",
            ]
        ),
        "user": "User",
        "storageQuota": ANY,
        "exportFormats": ANY,
        "importFormats": ANY,
        "maxImportSizes": ANY,
        "driveThemes": ANY,
        "teamDriveThemes": ANY,
    },
    "Change": {
        **dict.fromkeys(
            [
                "kind",
                "changeType",
                "time",
                "removed",
                "fileId",
                "driveId",
                "teamDriveId",
                "type",
            ]
        ),
        "file": "File",
        "drive": "Drive",
        "teamDrive": ANY,
    },
    "ChangeList": {
        "kind": None,
        "nextPageToken": None,
        "newStartPageToken": None,
        "changes": "Change",
    },
    "StartPageToken": {"kind": None, "startPageToken": None},
}

_TOKEN = re.compile(r"\s*([A-Za-z0-9_*$.@-]+|[(),/])")


def parse(text: str) -> Selection:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FieldsError(text[pos:].strip())
        tokens.append(match.group(1))
        pos = match.end()
    selection, rest = _parse_list(tokens)
    if rest:
        raise FieldsError("".join(rest))
    return selection


def _parse_list(tokens: list[str]) -> tuple[Selection, list[str]]:
    selection: Selection = {}
    while True:
        path, tokens = _parse_path(tokens)
        sub: Selection | None = None
        if tokens and tokens[0] == "(":
            sub, tokens = _parse_list(tokens[1:])
            if not tokens or tokens[0] != ")":
                raise FieldsError("(")
            tokens = tokens[1:]
        for name in reversed(path[1:]):
            sub = {name: sub}
        _merge(selection, path[0], sub)
        if tokens and tokens[0] == ",":
            tokens = tokens[1:]
            continue
        return selection, tokens


def _parse_path(tokens: list[str]) -> tuple[list[str], list[str]]:
    if not tokens or tokens[0] in "(),/":
        raise FieldsError("".join(tokens[:1]) or "(empty)")
    path = [tokens[0]]
    tokens = tokens[1:]
    while tokens and tokens[0] == "/":
        if len(tokens) < 2 or tokens[1] in "(),/":
            raise FieldsError("/".join(path) + "/")
        path.append(tokens[1])
        tokens = tokens[2:]
    return path, tokens


def _merge(selection: Selection, name: str, sub: Selection | None) -> None:
    if name not in selection:
        selection[name] = sub
    elif selection[name] is not None:
        if sub is None:
            selection[name] = None  # the whole value wins over a partial one
        else:
            for key, value in sub.items():
                _merge(selection[name], key, value)  # type: ignore[arg-type]


def validate(selection: Selection, schema: str) -> None:
    props = SCHEMAS[schema]
    for name, sub in selection.items():
        if name == "*":
            continue
        if name not in props:
            raise FieldsError(name)
        nested = props[name]
        if sub is not None and nested is not None and nested != ANY:
            validate(sub, nested)


def wants(selection: Selection | None, name: str) -> bool:
    """Does the selection (None: everything) include top-level field `name`?"""
    return selection is None or "*" in selection or name in selection


def apply(value, selection: Selection | None):
    if selection is None:
        return value
    if isinstance(value, list):
        return [apply(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in selection:
        result = dict(value)
        for name, sub in selection.items():
            if name != "*" and name in value and sub is not None:
                result[name] = apply(value[name], sub)
        return result
    return {name: apply(value[name], sub) for name, sub in selection.items() if name in value}
