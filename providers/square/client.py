"""Square's HTTP API: one method per endpoint, errors classified once.

Docs: https://developer.squareup.com/reference/square (contract: shared/reference/square/).
"""

from __future__ import annotations

from datetime import UTC

import requests

from providers.errors import (
    ApiError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    excerpt,
)
from providers.http import INTERACTIVE, Profile, session_for
from providers.oauth import OAuthClient, TokenSet

from . import schemas

# https://developer.squareup.com/docs/build-basics/versioning-overview — pin what we tested.
SQUARE_VERSION = "2025-08-20"

TOKEN_STATUS = "/oauth2/token/status"  # RetrieveTokenStatus
MERCHANT_ME = "/v2/merchants/me"  # RetrieveMerchant, "me" = the token's merchant
LOCATIONS = "/v2/locations"  # ListLocations (no paging)
# https://developer.squareup.com/reference/square/catalog-api/search-catalog-objects
CATALOG_SEARCH = "/v2/catalog/search"  # SearchCatalogObjects: up to 1000 a page (README §3)
# https://developer.squareup.com/reference/square/orders-api/search-orders
ORDERS_SEARCH = "/v2/orders/search"  # SearchOrders: up to 1000 a page, 10 locations (README §7)
ORDERS_BATCH_RETRIEVE = "/v2/orders/batch-retrieve"  # BatchRetrieveOrders: up to 100 ids
EVENTS_SEARCH = "/v2/events"  # SearchEvents: the merchant's events of the last 28 days
MAX_ORDERS_PER_BATCH = 100

CATALOG_PAGE_LIMIT = 1000
ORDERS_PAGE_LIMIT = 1000
MAX_LOCATIONS_PER_SEARCH = 10


# What staff read when Square refuses a token (codes: reference README §2, ErrorCode).
PLAIN_AUTH_ERRORS = {
    "ACCESS_TOKEN_EXPIRED": "Square says our access has expired.",
    "ACCESS_TOKEN_REVOKED": "Square access was revoked (from Square's dashboard or by Sous).",
    "UNAUTHORIZED": "Square no longer accepts Sous's access (revoked or expired).",
    "INSUFFICIENT_SCOPES": "Square access lacks a permission Sous needs; reconnect to grant it.",
    "FORBIDDEN": "Square refused access to this merchant's data.",
}


def raise_for_response(response: requests.Response) -> None:
    """Square's v2 error body: {"errors": [{"category", "code", "detail", "field"}]}
    (README §2; `field` is optional: the request field at fault)."""
    status = response.status_code
    if status < 400:
        return
    code, detail, field = "", "", ""
    try:
        first = (response.json().get("errors") or [{}])[0]
        code, detail = str(first.get("code", "")), str(first.get("detail", ""))
        field = str(first.get("field") or "")
    except (ValueError, AttributeError):
        detail = excerpt(response.text)
    if status == 429:
        retry_after = float(response.headers.get("Retry-After") or 1)
        raise RateLimited(
            "Square asked us to slow down.", provider="square", retry_after=retry_after, code=code
        )
    if status >= 500:
        raise Unavailable(f"Square is not answering (HTTP {status}).", provider="square")
    if status in (401, 403):
        raise Unauthorized(
            PLAIN_AUTH_ERRORS.get(code, "Square no longer accepts Sous's access."),
            provider="square",
            status=status,
            code=code,
            # Square answers a plain UNAUTHORIZED to an expired token on some endpoints
            # (RetrieveTokenStatus among them, reference README §4.3) and to a revoked one
            # alike: a refresh tells them apart, so only the explicit codes rule one out.
            expired=status == 401 and code in ("ACCESS_TOKEN_EXPIRED", "UNAUTHORIZED", ""),
        )
    if status == 404:
        raise NotFound(f"Square: not found ({excerpt(detail)}).", provider="square", status=404)
    raise ApiError(
        f"Square rejected the request: {excerpt(detail) or code}.",
        provider="square",
        status=status,
        code=code,
        field=field,
    )


class OrdersPage:
    """A SearchOrders answer read in two steps: its cursor at once (a quick scan, so the next
    page can be asked for straight away), its orders when `parse()` is called, possibly in
    another thread. A thousand orders are a few megabytes of JSON: overlapping their parsing
    with the next request keeps the pipe full."""

    __slots__ = ("_content", "cursor")

    def __init__(self, content: bytes) -> None:
        self._content = content
        self.cursor = schemas.from_json(schemas.SearchCursor, content).cursor

    def parse(self) -> schemas.SearchOrdersResponse:
        return schemas.from_json(schemas.SearchOrdersResponse, self._content)


class SquareClient:
    """Calls made with one access token; built per use, never stored."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        profile: Profile = INTERACTIVE,
        *,
        app_token: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._app_token = app_token  # for the calls Square takes only from the app
        self.http = session_for("square", profile)
        self.http.headers.update(
            {
                "Authorization": f"Bearer {access_token}",
                "Square-Version": SQUARE_VERSION,
                "Accept": "application/json",
            }
        )

    def __repr__(self) -> str:
        return f"<SquareClient {self.base_url}>"

    def _get(self, path: str, **params) -> dict:
        response = self.http.get(self.base_url + path, params=params or None)
        raise_for_response(response)
        return response.json()

    def _post(self, path: str, body: dict | None = None) -> dict:
        response = self.http.post(self.base_url + path, json=body or {})
        raise_for_response(response)
        return response.json()

    def _post_raw(self, path: str, body: dict) -> bytes:
        response = self.http.post(self.base_url + path, json=body)
        raise_for_response(response)
        return response.content

    def token_status(self) -> schemas.TokenStatus:
        return schemas.from_data(schemas.TokenStatus, self._post(TOKEN_STATUS))

    def merchant(self) -> schemas.Merchant:
        return schemas.from_data(schemas.RetrieveMerchantResponse, self._get(MERCHANT_ME)).merchant

    def locations(self) -> list[schemas.Location]:
        return schemas.from_data(schemas.ListLocationsResponse, self._get(LOCATIONS)).locations

    def search_catalog(
        self,
        *,
        object_types: list[str],
        cursor: str | None = None,
        begin_time: str | None = None,
        include_deleted: bool = True,
    ) -> schemas.SearchCatalogObjectsResponse:
        """One page of SearchCatalogObjects. Paging resends the same body with the cursor.

        `begin_time` (RFC 3339, exclusive) limits to objects changed since; deleted objects
        come back with `is_deleted` when asked for (README §6).
        """
        body: dict = {
            "object_types": object_types,
            "include_deleted_objects": include_deleted,
            "limit": CATALOG_PAGE_LIMIT,
        }
        if begin_time:
            body["begin_time"] = begin_time
        if cursor:
            body["cursor"] = cursor
        return schemas.from_json(
            schemas.SearchCatalogObjectsResponse, self._post_raw(CATALOG_SEARCH, body)
        )

    def search_orders(
        self, *, location_ids: list[str], query: dict, cursor: str | None = None
    ) -> schemas.SearchOrdersResponse:
        """One page of SearchOrders for at most 10 locations; paging resends the same query."""
        return self.search_orders_lazily(
            location_ids=location_ids, query=query, cursor=cursor
        ).parse()

    def batch_retrieve_orders(self, order_ids: list[str]) -> list[schemas.Order]:
        """The orders with these ids (at most 100); ids Square does not know are left out."""
        if not 0 < len(order_ids) <= MAX_ORDERS_PER_BATCH:
            raise ValueError(f"BatchRetrieveOrders takes 1 to {MAX_ORDERS_PER_BATCH} order ids")
        content = self._post_raw(ORDERS_BATCH_RETRIEVE, {"order_ids": order_ids})
        return schemas.from_json(schemas.SearchOrdersResponse, content).orders

    def search_events(
        self, *, merchant_id: str, since: str, cursor: str | None = None
    ) -> tuple[list[dict], str]:
        """One page of a merchant's events created at or after `since`, oldest first, each as
        the webhook envelope; and the next page's cursor ("" at the end). Square's Events API
        takes the app's own token, not the merchant's (it sees every merchant of the app)."""
        if not self._app_token:
            raise ValueError("SearchEvents needs the app's access token")
        body: dict = {
            "limit": 100,
            "query": {
                "filter": {"merchant_ids": [merchant_id], "created_at": {"start_at": since}},
                "sort": {"field": "DEFAULT", "order": "ASC"},
            },
        }
        if cursor:
            body["cursor"] = cursor
        response = self.http.post(
            self.base_url + EVENTS_SEARCH,
            json=body,
            headers={"Authorization": f"Bearer {self._app_token}"},
        )
        raise_for_response(response)
        page = response.json()
        return page.get("events") or [], page.get("cursor") or ""

    def search_orders_lazily(
        self, *, location_ids: list[str], query: dict, cursor: str | None = None
    ) -> OrdersPage:
        """The same page, read in two steps (see OrdersPage)."""
        if not 0 < len(location_ids) <= MAX_LOCATIONS_PER_SEARCH:
            raise ValueError(f"SearchOrders takes 1 to {MAX_LOCATIONS_PER_SEARCH} location ids")
        body: dict = {"location_ids": location_ids, "query": query, "limit": ORDERS_PAGE_LIMIT}
        if cursor:
            body["cursor"] = cursor
        return OrdersPage(self._post_raw(ORDERS_SEARCH, body))


class SquareOAuth(OAuthClient):
    """Square's OAuth differs from RFC 6749 in its bodies: JSON in, `expires_at` out, and
    RevokeToken authorised by `Authorization: Client <secret>` (reference README §4)."""

    scope_separator = " "

    def token_request(self, payload: dict[str, str]) -> requests.Response:
        body = {**payload, "client_id": self.client_id, "client_secret": self._client_secret}
        return self.http.post(self.token_url, json=body, headers={"Square-Version": SQUARE_VERSION})

    def parse_token(self, data: dict) -> TokenSet:
        token = schemas.from_data(schemas.ObtainTokenResponse, data)
        return TokenSet(
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=token.expires_at.astimezone(UTC) if token.expires_at else None,
            refresh_token_expires_at=token.refresh_token_expires_at,
            account_id=token.merchant_id,
        )

    def revoke(self, *, access_token: str, refresh_token: str) -> None:
        # Revoking with the access token ends every token of this app for the merchant.
        response = self.http.post(
            self.revoke_url,
            json={"client_id": self.client_id, "access_token": access_token},
            headers={
                "Authorization": f"Client {self._client_secret}",
                "Square-Version": SQUARE_VERSION,
            },
        )
        self.raise_for_token_error(response, refusal=ApiError)
