"""Square: point of sale and catalog. https://developer.squareup.com/docs/oauth-api/overview"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from providers import locations as choices
from providers.base import Health, Identity, Notification, OAuthEndpoints, Provider
from providers.http import BACKGROUND, INTERACTIVE, Profile

from . import schemas, webhooks
from .catalog import CatalogAction
from .changed_orders import ChangedOrdersAction
from .client import SquareClient, SquareOAuth
from .locations import LocationsAction, lookup_data
from .missed_events import MissedEventsAction
from .sales import (
    SalesAction,
    clean_location_settings,
    locations_with_settings,
    sign_locations,
)

BASE_URLS = {
    "production": "https://connect.squareup.com",
    "sandbox": "https://connect.squareupsandbox.com",
}


class SquareProvider(Provider):
    key = "square"
    name = "Square"
    tagline = "Point of Sale & Catalog"
    stylesheet = "square/square.css"
    sends_notifications = True
    settings_prefix = "SQUARE"
    # Exactly what the catalog and sales syncs read (reference README §3).
    scopes = ("MERCHANT_PROFILE_READ", "ITEMS_READ", "ORDERS_READ")
    # Our server keeps the client secret, so Square's code flow applies; with PKCE Square
    # issues single-use refresh tokens that expire in 90 days instead (README §4.2).
    uses_pkce = False
    oauth_class = SquareOAuth
    docs_url = "https://developer.squareup.com/docs/oauth-api/overview"
    actions = (
        CatalogAction(),
        SalesAction(),
        ChangedOrdersAction(),
        MissedEventsAction(),
        LocationsAction(),
    )
    lookups = cached_lookups = ("locations",)

    def base_url(self) -> str:
        env = self.credentials.environment
        if env == "local":
            return f"{self.credentials.local_base_url}/square"
        return BASE_URLS[env]

    def endpoints(self) -> OAuthEndpoints:
        base = self.base_url()
        return OAuthEndpoints(
            authorize_url=f"{base}/oauth2/authorize",
            token_url=f"{base}/oauth2/token",
            revoke_url=f"{base}/oauth2/revoke",
        )

    def authorization_params(self) -> dict[str, str]:
        # session=false asks Square to show the login rather than reuse a dashboard session,
        # so staff see which merchant they grant (no effect in Square's own sandbox).
        return {"session": "false"}

    def client(self, access_token: str, profile: Profile = INTERACTIVE) -> SquareClient:
        return SquareClient(self.base_url(), access_token, profile, app_token=self.app_token)

    @property
    def app_token(self) -> str:
        """The app's personal access token; the local sandbox takes the client secret."""
        credentials = self.credentials
        if credentials.environment == "local":
            return credentials.app_token or credentials.client_secret
        return credentials.app_token

    def runs_unattended(self, action) -> bool:
        # Square's Events API answers the app, never a merchant's OAuth token.
        return action.key != "events" or bool(self.app_token)

    def identity(self, access_token: str) -> Identity:
        client = self.client(access_token)
        merchant = client.merchant()
        email = ""
        if merchant.main_location_id:
            main = [loc for loc in client.locations() if loc.id == merchant.main_location_id]
            email = main[0].business_email if main else ""
        return Identity(
            account_id=merchant.id, name=merchant.business_name or merchant.id, email=email
        )

    def health(self, access_token: str) -> Health:
        status = self.client(access_token).token_status()
        until = status.expires_at.strftime("%-d %b %Y") if status.expires_at else "no expiry"
        return Health(healthy=True, detail=f"Token valid until {until}")

    def sync_client(self, access_token: str) -> SquareClient:
        return self.client(access_token, BACKGROUND)

    def fetch_lookup(self, name: str, access_token: str, *, settings: dict) -> dict:
        """`locations`: the merchant's locations as Square lists them (locations.lookup_data)."""
        if name != "locations":
            raise KeyError(name)
        return lookup_data(self.client(access_token).locations())

    def lookup_covers(self, name: str, data: Any, *, settings: dict) -> bool:
        """Kept locations that no longer read as locations (kept by a release whose schema
        differed) are fetched again rather than failing every drawer until a Refresh."""
        try:
            msgspec.convert(data.get("locations", []), list[schemas.Location])
        except (msgspec.ValidationError, AttributeError):
            return False
        return True

    def show_lookup(
        self,
        name: str,
        data: dict,
        params: Mapping[str, str],
        *,
        account_id: str,
        now: datetime,
    ) -> dict:
        """`locations` for the Sales picker, each with its time zone, whether it is included,
        its cutoff and the exact local window "Sync Today" would read at `now`.

        `params` carry the saved choices (`exclude`, `cutoff.<id>`, and `known` and `new`
        once the connection records its locations) so the windows shown are the ones a sync
        will use, and a location Sous has not met shows as "New", not included.
        """
        if name != "locations":
            raise KeyError(name)
        getlist = getattr(params, "getlist", None) or (lambda key: [])
        settings = {
            choices.EXCLUDED: getlist("exclude"),
            choices.NEW: getlist("new"),
            "cutoffs": {
                key.split(".", 1)[1]: value
                for key, value in params.items()
                if key.startswith("cutoff.") and value
            },
        }
        if getlist("known"):
            settings[choices.KNOWN] = dict.fromkeys(getlist("known"), {})
        listed = msgspec.convert(data.get("locations", []), list[schemas.Location])
        rows, shown = [], []
        for location, included in locations_with_settings(listed, settings):
            try:
                clock = location.clock
            except ValueError:  # a cutoff edited by hand into something that is not a time
                location = type(location)(location.id, location.name, location.timezone, "00:00")
                clock = location.clock
            shown.append(location)
            today = clock.today(now)
            rows.append(
                {
                    "id": location.id,
                    "name": location.name,
                    "timezone": location.timezone,
                    "status": location.status,
                    "included": included,
                    "new": choices.is_new(settings, location.id),
                    "cutoff": location.cutoff,
                    "today": today,
                    "window": clock.describe(today),
                }
            )
        return {"locations": rows, "signed": sign_locations(account_id, shown)}

    def clean_settings(self, data: Mapping[str, str], current: dict, *, account_id: str) -> dict:
        return clean_location_settings(data, current, account_id=account_id)

    # --- Webhooks (reference README §10)
    def webhook_signature_valid(
        self, headers: Mapping[str, str], body: bytes, *, url: str, keys
    ) -> bool:
        header = headers.get(webhooks.SIGNATURE_HEADER, "")
        return webhooks.signature_valid(header, body, url=url, keys=keys)

    def read_notification(self, body: bytes) -> Notification:
        return webhooks.read(body)
