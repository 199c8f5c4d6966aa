"""Test hooks under /_sandbox/google: inspect the tree, change Drive, manage OAuth state.

Every Drive mutation lands in the changes feed, exactly as if a person had made it in Drive.
Bodies are JSON; `account` is an email or sub (default: the first account); `parent` is a
folder id, "root", or a path as `GET tree` spells it ("Kitchen/Recipes").

    GET    accounts                       the accounts that can sign in
    GET    drives                         shared drives and their members
    GET    tree?account=                  every item the account sees: id, name, path, ...
    GET    lookup?path=&account=          one item by path
    POST   files                          {name, parent?, mimeType?, content?, content_base64?,
                                           size?, starred?, account?} -> the new item
    GET    files/{id}                     one item, with md5Checksum for blobs
    POST   files/{id}/modify              {name?, content?, content_base64?, size?}: new bytes,
                                           new md5, modifiedTime and version
    POST   files/{id}/trash | untrash
    POST   files/{id}/move                {parent}
    POST   files/{id}/delete              (or DELETE files/{id}) permanent, with its subtree
    POST   files/{id}/unshare             {account?}: gone for that account only
    GET    redirect-uris                  the default client's registered redirect URIs
    POST   redirect-uris                  {uri, client_id?}; DELETE with {uri} unregisters
    GET    grants                         consents given (no token values)
    POST   grants/revoke                  {account?, client_id?} or {token}
    POST   tokens/expire                  expire every access token (refresh still works)
    GET    clock / POST clock             {advance: seconds}: move time on (code/token expiry)
    GET    knobs / POST knobs             {partial_pages, export_limit_bytes}
    GET    channels                       push channels (changes.watch): address, expiration,
                                           stopped, expired, messages sent
    GET    notifications?channel_id=      push deliveries and their attempts, oldest first
    POST   notifications/flush            {timeout?}: wait until every due push is sent
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Callable
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .auth_store import OAuthError
from .content import ContentSpec, digests
from .drive_store import StoreError
from .model import EDITOR_TYPES, FOLDER, Node
from .resources import file_size, rfc3339
from .state import GoogleState

KIND_BY_MIME = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "text/plain": "text",
    "text/csv": "text",
}


def _spec(mime_type: str, name: str, body: dict, seed: int, base: ContentSpec | None = None):
    """The ContentSpec a control request describes, or None for folders."""
    if mime_type == FOLDER:
        return None
    size = body.get("size")
    size = int(size) if size is not None else None
    if body.get("content_base64") is not None:
        try:
            raw = base64.b64decode(body["content_base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise StoreError(f"content_base64 is not base64: {exc}") from exc
        return ContentSpec("raw", name, (), seed, size, raw)
    kind = "pdf" if mime_type in EDITOR_TYPES else KIND_BY_MIME.get(mime_type, "raw")
    if body.get("content") is not None:
        text = str(body["content"])
        if kind == "raw":
            return ContentSpec("raw", name, (), seed, size, text.encode("utf-8"))
        lines = tuple(text.splitlines())
        title = base.title if base else name.rsplit(".", 1)[0]
        return ContentSpec(kind, title, lines, seed, size)
    if base is not None:
        return ContentSpec(base.kind, base.title, base.lines, seed, size or base.size, base.raw)
    title = name.rsplit(".", 1)[0] if kind != "raw" else name
    raw = None if kind != "raw" else f"{name}\n".encode()
    return ContentSpec(kind, title, (title,), seed, size, raw)


def _revised(spec: ContentSpec, version: int) -> ContentSpec:
    """A bare "modify": the same file edited. Images and PDFs change with the new seed the
    store gives them; text gets a revision line so its bytes change too."""
    if spec.kind == "text":
        lines = tuple(line for line in spec.lines if not line.startswith("Revision "))
        return replace(spec, lines=(*lines, f"Revision {version}"))
    if spec.kind == "raw":
        return replace(spec, raw=(spec.raw or b"") + f"\nRevision {version}\n".encode())
    return spec


class ControlApi:
    def __init__(self, state: GoogleState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        r = self._route
        return [
            r("/accounts", self.accounts),
            r("/drives", self.drives),
            r("/tree", self.tree),
            r("/lookup", self.lookup),
            r("/files", self.create, ["POST"]),
            r("/files/{file_id}", self.file, ["GET", "DELETE"]),
            r("/files/{file_id}/modify", self.modify, ["POST"]),
            r("/files/{file_id}/trash", self.trash, ["POST"]),
            r("/files/{file_id}/untrash", self.untrash, ["POST"]),
            r("/files/{file_id}/move", self.move, ["POST"]),
            r("/files/{file_id}/delete", self.delete, ["POST"]),
            r("/files/{file_id}/unshare", self.unshare, ["POST"]),
            r("/redirect-uris", self.redirect_uris, ["GET", "POST", "DELETE"]),
            r("/grants", self.grants),
            r("/grants/revoke", self.revoke, ["POST"]),
            r("/tokens/expire", self.expire_tokens, ["POST"]),
            r("/clock", self.clock, ["GET", "POST"]),
            r("/knobs", self.knobs, ["GET", "POST"]),
            r("/channels", self.channels),
            r("/notifications", self.notifications),
            # Not under the state lock: sending a notification takes it.
            Route("/notifications/flush", self.flush, methods=["POST"]),
        ]

    def _route(self, path: str, handler, methods: list[str] | None = None) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                body = await _json(request)
                with self.state.lock:
                    result = handler(request, body)
                return JSONResponse(result)
            except StoreError as exc:
                return JSONResponse({"error": str(exc)}, status_code=exc.status)
            except (ValueError, TypeError, KeyError) as exc:
                return JSONResponse({"error": f"bad request: {exc}"}, status_code=400)

        return Route(path, endpoint, methods=methods or ["GET"])

    # --- reading ---------------------------------------------------------------------------

    def record(self, node: Node, *, checksums: bool = False) -> dict:
        store = self.state.drive
        item = {
            "id": node.id,
            "name": node.name,
            "path": store.path(node),
            "mimeType": node.mime_type,
            "parents": [node.parent] if node.parent else [],
            "driveId": node.drive_id,
            "trashed": store.is_trashed(node),
            "explicitlyTrashed": node.explicitly_trashed,
            "size": file_size(node),
            "version": node.version,
            "modifiedTime": rfc3339(node.modified),
        }
        if checksums and node.is_blob and node.content is not None:
            item["md5Checksum"] = digests(node.content).md5
        return item

    def accounts(self, request: Request, body: dict) -> dict:
        return {"accounts": [a.public() for a in self.state.drive.accounts.values()]}

    def drives(self, request: Request, body: dict) -> dict:
        store = self.state.drive
        return {
            "drives": [
                {
                    "id": d.id,
                    "name": d.name,
                    "members": [store.accounts[s].email for s in sorted(d.members)],
                }
                for d in store.drives.values()
            ]
        }

    def tree(self, request: Request, body: dict) -> dict:
        store = self.state.drive
        account = store.account(request.query_params.get("account"))
        items = [
            self.record(n)
            for n in sorted(store.listable(), key=lambda n: n.seq)
            if store.can_see(account.sub, n)
        ]
        return {"account": account.email, "files": items}

    def lookup(self, request: Request, body: dict) -> dict:
        store = self.state.drive
        account = store.account(request.query_params.get("account"))
        return self.record(store.find(account.sub, request.query_params.get("path", "")))

    def file(self, request: Request, body: dict) -> dict:
        node = self.state.drive.node(request.path_params["file_id"])
        if request.method == "DELETE":
            return self.delete(request, body)
        return self.record(node, checksums=True)

    # --- Drive mutations -------------------------------------------------------------------

    def create(self, request: Request, body: dict) -> dict:
        store = self.state.drive
        account = store.account(body.get("account"))
        name = str(body["name"])
        parent = store.find(account.sub, str(body.get("parent") or "root"))
        mime_type = (
            body.get("mimeType") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        content = _spec(mime_type, name, body, store.new_seed())
        node = store.create(
            account=account,
            name=name,
            parent=parent,
            mime_type=mime_type,
            content=content,
            starred=bool(body.get("starred", False)),
        )
        return self.record(node, checksums=True)

    def modify(self, request: Request, body: dict) -> dict:
        store = self.state.drive
        node = store.node(request.path_params["file_id"])
        size = int(body["size"]) if body.get("size") is not None else None
        content = None
        if node.content is not None:
            if body.get("content") is not None or body.get("content_base64") is not None:
                content = _spec(node.mime_type, node.name, body, 0, node.content)
            elif size is None and body.get("name") is None:
                content = _revised(node.content, node.version + 1)
        store.modify(node, name=body.get("name"), content=content, size=size)
        return self.record(node, checksums=True)

    def trash(self, request: Request, body: dict) -> dict:
        node = self.state.drive.node(request.path_params["file_id"])
        return self.record(self.state.drive.set_trashed(node, True))

    def untrash(self, request: Request, body: dict) -> dict:
        node = self.state.drive.node(request.path_params["file_id"])
        return self.record(self.state.drive.set_trashed(node, False))

    def move(self, request: Request, body: dict) -> dict:
        store = self.state.drive
        node = store.node(request.path_params["file_id"])
        owner = node.owner or next(iter(store.accounts))
        parent = store.find(owner, str(body["parent"]))
        return self.record(store.move(node, parent))

    def delete(self, request: Request, body: dict) -> dict:
        store = self.state.drive
        node = store.node(request.path_params["file_id"])
        if node.parent is None:
            raise StoreError("roots cannot be deleted")
        store.delete(node)
        return {"deleted": node.id}

    def unshare(self, request: Request, body: dict) -> dict:
        store = self.state.drive
        node = store.node(request.path_params["file_id"])
        account = store.account(body.get("account"))
        store.unshare(node, account)
        return {"unshared": node.id, "account": account.email}

    # --- OAuth -----------------------------------------------------------------------------

    def redirect_uris(self, request: Request, body: dict) -> dict:
        if request.method == "POST":
            uris = self.state.register_redirect_uri(str(body["uri"]), body.get("client_id"))
        elif request.method == "DELETE":
            uris = self.state.unregister_redirect_uri(str(body["uri"]))
        else:
            uris = list(self.state.auth.clients[self.state.config.client_id].redirect_uris)
        return {
            "client_id": body.get("client_id") or self.state.config.client_id,
            "redirect_uris": uris,
        }

    def grants(self, request: Request, body: dict) -> dict:
        store = self.state.drive
        return {
            "grants": [
                {
                    "client_id": g.client_id,
                    "account": store.accounts[g.sub].email,
                    "scopes": list(g.scopes),
                    "offline": g.refresh_token is not None,
                    "revoked": g.revoked,
                }
                for g in self.state.auth.grants.values()
            ]
        }

    def revoke(self, request: Request, body: dict) -> dict:
        auth = self.state.auth
        if body.get("token"):
            try:
                auth.revoke(str(body["token"]))
            except OAuthError as exc:
                raise StoreError(exc.description, 404) from exc
            return {"revoked": 1}
        account = self.state.drive.account(body.get("account"))
        return {"revoked": auth.revoke_account(body.get("client_id"), account.sub)}

    def expire_tokens(self, request: Request, body: dict) -> dict:
        self.state.auth.expire_all()
        return {"expired": True}

    def clock(self, request: Request, body: dict) -> dict:
        if request.method == "POST":
            self.state.clock.offset += float(body.get("advance", 0))
        return {"now": rfc3339(self.state.clock.now()), "offset": self.state.clock.offset}

    def knobs(self, request: Request, body: dict) -> dict:
        if request.method == "POST":
            self.state.knobs.update(body)
        return self.state.knobs.as_dict()

    def channels(self, request: Request, body: dict) -> dict:
        now = self.state.clock.ms()
        return {"channels": [c.as_dict(now) for c in self.state.channels.by_id.values()]}

    def notifications(self, request: Request, body: dict) -> dict:
        where = {k: v for k, v in request.query_params.items() if k == "channel_id"}
        return {"notifications": self.state.push.deliveries(**where)}

    async def flush(self, request: Request) -> Response:
        timeout = float((await _json(request)).get("timeout", 10))
        return JSONResponse(await run_in_threadpool(self.state.push.flush, timeout))


async def _json(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


Handler = Callable[[Request, dict], dict]
