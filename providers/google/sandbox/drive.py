"""Drive v3 under /google/drive/v3: files.list|get|export, about, changes, drives (README §2).

Each endpoint counts itself (`google.<endpoint>`), authenticates the Bearer token, checks that
its scopes cover the method (the discovery document's lists), and answers errors in Drive's
envelope. Reads happen under the state lock; downloads stream outside it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import fields, query, scopes
from .auth_store import AccessToken
from .content import Blob, export_blob, render
from .errors import (
    DriveError,
    file_not_found,
    insufficient_scopes,
    invalid_credentials,
    invalid_parameter,
    required_parameter,
)
from .model import Account, Node
from .resources import (
    DEFAULT_FILE_FIELDS,
    EXPORT_FORMATS,
    about_resource,
    drive_resource,
    file_resource,
    file_size,
    rfc3339,
)
from .state import GoogleState

DEFAULT_FILE_SELECTION: fields.Selection = dict.fromkeys(DEFAULT_FILE_FIELDS)
# Without `fields`, files.list returns only kind,id,name,mimeType,resourceKey per file (§2.1).
DEFAULT_FILE_LIST: fields.Selection = {
    "kind": None,
    "nextPageToken": None,
    "incompleteSearch": None,
    "files": DEFAULT_FILE_SELECTION,
}
DEFAULT_CHANGE_LIST: fields.Selection = {
    "kind": None,
    "nextPageToken": None,
    "newStartPageToken": None,
    "changes": {
        **dict.fromkeys(("kind", "changeType", "time", "removed", "fileId", "driveId")),
        "file": DEFAULT_FILE_SELECTION,
    },
}
CORPORA = {"user", "domain", "drive", "allDrives"}
DRIVES_SCOPES = frozenset({scopes.AUTH + "drive", scopes.AUTH + "drive.readonly"})
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass
class Principal:
    """Who is calling, and what their token lets them reach."""

    account: Account
    token: AccessToken
    whole_drive: bool  # drive.file-style scopes reach none of the seeded files
    can_read_content: bool


Handler = Callable[[Request, Principal], Awaitable[Response]]


def _bool(request: Request, *names: str, default: bool = False) -> bool:
    """A boolean parameter; later names are deprecated aliases (supportsTeamDrives...)."""
    given = [request.query_params.get(name) for name in names]
    for name, raw in zip(names, given, strict=True):
        if raw is not None and raw.lower() not in ("true", "false"):
            raise invalid_parameter(name, detail=f"{name} must be true or false")
    present = [raw.lower() == "true" for raw in given if raw is not None]
    return any(present) if present else default


def _page_size(request: Request, default: int, maximum: int) -> int:
    raw = request.query_params.get("pageSize")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        size = -1
    if not 1 <= size <= maximum:
        # Google's wording for an out-of-range pageSize (e.g. 1001 on files.list).
        raise invalid_parameter(
            "pageSize", f"Invalid value '{raw}'. Values must be within the range: [1, {maximum}]"
        )
    return size


def _selection(
    request: Request, schema: str, default: fields.Selection | None
) -> fields.Selection | None:
    raw = request.query_params.get("fields")
    if raw is None or not raw.strip():
        return default
    try:
        selection = fields.parse(raw)
        fields.validate(selection, schema)
    except fields.FieldsError as exc:
        raise DriveError(400, "invalidParameter", str(exc), location="fields") from exc
    return selection


def _sub(selection: fields.Selection | None, key: str) -> fields.Selection | None:
    """The selection inside `key`: None for all of it, {} when `key` was not asked for."""
    if selection is None:
        return None
    if key in selection:
        return selection[key]
    return None if "*" in selection else {}


def _page_token(fingerprint: str, state: dict) -> str:
    payload = json.dumps({**state, "f": fingerprint}, separators=(",", ":")).encode()
    # Shaped like Drive's files.list tokens ("~!!~..."); clients must treat them as opaque.
    return "~!!~" + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _read_page_token(token: str | None, fingerprint: str) -> dict:
    if not token:
        return {"o": 0}
    try:
        body = token.removeprefix("~!!~")
        state = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if state.get("f") != fingerprint or not isinstance(state.get("o"), int) or state["o"] < 0:
            raise ValueError("a token from another query")
    except (ValueError, TypeError, AttributeError) as exc:
        # A token only continues the query that produced it (README §2.1).
        raise invalid_parameter("pageToken", detail=str(exc)) from exc
    return state


def _natural(name: str) -> list:
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", name.casefold())
    ]


SORT_KEYS: dict[str, Callable[[Node], object]] = {
    "name": lambda n: (n.name.casefold(), n.name),
    "name_natural": lambda n: _natural(n.name),
    "folder": lambda n: not n.is_folder,  # folders first
    "modifiedTime": lambda n: n.modified,
    "modifiedByMeTime": lambda n: n.modified,
    "viewedByMeTime": lambda n: n.modified,
    "recency": lambda n: n.modified,
    "createdTime": lambda n: n.created,
    "sharedWithMeTime": lambda n: n.created,
    "starred": lambda n: not n.starred,  # starred first
    "quotaBytesUsed": lambda n: (file_size(n) or 0) if n.is_blob else 0,
}


def _order(raw: str | None) -> list[tuple[Callable[[Node], object], bool]]:
    order = []
    for item in (raw or "").split(","):
        words = item.split()
        if not words:
            continue
        if words[0] not in SORT_KEYS or len(words) > 2 or words[1:] not in ([], ["desc"], ["asc"]):
            raise invalid_parameter("orderBy", detail=f"unsupported sort key {item.strip()!r}")
        order.append((SORT_KEYS[words[0]], words[1:] == ["desc"]))
    return order


def _get_counter(request: Request) -> str:
    return "files.download" if request.query_params.get("alt") == "media" else "files.get"


class DriveApi:
    def __init__(self, state: GoogleState, count: Callable[[str], None], base_url: str) -> None:
        self.state = state
        self.count = count
        self.drive_url = f"{base_url}/drive/v3"

    def routes(self) -> list[Route]:
        ep = self._endpoint
        return [
            Route("/drive/v3/about", ep("about", scopes.ABOUT)(self.about)),
            Route("/drive/v3/files", ep("files.list", scopes.METADATA)(self.files_list)),
            Route("/drive/v3/files/{file_id}", ep(_get_counter, scopes.METADATA)(self.files_get)),
            Route(
                "/drive/v3/files/{file_id}/export", ep("files.export", scopes.CONTENT)(self.export)
            ),
            Route(
                "/drive/v3/changes/startPageToken",
                ep("changes.start_page_token", scopes.METADATA)(self.start_page_token),
            ),
            Route("/drive/v3/changes", ep("changes.list", scopes.METADATA)(self.changes_list)),
            Route(
                "/drive/v3/changes/watch",
                ep("changes.watch", scopes.METADATA)(self.changes_watch),
                methods=["POST"],
            ),
            Route(
                "/drive/v3/channels/stop",
                ep("channels.stop", scopes.METADATA)(self.channels_stop),
                methods=["POST"],
            ),
            Route("/drive/v3/drives", ep("drives.list", DRIVES_SCOPES)(self.drives_list)),
            Route("/drive/v3/drives/{drive_id}", ep("drives.get", DRIVES_SCOPES)(self.drives_get)),
        ]

    # --- plumbing --------------------------------------------------------------------------

    def _endpoint(self, counter: str | Callable[[Request], str], allowed: frozenset[str]):
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            @functools.wraps(handler)
            async def endpoint(request: Request) -> Response:
                name = counter if isinstance(counter, str) else counter(request)
                self.count(f"google.{name}")
                try:
                    principal = self._authenticate(request, allowed)
                    return await handler(request, principal)
                except DriveError as error:
                    return error.response()

            return endpoint

        return wrap

    def _authenticate(self, request: Request, allowed: frozenset[str]) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        token = credentials.strip() if scheme.lower() == "bearer" else None
        # The access_token / oauth_token query parameters work too (README §2, §1.1 [OV]).
        token = (
            token
            or request.query_params.get("access_token")
            or request.query_params.get("oauth_token")
        )
        with self.state.lock:
            record = self.state.auth.validate(token)
            if record is None:
                raise invalid_credentials()
            granted = set(record.scopes)
            if not granted & allowed:
                raise insufficient_scopes()
            return Principal(
                account=self.state.drive.accounts[record.sub],
                token=record,
                whole_drive=bool(granted & scopes.WHOLE_DRIVE),
                can_read_content=bool(granted & scopes.CONTENT),
            )

    def _visible(self, principal: Principal, node: Node) -> bool:
        return principal.whole_drive and self.state.drive.can_see(principal.account.sub, node)

    def _lookup(self, principal: Principal, file_id: str, supports_all_drives: bool) -> Node:
        store = self.state.drive
        node_id = principal.account.root_id if file_id == "root" else file_id
        node = store.nodes.get(node_id)
        if node is None or not self._visible(principal, node):
            raise file_not_found(file_id)
        if node.drive_id is not None and not supports_all_drives:
            raise file_not_found(file_id)
        return node

    def _shared_drive(self, principal: Principal, drive_id: str):
        drive = self.state.drive.drives.get(drive_id)
        if drive is None or principal.account.sub not in drive.members:
            raise DriveError(
                404, "notFound", f"Shared drive not found: {drive_id}", location="driveId"
            )
        return drive

    # --- about -----------------------------------------------------------------------------

    async def about(self, request: Request, principal: Principal) -> Response:
        if not request.query_params.get("fields"):
            # about.get requires `fields` (README §1.5, discovery description).
            raise required_parameter(
                "fields", "The 'fields' parameter is required for this method."
            )
        selection = _selection(request, "About", None)
        with self.state.lock:
            body = about_resource(self.state.drive, principal.account)
        return JSONResponse(fields.apply(body, selection))

    # --- files.list ------------------------------------------------------------------------

    async def files_list(self, request: Request, principal: Principal) -> Response:
        params = request.query_params
        page_size = _page_size(request, 100, 1000)
        supports = _bool(request, "supportsAllDrives", "supportsTeamDrives")
        include_all = _bool(request, "includeItemsFromAllDrives", "includeTeamDriveItems")
        corpora = params.get("corpora") or params.get("corpus") or "user"
        drive_id = params.get("driveId") or params.get("teamDriveId")
        spaces = {s.strip() for s in params.get("spaces", "drive").split(",")}
        if corpora not in CORPORA:
            raise invalid_parameter("corpora")
        if (corpora == "drive") != bool(drive_id):
            raise DriveError(
                400,
                "badRequest",
                "The driveId parameter must be specified if and only if corpora is set to drive.",
                location="driveId",
            )
        if corpora in ("drive", "allDrives") and not (include_all and supports):
            raise DriveError(
                400,
                "badRequest",
                "The includeItemsFromAllDrives and supportsAllDrives parameters must be set to "
                "true when corpora is set to drive or allDrives.",
                location="includeItemsFromAllDrives",
            )
        if not spaces <= {"drive", "appDataFolder", "photos"}:
            raise invalid_parameter("spaces")
        try:
            expr = query.parse(params.get("q", ""))
        except query.QueryError as exc:
            # Drive answers any query it cannot run with 400 "Invalid Value" on `q`.
            raise invalid_parameter("q", detail=str(exc)) from exc
        order = _order(params.get("orderBy"))
        selection = _selection(request, "FileList", DEFAULT_FILE_LIST)
        fingerprint = hashlib.sha256(
            json.dumps(
                [
                    principal.account.sub,
                    params.get("q", ""),
                    params.get("orderBy", ""),
                    corpora,
                    drive_id,
                    include_all,
                    supports,
                    sorted(spaces),
                ]
            ).encode()
        ).hexdigest()[:16]
        token = _read_page_token(params.get("pageToken"), fingerprint)

        account = principal.account
        aliases = query.Aliases(root_id=account.root_id, email=account.email)
        with self.state.lock:
            store = self.state.drive
            if drive_id:
                self._shared_drive(principal, drive_id)

            def in_corpus(node: Node) -> bool:
                if node.drive_id is None:
                    return corpora != "drive"
                if corpora == "drive":
                    return node.drive_id == drive_id
                # Shared-drive items only with both flags (README §2.1).
                return include_all and supports

            key = (fingerprint, principal.whole_drive)
            ids = store.listings.get(key)
            if ids is None:
                parent = query.parent_constraint(expr)
                if parent == "root":
                    parent = account.root_id
                candidates: Iterable[Node] = (
                    store.children_of(parent) if parent else store.listable()
                )
                if "drive" not in spaces:
                    candidates = ()  # nothing lives in appDataFolder or photos here
                matches = [
                    node
                    for node in candidates
                    if in_corpus(node)
                    and self._visible(principal, node)
                    and query.evaluate(expr, self._facts(node), aliases)
                ]
                matches.sort(key=lambda n: n.seq)
                for sort_key, descending in reversed(order):
                    matches.sort(key=sort_key, reverse=descending)
                ids = [n.id for n in matches]
                if len(store.listings) > 64:
                    store.listings.clear()
                store.listings[key] = ids

            offset = token["o"]
            take = page_size
            if self.state.knobs.partial_pages and token.get("short"):
                take = page_size // 2  # a short (maybe empty) page before the end
            page = [store.nodes[i] for i in ids[offset : offset + take]]
            file_selection = _sub(selection, "files")
            files = [file_resource(store, n, account, file_selection) for n in page]

        body: dict = {"kind": "drive#fileList", "incompleteSearch": False, "files": files}
        if offset + take < len(ids):
            short_next = self.state.knobs.partial_pages and not token.get("short")
            body["nextPageToken"] = _page_token(
                fingerprint, {"o": offset + take, "short": short_next}
            )
        return JSONResponse(fields.apply(body, selection))

    def _facts(self, node: Node) -> query.Facts:
        store = self.state.drive
        owner = store.accounts.get(node.owner or "")
        return query.Facts(
            name=node.name,
            mime_type=node.mime_type,
            trashed=store.is_trashed(node),
            starred=node.starred,
            modified=node.modified,
            created=node.created,
            parents=(node.parent,) if node.parent else (),
            owners=(owner.email,) if owner else (),
            text=lambda: node.content.text if node.content else node.name,
        )

    # --- files.get (metadata or alt=media) -------------------------------------------------

    async def files_get(self, request: Request, principal: Principal) -> Response:
        alt = request.query_params.get("alt", "json")
        file_id = request.path_params["file_id"]
        if alt == "media":
            return self._download(request, principal, file_id)
        if alt != "json":
            raise invalid_parameter("alt")
        supports = _bool(request, "supportsAllDrives", "supportsTeamDrives")
        selection = _selection(request, "File", DEFAULT_FILE_SELECTION)
        with self.state.lock:
            node = self._lookup(principal, file_id, supports)
            body = file_resource(self.state.drive, node, principal.account, selection)
        return JSONResponse(fields.apply(body, selection))

    def _download(self, request: Request, principal: Principal, file_id: str) -> Response:
        if not principal.can_read_content:
            raise insufficient_scopes()
        supports = _bool(request, "supportsAllDrives", "supportsTeamDrives")
        with self.state.lock:
            node = self._lookup(principal, file_id, supports)
            if not node.is_blob or node.content is None:
                # Google Docs and folders have no bytes: export them (README §2.2).
                raise DriveError(
                    403,
                    "fileNotDownloadable",
                    "Only files with binary content can be downloaded. "
                    "Use Export with Docs Editors files.",
                    location="alt",
                )
            blob, mime_type = render(node.content), node.mime_type
        return _stream(request, blob, mime_type)

    # --- files.export ----------------------------------------------------------------------

    async def export(self, request: Request, principal: Principal) -> Response:
        target = request.query_params.get("mimeType")
        if not target:
            raise required_parameter("mimeType")
        with self.state.lock:
            node = self._lookup(principal, request.path_params["file_id"], True)
            if not node.is_editor_file or node.content is None:
                raise DriveError(
                    403, "fileNotExportable", "Export only supports Docs Editors files."
                )
            if target not in EXPORT_FORMATS[node.mime_type]:
                raise DriveError(
                    400,
                    "badRequest",
                    "The requested conversion is not supported.",
                    location="convertTo",
                )
            blob = export_blob(node.content, target)
            if blob.size > self.state.knobs.export_limit_bytes:
                # "Exported content is limited to 10 MB" (README §2.2).
                raise DriveError(
                    403, "exportSizeLimitExceeded", "This file is too large to be exported."
                )
        return _stream(request, blob, target, ranges=False)

    # --- changes ---------------------------------------------------------------------------

    async def start_page_token(self, request: Request, principal: Principal) -> Response:
        selection = _selection(request, "StartPageToken", None)
        drive_id = request.query_params.get("driveId") or request.query_params.get("teamDriveId")
        with self.state.lock:
            if drive_id:
                self._shared_drive(principal, drive_id)
            token = self.state.drive.changes.start_token()
        body = {"kind": "drive#startPageToken", "startPageToken": str(token)}
        return JSONResponse(fields.apply(body, selection))

    async def changes_list(self, request: Request, principal: Principal) -> Response:
        params = request.query_params
        raw_token = params.get("pageToken")
        if not raw_token:
            raise required_parameter("pageToken")
        if not raw_token.isdigit():
            raise invalid_parameter("pageToken", detail="change page tokens are numbers")
        page_size = _page_size(request, 100, 1000)
        include_removed = _bool(request, "includeRemoved", default=True)
        supports = _bool(request, "supportsAllDrives", "supportsTeamDrives")
        include_all = _bool(request, "includeItemsFromAllDrives", "includeTeamDriveItems")
        my_drive_only = _bool(request, "restrictToMyDrive")
        drive_id = params.get("driveId") or params.get("teamDriveId")
        selection = _selection(request, "ChangeList", DEFAULT_CHANGE_LIST)
        account = principal.account
        with self.state.lock:
            store = self.state.drive
            if drive_id:
                self._shared_drive(principal, drive_id)
            entries = [
                e
                for e in store.changes.since(account.sub, int(raw_token))
                if principal.whole_drive
                and (include_removed or not e.removed)
                and (drive_id is None or e.drive_id == drive_id)
                and (
                    e.drive_id is None
                    or (not my_drive_only and (drive_id or (include_all and supports)))
                )
            ]
            page = entries[:page_size]
            file_selection = _sub(_sub(selection, "changes"), "file")
            changes = []
            for entry in page:
                change = {
                    "kind": "drive#change",
                    "changeType": "file",
                    "time": rfc3339(entry.time),
                    "removed": entry.removed,
                    "fileId": entry.file_id,
                }
                if entry.drive_id:
                    change["driveId"] = entry.drive_id
                node = store.nodes.get(entry.file_id)
                if not entry.removed and node is not None and self._visible(principal, node):
                    change["file"] = file_resource(store, node, account, file_selection)
                elif not entry.removed:
                    change["removed"] = True
                changes.append(change)
            body: dict = {"kind": "drive#changeList", "changes": changes}
            if len(entries) > page_size:
                body["nextPageToken"] = str(entries[page_size].seq)
            else:
                # Only the last page carries newStartPageToken (README §2.3).
                body["newStartPageToken"] = str(store.changes.start_token())
        return JSONResponse(fields.apply(body, selection))

    async def changes_watch(self, request: Request, principal: Principal) -> Response:
        raw_token = request.query_params.get("pageToken")
        if not raw_token:
            raise required_parameter("pageToken")
        if not raw_token.isdigit():
            raise invalid_parameter("pageToken", detail="change page tokens are numbers")
        body = await _json_body(request)
        with self.state.lock:
            channel = self.state.channels.watch(
                body,
                sub=principal.account.sub,
                client_id=principal.token.client_id,
                page_token=raw_token,
                drive_url=self.drive_url,
                now_ms=self.state.clock.ms(),
            )
            # The `sync` message may reach the receiver before this answer does (README §2.4).
            self.state.send(self.state.channels.next_notice(channel, "sync"))
            answer = channel.body()
        return JSONResponse(answer)

    async def channels_stop(self, request: Request, principal: Principal) -> Response:
        body = await _json_body(request)
        with self.state.lock:
            self.state.channels.stop(
                body, sub=principal.account.sub, client_id=principal.token.client_id
            )
        return Response(status_code=204)

    # --- shared drives ---------------------------------------------------------------------

    async def drives_list(self, request: Request, principal: Principal) -> Response:
        page_size = _page_size(request, 10, 100)
        selection = _selection(request, "DriveList", None)
        token = _read_page_token(request.query_params.get("pageToken"), "drives")
        with self.state.lock:
            drives = [
                drive_resource(d)
                for d in self.state.drive.drives.values()
                if principal.account.sub in d.members
            ]
        offset = token["o"]
        body: dict = {"kind": "drive#driveList", "drives": drives[offset : offset + page_size]}
        if offset + page_size < len(drives):
            body["nextPageToken"] = _page_token("drives", {"o": offset + page_size})
        return JSONResponse(fields.apply(body, selection))

    async def drives_get(self, request: Request, principal: Principal) -> Response:
        selection = _selection(request, "Drive", None)
        with self.state.lock:
            drive = self._shared_drive(principal, request.path_params["drive_id"])
            body = drive_resource(drive)
        return JSONResponse(fields.apply(body, selection))


async def _json_body(request: Request) -> dict:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise DriveError(400, "parseError", "Parse Error") from None
    if not isinstance(body, dict):
        raise DriveError(400, "parseError", "Parse Error")
    return body


def _stream(request: Request, blob: Blob, mime_type: str, *, ranges: bool = True) -> Response:
    """Stream `blob`, honouring a single `Range: bytes=a-b` for resumable downloads."""
    size = blob.size
    start, end, status = 0, size, 200
    headers = {"Content-Length": str(size)}
    match = _RANGE.match(request.headers.get("range", "").strip()) if ranges else None
    if match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) + 1, size) if last else size
        else:
            start, end = max(size - int(last), 0), size
        if start >= size or start >= end:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        status = 206
        headers = {
            "Content-Length": str(end - start),
            "Content-Range": f"bytes {start}-{end - 1}/{size}",
        }
    return StreamingResponse(
        blob.chunks(start, end), status_code=status, headers=headers, media_type=mime_type
    )
