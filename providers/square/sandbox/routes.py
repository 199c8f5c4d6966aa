"""The emulated Square API, mounted at `/square` (so `base_url=<sandbox>/square` for the SDK).

Handlers are thin: check the token and its scope (README §3 table), parse, call into the
state, answer JSON with the `Square-Version` header echoed (README §1). Heavy pages (orders,
payments) are built and serialised in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import cursor as cursors
from .catalog import DEFAULT_TYPES, KNOWN_TYPES, normalise_type, references
from .errors import SquareError, bad_request, unauthorized
from .events import events_page, plan_events
from .merchants import Merchant
from .oauth import AccessToken, Client, ConsentError
from .pages import consent_page, error_page
from .payments import payments_page, plan_payments
from .search import plan_search, required_strings, search_page
from .state import SquareState
from .timefmt import iso_ms, now_ms, parse_rfc3339_us

# README §1: the spec's default version; answered when a client sends none (the app's pin).
PINNED_VERSION = "2025-08-20"
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CATALOG_LIST_PAGE = 100  # README §3: fixed, no limit parameter
CATALOG_SEARCH_DEFAULT = 100
CATALOG_SEARCH_MAX = 1000
BATCH_RETRIEVE_MAX = 100  # BatchRetrieveOrders: at most 100 order ids a request
APP_NAME = "Sous"

Handler = Callable[[Request], Awaitable[Response]]


def json_response(body: dict) -> Response:
    # orjson: compact UTF-8 like Square's, and about ten times faster on a page of orders.
    return Response(orjson.dumps(body), media_type="application/json")


def _square_version(request: Request) -> str:
    sent = request.headers.get("square-version")
    if sent is None:
        return PINNED_VERSION
    if not _VERSION.match(sent):
        raise bad_request(
            "INVALID_SQUARE_VERSION_FORMAT", f"Invalid Square-Version {sent!r}.", "Square-Version"
        )
    return sent


async def _json_body(request: Request) -> dict:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise bad_request("EXPECTED_JSON_BODY", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("EXPECTED_JSON_BODY", "The request body must be a JSON object.")
    return body


def _with_query(url: str, params: dict[str, str | None]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


class SquareApi:
    def __init__(self, state: SquareState, counters) -> None:
        self.state = state
        self.counters = counters

    # --- plumbing -------------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        self.counters.incr(f"square.{name}")

    def _authenticate(self, request: Request, scope: str) -> tuple[AccessToken, Merchant]:
        with self.state.lock:
            token = self.state.oauth.authenticate(request.headers.get("authorization"), scope)
            try:
                return token, self.state.merchant(token.merchant_id)
            except KeyError:  # the merchant went away with a smaller `merchants` size
                raise unauthorized() from None

    def _authenticate_app(self, request: Request) -> Client:
        with self.state.lock:
            return self.state.oauth.authenticate_app(request.headers.get("authorization"))

    def routes(self) -> list[BaseRoute]:
        def guarded(handler: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                try:
                    version = _square_version(request)
                    response = await handler(request)
                except SquareError as error:
                    return error.response()
                if response.status_code < 400 and response.media_type == "application/json":
                    response.headers["Square-Version"] = version  # README §1: echoed on success
                return response

            return endpoint

        table: list[tuple[str, Handler, str]] = [
            ("/oauth2/authorize", self.authorize, "GET"),
            ("/oauth2/authorize", self.decide, "POST"),
            ("/oauth2/token", self.obtain_token, "POST"),
            ("/oauth2/token/status", self.token_status, "POST"),
            ("/oauth2/revoke", self.revoke_token, "POST"),
            ("/v2/merchants", self.list_merchants, "GET"),
            ("/v2/merchants/{merchant_id}", self.retrieve_merchant, "GET"),
            ("/v2/locations", self.list_locations, "GET"),
            ("/v2/locations/{location_id}", self.retrieve_location, "GET"),
            ("/v2/catalog/list", self.list_catalog, "GET"),
            ("/v2/catalog/search", self.search_catalog, "POST"),
            ("/v2/orders/search", self.search_orders, "POST"),
            ("/v2/orders/batch-retrieve", self.batch_retrieve_orders, "POST"),
            ("/v2/payments", self.list_payments, "GET"),
            ("/v2/events", self.search_events, "POST"),
            ("/v2/webhooks/subscriptions", self.list_subscriptions, "GET"),
            ("/v2/webhooks/subscriptions", self.create_subscription, "POST"),
            ("/v2/webhooks/subscriptions/{subscription_id}", self.retrieve_subscription, "GET"),
            ("/v2/webhooks/subscriptions/{subscription_id}", self.update_subscription, "PUT"),
            ("/v2/webhooks/subscriptions/{subscription_id}", self.delete_subscription, "DELETE"),
            (
                "/v2/webhooks/subscriptions/{subscription_id}/signature-key",
                self.rotate_signature_key,
                "POST",
            ),
        ]
        routes: list[BaseRoute] = [
            Route(path, guarded(handler), methods=[method]) for path, handler, method in table
        ]
        every = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        routes.append(Route("/{path:path}", self.not_found, methods=every))
        return routes

    async def not_found(self, request: Request) -> Response:
        return SquareError(404, "NOT_FOUND", f"Resource not found: {request.url.path}").response()

    # --- OAuth: the browser pages (README §4.1) --------------------------------------------------

    def _consent(self, request: Request, params: dict[str, str]) -> Response:
        with self.state.lock:
            try:
                auth = self.state.oauth.check_authorize(params)
            except ConsentError as error:
                return HTMLResponse(error_page(str(error)), status_code=400)
        merchants = list(self.state.data.merchants)
        chosen = next((m for m in merchants if m.id == params.get("merchant")), merchants[0])
        hidden = [
            (name, params[name])
            for name in (
                "client_id",
                "redirect_uri",
                "state",
                "code_challenge",
                "code_challenge_method",
                "locale",
                "session",
            )
            if params.get(name)
        ]
        hidden.append(("scope", " ".join(auth.scopes)))
        page = consent_page(
            app_name=APP_NAME,
            action=request.url.path,
            merchants=merchants,
            merchant=chosen,
            scopes=auth.scopes,
            hidden=hidden,
        )
        return HTMLResponse(page)

    async def authorize(self, request: Request) -> Response:
        self._count("oauth.authorize")
        return self._consent(request, dict(request.query_params))

    async def decide(self, request: Request) -> Response:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        with self.state.lock:
            try:
                auth = self.state.oauth.check_authorize(params)
            except ConsentError as error:
                return HTMLResponse(error_page(str(error)), status_code=400)
            merchant_id = params.get("merchant") or self.state.data.merchants[0].id
            if merchant_id not in self.state.oauth.merchant_ids:
                return HTMLResponse(error_page("Unknown business."), status_code=400)
            if params.get("decision") == "allow":
                self._count("oauth.authorize.allow")
                code = self.state.oauth.issue_code(auth, merchant_id)
                target = {"code": code, "response_type": "code", "state": auth.state}
            else:
                self._count("oauth.authorize.deny")
                # README §4.1: Deny -> error=access_denied&error_description=user_denied; the
                # state is echoed (UNCONFIRMED, §11.3) so the client can match the attempt.
                target = {
                    "error": "access_denied",
                    "error_description": "user_denied",
                    "state": auth.state,
                }
        return RedirectResponse(_with_query(auth.redirect_uri, target), status_code=302)

    # --- OAuth: the API (README §4.2, §4.3) -----------------------------------------------------

    async def obtain_token(self, request: Request) -> Response:
        body = await _json_body(request)
        grant = body.get("grant_type")
        known = grant in ("authorization_code", "refresh_token", "migration_token")
        self._count(f"oauth.token.{grant if known else 'other'}")
        with self.state.lock:
            answer = self.state.oauth.obtain_token(body)
        return json_response(answer)

    async def token_status(self, request: Request) -> Response:
        self._count("token.status")
        with self.state.lock:
            answer = self.state.oauth.token_status(request.headers.get("authorization"))
        return json_response(answer)

    async def revoke_token(self, request: Request) -> Response:
        self._count("oauth.revoke")
        body = await _json_body(request)
        with self.state.lock:
            answer = self.state.oauth.revoke_token(request.headers.get("authorization"), body)
        return json_response(answer)

    # --- merchants and locations (README §5) ----------------------------------------------------

    async def list_merchants(self, request: Request) -> Response:
        self._count("merchants.list")
        _, merchant = self._authenticate(request, "MERCHANT_PROFILE_READ")
        return json_response({"merchant": [merchant.body]})

    async def retrieve_merchant(self, request: Request) -> Response:
        self._count("merchants.get")
        _, merchant = self._authenticate(request, "MERCHANT_PROFILE_READ")
        wanted = request.path_params["merchant_id"]
        if wanted not in ("me", merchant.id):
            raise SquareError(404, "NOT_FOUND", f"Merchant `{wanted}` not found.", "merchant_id")
        return json_response({"merchant": merchant.body})

    async def list_locations(self, request: Request) -> Response:
        self._count("locations.list")
        _, merchant = self._authenticate(request, "MERCHANT_PROFILE_READ")
        with self.state.lock:
            bodies = [self.state.location_body(loc) for loc in merchant.locations]
        # README §3: sorted by name, which the seller may have changed since the seeding.
        bodies.sort(key=lambda body: (body["name"].casefold(), body["id"]))
        return json_response({"locations": bodies})

    async def retrieve_location(self, request: Request) -> Response:
        self._count("locations.get")
        _, merchant = self._authenticate(request, "MERCHANT_PROFILE_READ")
        wanted = request.path_params["location_id"]
        if wanted == "main":
            wanted = merchant.main_location.id
        for loc in merchant.locations:
            if loc.id == wanted:
                with self.state.lock:
                    return json_response({"location": self.state.location_body(loc)})
        raise SquareError(404, "NOT_FOUND", f"Location `{wanted}` not found.", "location_id")

    # --- catalog (README §6) --------------------------------------------------------------------

    @staticmethod
    def _types(names: list[str], field: str) -> frozenset[str]:
        types = set()
        for name in names:
            kind = normalise_type(str(name))
            if kind not in KNOWN_TYPES:
                raise bad_request(
                    "INVALID_ENUM_VALUE", f"`{name}` is not a valid catalog object type.", field
                )
            types.add(kind)
        return frozenset(types)

    async def list_catalog(self, request: Request) -> Response:
        self._count("catalog.list")
        _, merchant = self._authenticate(request, "ITEMS_READ")
        given = [t for t in request.query_params.get("types", "").split(",") if t.strip()]
        types = self._types(given, "types") if given else DEFAULT_TYPES
        # `catalog_version` (historical versions) is accepted and not emulated: current objects.
        fingerprint = cursors.fingerprint(merchant.id, sorted(types))
        offset = 0
        if request.query_params.get("cursor") is not None:
            offset = _offset(cursors.decode(request.query_params["cursor"], fingerprint))
        with self.state.lock:
            store = self.state.catalogs[merchant.index]
            # README §6: ListCatalog never returns deleted objects.
            matching = list(store.iter_objects(types, include_deleted=False))
        page = matching[offset : offset + CATALOG_LIST_PAGE]
        body: dict = {}
        if page:
            body["objects"] = page
        if offset + CATALOG_LIST_PAGE < len(matching):
            body["cursor"] = cursors.encode({"o": offset + CATALOG_LIST_PAGE}, fingerprint)
        return json_response(body)

    async def search_catalog(self, request: Request) -> Response:
        self._count("catalog.search")
        _, merchant = self._authenticate(request, "ITEMS_READ")
        body = await _json_body(request)
        object_types = body.get("object_types")
        if object_types is not None and not isinstance(object_types, list):
            raise bad_request("EXPECTED_ARRAY", "Expected an array.", "object_types")
        types = self._types(object_types, "object_types") if object_types else DEFAULT_TYPES
        include_deleted = bool(body.get("include_deleted_objects"))
        include_related = bool(body.get("include_related_objects"))
        if include_deleted and body.get("include_category_path_to_root"):
            raise bad_request(
                "CONFLICTING_PARAMETERS",
                "`include_category_path_to_root` cannot be used with `include_deleted_objects`.",
            )
        begin_us = None
        if body.get("begin_time") is not None:
            try:
                begin_us = parse_rfc3339_us(body["begin_time"])
            except (ValueError, TypeError):
                raise bad_request(
                    "INVALID_TIME",
                    f"Invalid RFC 3339 timestamp {body['begin_time']!r}.",
                    "begin_time",
                ) from None
        matches = _catalog_query(body.get("query"))
        limit = body.get("limit")
        # spec: a limit that is negative, zero or above 1000 is ignored.
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= 1000:
            limit = CATALOG_SEARCH_DEFAULT
        query_part = {k: v for k, v in body.items() if k not in ("cursor", "limit")}
        fingerprint = cursors.fingerprint(merchant.id, query_part)
        offset, latest = 0, None
        if body.get("cursor") is not None:
            position = cursors.decode(body["cursor"], fingerprint)
            offset, latest = _offset(position), position.get("t")
        with self.state.lock:
            store = self.state.catalogs[merchant.index]
            found = [
                obj
                for obj in store.iter_objects(types, include_deleted)
                # README §6: begin_time is exclusive; versions are update times in ms.
                if (begin_us is None or obj["version"] * 1000 > begin_us) and matches(obj)
            ]
            latest_ms = store.latest_ms
            page = found[offset : offset + limit]
            related: list[dict] = []
            if include_related:
                seen = {obj["id"] for obj in page}
                for obj in page:
                    for ref in references(obj):
                        target = store.get(ref)
                        if ref not in seen and target is not None and not target.get("is_deleted"):
                            seen.add(ref)
                            related.append(target)
        answer: dict = {}
        if page:
            answer["objects"] = page
        if related:
            answer["related_objects"] = related
        # spec: latest_time matches the first page's when a cursor is sent.
        latest = latest or iso_ms(latest_ms)
        if offset + limit < len(found):
            answer["cursor"] = cursors.encode({"o": offset + limit, "t": latest}, fingerprint)
        answer["latest_time"] = latest
        return json_response(answer)

    # --- orders and payments (README §7, §8) ----------------------------------------------------

    async def search_orders(self, request: Request) -> Response:
        self._count("orders.search")
        _, merchant = self._authenticate(request, "ORDERS_READ")
        body = await _json_body(request)
        plan = plan_search(body, merchant)
        state = self.state
        overlay = state.overlay()

        def page() -> bytes:
            answer = search_page(
                state.generator, overlay, plan, body.get("cursor"), now_ms(), state.rendered
            )
            return orjson.dumps(answer)

        content = await run_in_threadpool(page)
        return Response(content, media_type="application/json")

    async def batch_retrieve_orders(self, request: Request) -> Response:
        self._count("orders.batch_retrieve")
        _, merchant = self._authenticate(request, "ORDERS_READ")
        body = await _json_body(request)
        order_ids = required_strings(body, "order_ids")
        if not order_ids:
            raise bad_request(
                "ARRAY_LENGTH_TOO_SHORT", "`order_ids` must have at least 1 element.", "order_ids"
            )
        if len(order_ids) > BATCH_RETRIEVE_MAX:
            raise bad_request(
                "ARRAY_LENGTH_TOO_LONG",
                f"`order_ids` must have at most {BATCH_RETRIEVE_MAX} elements, "
                f"but it has {len(order_ids)}.",
                "order_ids",
            )
        locations = merchant.locations
        location_id = body.get("location_id")
        if location_id is not None:
            locations = tuple(loc for loc in merchant.locations if loc.id == location_id)
            if not locations:  # as SearchOrders answers another merchant's location
                raise SquareError(
                    403,
                    "FORBIDDEN",
                    f"Location `{location_id}` does not belong to this merchant.",
                    "location_id",
                )
        loc_keys = {loc.key for loc in locations}
        state = self.state

        def page() -> bytes:
            # Ids Square does not know, or of another merchant, are left out, not errors.
            orders = state.batch_orders(order_ids, loc_keys, now_ms())
            return orjson.dumps({"orders": orders} if orders else {})

        content = await run_in_threadpool(page)
        return Response(content, media_type="application/json")

    async def list_payments(self, request: Request) -> Response:
        self._count("payments.list")
        _, merchant = self._authenticate(request, "PAYMENTS_READ")
        params = dict(request.query_params)
        plan = plan_payments(params, merchant)
        state = self.state
        overlay = state.overlay()

        def page() -> dict:
            return payments_page(
                state.generator, overlay, plan, merchant, params.get("cursor"), now_ms()
            )

        return json_response(await run_in_threadpool(page))

    # --- events and webhook subscriptions (README §10), called as the app, not a seller ------

    async def search_events(self, request: Request) -> Response:
        self._count("events.search")
        client = self._authenticate_app(request)
        body = await _json_body(request)
        plan = plan_events(body, client.client_id)
        with self.state.lock:
            answer = events_page(
                self.state.events, plan, body.get("cursor"), now_ms(), PINNED_VERSION
            )
        return json_response(answer)

    async def list_subscriptions(self, request: Request) -> Response:
        self._count("webhooks.subscriptions.list")
        client = self._authenticate_app(request)
        with self.state.lock:
            answer = self.state.subscriptions.page(client.client_id, dict(request.query_params))
        return json_response(answer)

    async def create_subscription(self, request: Request) -> Response:
        self._count("webhooks.subscriptions.create")
        client = self._authenticate_app(request)
        body = await _json_body(request)
        with self.state.lock:
            created = self.state.subscriptions.create(
                client.client_id, body, PINNED_VERSION, now_ms()
            )
        return json_response({"subscription": created.body()})

    async def retrieve_subscription(self, request: Request) -> Response:
        self._count("webhooks.subscriptions.get")
        client = self._authenticate_app(request)
        with self.state.lock:
            found = self.state.subscriptions.get(
                client.client_id, request.path_params["subscription_id"]
            )
        return json_response({"subscription": found.body()})

    async def update_subscription(self, request: Request) -> Response:
        self._count("webhooks.subscriptions.update")
        client = self._authenticate_app(request)
        body = await _json_body(request)
        with self.state.lock:
            updated = self.state.subscriptions.update(
                client.client_id, request.path_params["subscription_id"], body, now_ms()
            )
        return json_response({"subscription": updated.body()})

    async def delete_subscription(self, request: Request) -> Response:
        self._count("webhooks.subscriptions.delete")
        client = self._authenticate_app(request)
        with self.state.lock:
            self.state.subscriptions.delete(
                client.client_id, request.path_params["subscription_id"]
            )
        return json_response({})

    async def rotate_signature_key(self, request: Request) -> Response:
        self._count("webhooks.subscriptions.signature_key")
        client = self._authenticate_app(request)
        body = await _json_body(request)
        with self.state.lock:
            key = self.state.subscriptions.rotate(
                client.client_id, request.path_params["subscription_id"], body, now_ms()
            )
        return json_response({"signature_key": key})


def _offset(position: dict) -> int:
    try:
        offset = int(position["o"])
    except (KeyError, TypeError, ValueError):
        raise bad_request("INVALID_CURSOR", "The cursor is invalid.", "cursor") from None
    if offset < 0:
        raise bad_request("INVALID_CURSOR", "The cursor is invalid.", "cursor")
    return offset


def _data_of(obj: dict) -> dict:
    return obj.get(f"{obj['type'].lower()}_data", {}) or {}


def _attribute(obj: dict, name: object) -> str:
    return str(_data_of(obj).get(str(name), "")).lower()


def _query_test(kind: str, spec: dict) -> Callable[[dict], bool]:
    if kind == "exact_query":
        name, value = spec.get("attribute_name"), str(spec.get("attribute_value", "")).lower()
        return lambda obj: _attribute(obj, name) == value
    if kind == "prefix_query":
        name, prefix = spec.get("attribute_name"), str(spec.get("attribute_prefix", "")).lower()
        return lambda obj: _attribute(obj, name).startswith(prefix)
    if kind == "text_query":
        words = [str(w).lower() for w in spec.get("keywords", [])]
        return lambda obj: all(w in _attribute(obj, "name") for w in words)
    if kind == "items_for_tax_query":
        taxes = set(spec.get("tax_ids", []))
        return lambda obj: (
            obj["type"] == "ITEM" and bool(taxes & set(_data_of(obj).get("tax_ids", [])))
        )
    if kind == "items_for_modifier_list_query":
        lists = set(spec.get("modifier_list_ids", []))
        return lambda obj: (
            obj["type"] == "ITEM"
            and bool(
                lists & {i["modifier_list_id"] for i in _data_of(obj).get("modifier_list_info", [])}
            )
        )
    raise bad_request("BAD_REQUEST", f"The sandbox does not emulate `{kind}`.", "query")


def _catalog_query(query: object) -> Callable[[dict], bool]:
    """The CatalogQuery kinds the sandbox emulates; others are refused rather than ignored."""
    if not query:
        return lambda obj: True
    if not isinstance(query, dict):
        raise bad_request("EXPECTED_OBJECT", "Expected `query` to be an object.", "query")
    tests = []
    for kind, spec in query.items():
        if not isinstance(spec, dict):
            raise bad_request("EXPECTED_OBJECT", f"Expected `{kind}` to be an object.", kind)
        tests.append(_query_test(kind, spec))
    return lambda obj: all(test(obj) for test in tests)
