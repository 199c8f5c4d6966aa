"""Test hooks for the Square half, mounted at `/_sandbox/square` (never emulated API).

Everything written here is an overlay on the seeded data and disappears on reset.

    GET    /client                          the registered app: id, secret, redirect URIs, URLs
    GET    /redirect-uris                   registered redirect URIs
    POST   /redirect-uris {"uri"}           register one more (tests run the product on any port)
    GET    /merchants                       merchants with their locations
    POST   /merchants/{id}/revoke           the merchant revokes the app (refresh then fails;
                                            oauth.authorization.revoked, revoker MERCHANT)
    PATCH  /locations/{id} {"name"?, "status"?, "timezone"?, ...}   location.updated
    POST   /tokens {"merchant_id"?, "scopes"?, "pkce"?}   tokens without the browser dance
    GET    /config                          current data sizes
    POST   /config {"orders_per_day": 20, ...}             change sizes until reset (more
                                            locations: location.created for each new one)
    GET    /oauth/clock                     the OAuth clock's offset
    POST   /oauth/clock {"advance_seconds"} move the OAuth clock (code/token expiry)
    POST   /catalog/objects {"merchant_id"?, "object": {...}}   add a catalog object
    GET    /catalog/objects/{id}            one catalog object as it is now
    PATCH  /catalog/objects/{id} {...}      deep-merge a change; bumps version and updated_at
    DELETE /catalog/objects/{id}            delete (is_deleted, visible to include_deleted_objects)
    POST   /orders {"location_id", "created_at" | "local_time", "state"?, "closed_at"?}
    GET    /orders/{id}                     one order as SearchOrders would return it now
    PATCH  /orders/{id} {"state"?, "ticket_name"?, "metadata"?, "redraw_line_items"?}
                                            a new version, updated now (other line items and
                                            total with redraw_line_items: true)
    GET    /ground-truth?location_id=&start=&end=&field=&states=&ids=1&at=
    POST   /webhooks {"notification_url", "event_types"?, "signature_key"?, "name"?,
                      "enabled"?, "api_version"?}   subscribe the app (default: every type),
                                            replacing its subscription to the same URL (so
                                            `make run`, subscribing with a new key each run,
                                            leaves one with a kept state)
    GET    /webhooks                        the app's subscriptions, disabled ones too
    GET    /webhooks/deliveries?event_id=&event_type=&subscription_id=   attempts, oldest first
    POST   /webhooks/flush {"timeout"?: 10} send held deliveries now; wait until none is queued

Catalog, order, location and revocation changes made here publish Square's events (README §10)
to the apps with a grant on the merchant: searchable with SearchEvents and delivered to their
webhook subscriptions. Generated orders publish their payments as they complete (live.py).
How deliveries misbehave is set with the `webhook_*` knobs of `POST /_sandbox/knobs`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import SquareError
from .events import EVENT_TYPES
from .orders import local_ms
from .routes import PINNED_VERSION
from .state import SquareState
from .timefmt import now_ms, parse_rfc3339_ms

Handler = Callable[[Request], Awaitable[Response]]
# What the product asks for (README §3 table): the default of the `/tokens` shortcut.
SOUS_SCOPES = ("MERCHANT_PROFILE_READ", "ITEMS_READ", "ORDERS_READ", "PAYMENTS_READ")
DEFAULT_FLUSH_TIMEOUT_S = 10.0


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise ControlError(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _time(value: object, name: str) -> int:
    try:
        return parse_rfc3339_ms(str(value))
    except ValueError:
        raise ControlError(400, f"{name} must be an RFC 3339 timestamp with a zone") from None


class SquareControl:
    def __init__(self, state: SquareState, half_url: str) -> None:
        self.state = state
        self.half_url = half_url

    def routes(self) -> list[BaseRoute]:
        def guarded(handler: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                try:
                    return await handler(request)
                except ControlError as error:
                    return JSONResponse({"error": str(error)}, status_code=error.status)
                except KeyError as error:
                    return JSONResponse({"error": f"not found: {error}"}, status_code=404)
                except ValueError as error:
                    return JSONResponse({"error": str(error)}, status_code=400)

            return endpoint

        table: list[tuple[str, Handler, list[str]]] = [
            ("/client", self.client, ["GET"]),
            ("/redirect-uris", self.redirect_uris, ["GET", "POST"]),
            ("/merchants", self.merchants, ["GET"]),
            ("/merchants/{merchant_id}/revoke", self.revoke_merchant, ["POST"]),
            ("/locations/{location_id}", self.location, ["PATCH"]),
            ("/tokens", self.tokens, ["POST"]),
            ("/config", self.config, ["GET", "POST"]),
            ("/oauth/clock", self.clock, ["GET", "POST"]),
            ("/catalog/objects", self.add_catalog_object, ["POST"]),
            ("/catalog/objects/{object_id}", self.catalog_object, ["GET", "PATCH", "DELETE"]),
            ("/orders", self.add_order, ["POST"]),
            ("/orders/{order_id}", self.order, ["GET", "PATCH"]),
            ("/ground-truth", self.ground_truth, ["GET"]),
            ("/webhooks", self.webhooks, ["GET", "POST"]),
            ("/webhooks/deliveries", self.deliveries, ["GET"]),
            ("/webhooks/flush", self.flush, ["POST"]),
        ]
        return [Route(path, guarded(h), methods=methods) for path, h, methods in table]

    # --- the app and its grants -----------------------------------------------------------------

    async def client(self, request: Request) -> Response:
        with self.state.lock:
            client = self.state.oauth.clients[self.state.config.client_id]
            body = {
                "client_id": client.client_id,
                "client_secret": client.secret,
                "redirect_uris": list(client.redirect_uris),
                "base_url": self.half_url,
                "authorize_url": f"{self.half_url}/oauth2/authorize",
                "token_url": f"{self.half_url}/oauth2/token",
            }
        return JSONResponse(body)

    async def redirect_uris(self, request: Request) -> Response:
        with self.state.lock:
            client = self.state.oauth.clients[self.state.config.client_id]
        if request.method == "POST":
            uri = (await _body(request)).get("uri")
            if not isinstance(uri, str) or not uri.startswith(("http://", "https://")):
                raise ControlError(400, "uri must be an http(s) URL")
            with self.state.lock:
                if uri not in client.redirect_uris:
                    client.redirect_uris.append(uri)
        with self.state.lock:
            return JSONResponse({"redirect_uris": list(client.redirect_uris)})

    async def merchants(self, request: Request) -> Response:
        merchants = [
            {
                "id": m.id,
                "business_name": m.business_name,
                "main_location_id": m.main_location.id,
                "locations": [
                    {
                        "id": loc.id,
                        "name": self.state.location_body(loc)["name"],
                        "timezone": self.state.location_body(loc)["timezone"],
                        "opens": f"{loc.open_minute // 60:02d}:{loc.open_minute % 60:02d}",
                        "closes": f"{loc.close_minute // 60 % 24:02d}:{loc.close_minute % 60:02d}",
                        "late_night": loc.late_night,
                    }
                    for loc in m.locations
                ],
            }
            for m in self.state.data.merchants
        ]
        return JSONResponse({"merchants": merchants})

    async def revoke_merchant(self, request: Request) -> Response:
        merchant = self.state.merchant(request.path_params["merchant_id"])
        with self.state.lock:
            ended = self.state.oauth.revoke_merchant(merchant.id)
        return JSONResponse({"merchant_id": merchant.id, "revoked_tokens": ended})

    async def location(self, request: Request) -> Response:
        body = self.state.update_location(request.path_params["location_id"], await _body(request))
        return JSONResponse({"location": body})

    async def tokens(self, request: Request) -> Response:
        body = await _body(request)
        merchant = self.state.merchant(body.get("merchant_id"))
        scopes = body.get("scopes") or SOUS_SCOPES
        with self.state.lock:
            answer = self.state.oauth.issue_direct(
                self.state.config.client_id,
                merchant.id,
                tuple(dict.fromkeys(scopes)),
                pkce=bool(body.get("pkce")),
            )
        return JSONResponse(answer)

    # --- sizes and time ---------------------------------------------------------------------------

    async def config(self, request: Request) -> Response:
        if request.method == "POST":
            sizes = self.state.configure(await _body(request))
        else:
            sizes = self.state.data.sizes
        return JSONResponse({"sizes": sizes.as_dict(), "seed": self.state.config.seed})

    async def clock(self, request: Request) -> Response:
        if request.method == "POST":
            seconds = float((await _body(request)).get("advance_seconds", 0))
            with self.state.lock:
                self.state.clock_offset += seconds
        return JSONResponse({"offset_seconds": self.state.clock_offset})

    # --- catalog --------------------------------------------------------------------------------

    async def add_catalog_object(self, request: Request) -> Response:
        body = await _body(request)
        merchant = self.state.merchant(body.get("merchant_id"))
        obj = body.get("object")
        if not isinstance(obj, dict):
            raise ControlError(400, "object must be a catalog object")
        with self.state.lock:
            store = self.state.catalogs[merchant.index]
            added = store.add(obj, now_ms())
            self.state.catalog_changed(store)
        return JSONResponse({"object": added}, status_code=201)

    async def catalog_object(self, request: Request) -> Response:
        object_id = request.path_params["object_id"]
        with self.state.lock:
            store = self.state.catalog_of(object_id)
            if request.method == "GET":
                return JSONResponse({"object": store.get(object_id)})
            if request.method == "DELETE":
                obj = store.delete(object_id, now_ms())
            else:
                obj = store.update(object_id, await _body(request), now_ms())
            self.state.catalog_changed(store)
        return JSONResponse({"object": obj})

    # --- orders ---------------------------------------------------------------------------------

    async def add_order(self, request: Request) -> Response:
        body = await _body(request)
        loc = self.state.location(str(body.get("location_id")))
        if body.get("created_at") is not None:
            created = _time(body["created_at"], "created_at")
        elif body.get("local_time") is not None:
            # e.g. "2024-05-03T23:30:00": a wall-clock time in the location's time zone now.
            zone = ZoneInfo(self.state.location_body(loc)["timezone"])
            try:
                wall = datetime.fromisoformat(str(body["local_time"]))
                created = local_ms(loc, wall if wall.tzinfo else wall.replace(tzinfo=zone))
            except ValueError:
                raise ControlError(
                    400, "local_time must be ISO 8601, e.g. 2024-05-03T23:30"
                ) from None
        else:
            raise ControlError(400, "created_at or local_time is required")
        closed = _time(body["closed_at"], "closed_at") if body.get("closed_at") else None
        stored = self.state.add_order(loc, created, str(body.get("state", "COMPLETED")), closed)
        return JSONResponse({"order": stored.order}, status_code=201)

    async def order(self, request: Request) -> Response:
        order_id = request.path_params["order_id"]
        if request.method == "PATCH":
            stored = self.state.change_order(order_id, await _body(request))
            return JSONResponse({"order": stored.order})
        order = await run_in_threadpool(self.state.current_order, order_id)
        if order is None:
            raise KeyError(order_id)
        return JSONResponse({"order": order})

    async def ground_truth(self, request: Request) -> Response:
        params = request.query_params
        location_id = params.get("location_id")
        if not location_id:
            raise ControlError(400, "location_id is required")
        start = _time(params["start"], "start") if params.get("start") else 0
        end = _time(params["end"], "end") if params.get("end") else now_ms()
        at = _time(params["at"], "at") if params.get("at") else None
        states = None
        if params.get("states"):
            states = frozenset(s.strip().upper() for s in params["states"].split(",") if s.strip())
        truth = await run_in_threadpool(
            self.state.ground_truth,
            location_id,
            start,
            end,
            params.get("field", "closed_at"),
            states,
            params.get("ids") in ("1", "true"),
            at,
        )
        return JSONResponse(truth.as_dict())

    # --- webhooks -------------------------------------------------------------------------------

    async def webhooks(self, request: Request) -> Response:
        client_id = self.state.config.client_id
        if request.method == "GET":
            with self.state.lock:
                found = self.state.subscriptions.page(client_id, {"include_disabled": "true"})
            return JSONResponse({"subscriptions": found.get("subscriptions", [])})
        body = await _body(request)
        key = body.get("signature_key")
        if key is not None and (not isinstance(key, str) or not key):
            raise ControlError(400, "signature_key must be a non-empty string")
        spec = {k: body[k] for k in ("name", "enabled", "api_version") if k in body}
        spec["notification_url"] = body.get("notification_url")
        spec["event_types"] = body.get("event_types") or sorted(EVENT_TYPES)
        with self.state.lock:
            subscriptions = self.state.subscriptions
            try:
                created = subscriptions.create(
                    client_id, {"subscription": spec}, PINNED_VERSION, now_ms(), key
                )
            except SquareError as error:
                raise ControlError(400, error.detail) from None
            replaced = [
                s.id
                for s in subscriptions.by_id.values()
                if (s.client_id, s.notification_url) == (client_id, created.notification_url)
                and s.id != created.id
            ]
            for subscription_id in replaced:
                subscriptions.delete(client_id, subscription_id)
        return JSONResponse({"subscription": created.body()}, status_code=201)

    async def deliveries(self, request: Request) -> Response:
        wanted = ("event_id", "event_type", "subscription_id")
        where = {k: v for k, v in request.query_params.items() if k in wanted}
        found = self.state.dispatcher.deliveries(**where)
        return JSONResponse({"deliveries": found})

    async def flush(self, request: Request) -> Response:
        raw = await request.body()
        body = await _body(request) if raw.strip() else {}
        timeout = float(body.get("timeout", DEFAULT_FLUSH_TIMEOUT_S))
        answer = await run_in_threadpool(self.state.dispatcher.flush, timeout)
        return JSONResponse(answer)
