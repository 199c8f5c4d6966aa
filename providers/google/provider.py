"""Google Drive: recipes and invoices. https://developers.google.com/identity/protocols/oauth2/web-server"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from providers.base import (
    Health,
    Identity,
    InvalidParams,
    Notification,
    OAuthEndpoints,
    Provider,
    Push,
    PushChannel,
)
from providers.errors import NotFound
from providers.http import BACKGROUND, INTERACTIVE, Profile

from . import picker, push
from .actions import ScanDrive
from .client import GoogleClient
from .drive import KINDS, watched_folders

PRODUCTION = {
    "authorize": "https://accounts.google.com/o/oauth2/v2/auth",
    "token": "https://oauth2.googleapis.com/token",
    "revoke": "https://oauth2.googleapis.com/revoke",
    "userinfo": "https://openidconnect.googleapis.com/v1/userinfo",
    "drive": "https://www.googleapis.com/drive/v3",
}

# The sandbox serves every Google host under one prefix, with the hosts' own paths.
LOCAL_PATHS = {
    "authorize": "/o/oauth2/v2/auth",
    "token": "/token",
    "revoke": "/revoke",
    "userinfo": "/oauth2/v3/userinfo",
    "drive": "/drive/v3",
}


class GoogleProvider(Provider):
    key = "google"
    name = "Google"
    tagline = "Drive — Recipes & Invoices"
    stylesheet = "google/google.css"
    settings_prefix = "GOOGLE"
    # drive.readonly lets us crawl folders staff pick; it is a *restricted* scope, so production
    # use needs Google's verification (reference README §2.6). openid/email/profile give
    # "Connected as".
    scopes = (
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
        "https://www.googleapis.com/auth/drive.readonly",
    )
    uses_pkce = True
    docs_url = "https://developers.google.com/identity/protocols/oauth2/web-server"
    actions = (ScanDrive(),)
    # The drawer's folder picker (browsed live) and the watched folders' availability and
    # paths (kept; refreshed by scans, which follow Drive's changes to those folders).
    lookups = ("folders", "watched")
    cached_lookups = ("watched",)

    def url(self, name: str) -> str:
        if self.credentials.environment == "local":
            return f"{self.credentials.local_base_url}/google{LOCAL_PATHS[name]}"
        return PRODUCTION[name]

    def endpoints(self) -> OAuthEndpoints:
        return OAuthEndpoints(
            authorize_url=self.url("authorize"),
            token_url=self.url("token"),
            revoke_url=self.url("revoke"),
        )

    def authorization_params(self) -> dict[str, str]:
        # offline + consent: Google returns a refresh token on every consent, including a
        # reconnect (otherwise only the first consent carries one).
        return {"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"}

    def client(self, access_token: str, profile: Profile = INTERACTIVE) -> GoogleClient:
        return GoogleClient(
            userinfo_url=self.url("userinfo"),
            drive_url=self.url("drive"),
            access_token=access_token,
            profile=profile,
        )

    def identity(self, access_token: str) -> Identity:
        info = self.client(access_token).userinfo()
        return Identity(account_id=info.sub, name=info.name or info.email, email=info.email)

    def health(self, access_token: str) -> Health:
        info = self.client(access_token).userinfo()
        return Health(healthy=True, detail=f"Signed in as {info.email or info.name}")

    def sync_client(self, access_token: str) -> GoogleClient:
        return self.client(access_token, profile=BACKGROUND)

    # --- Push notifications on the changes feed (reference README §2.4)
    sends_notifications = True
    push_channels = True
    # Drive's longest for changes is a week; asking for it means one renewal a week.
    CHANNEL_LIFETIME = timedelta(days=7)

    def wants_push(self, settings: dict) -> bool:
        return bool(watched_folders(settings))

    def open_channel(
        self, access_token: str, *, channel_id: str, address: str, token: str
    ) -> PushChannel:
        client = self.sync_client(access_token)
        asked = datetime.now(UTC) + self.CHANNEL_LIFETIME
        channel = client.watch_changes(
            client.start_page_token(),
            channel_id=channel_id,
            address=address,
            token=token,
            expiration_ms=int(asked.timestamp() * 1000),
        )
        return PushChannel(
            id=channel.id,
            resource_id=channel.resource_id,
            expires_at=datetime.fromtimestamp(channel.expiration_ms / 1000, UTC),
        )

    def close_channel(self, access_token: str, channel: PushChannel) -> None:
        # Expired or stopped already (404) is what was asked for.
        with contextlib.suppress(NotFound):
            self.sync_client(access_token).stop_channel(channel.id, channel.resource_id)

    def read_push(self, headers: Mapping[str, str]) -> Push:
        return push.read_push(headers)

    def read_notification(self, body: bytes) -> Notification:
        return push.read(body)

    # --- Watched folders (the drawer's picker)

    def lookup(
        self, name: str, access_token: str, params: Mapping[str, str], *, account_id: str
    ) -> dict:
        if name == "folders":
            return picker.folders(self.client(access_token), params, account_id)
        raise KeyError(name)

    def fetch_lookup(self, name: str, access_token: str, *, settings: dict) -> dict:
        if name != "watched":
            raise KeyError(name)
        return picker.watched(self.client(access_token), watched_folders(settings).values())

    def lookup_covers(self, name: str, data: dict, *, settings: dict) -> bool:
        return name != "watched" or picker.covers(data, settings)

    def show_lookup(
        self,
        name: str,
        data: dict,
        params: Mapping[str, str],
        *,
        account_id: str,
        now: datetime,
    ) -> dict:
        if name != "watched":
            raise KeyError(name)
        return picker.show_watched(data, params)

    def clean_settings(self, data: Mapping[str, str], current: dict, *, account_id: str) -> dict:
        """Set or clear the Recipes or Invoices folder: {"folders": {kind: {id, name, path,
        drive_id}}}. A folder comes as the picker's signed choice, never as free text."""
        kind = data.get("kind", "")
        if kind not in KINDS:
            raise InvalidParams("Choose which folder to change: Recipes or Invoices.")
        folders = dict(current.get("folders") or {})
        if data.get("action") == "clear":
            folders.pop(kind, None)
        else:
            folder = picker.read_choice(data.get("choice", ""), account_id)
            for other, chosen in folders.items():
                if other != kind and isinstance(chosen, dict) and chosen.get("id") == folder["id"]:
                    raise InvalidParams(
                        f"That folder is already your {KINDS[other]} folder. Pick another."
                    )
            folders[kind] = {
                "id": str(folder["id"]),
                "name": str(folder.get("name", ""))[:200],
                "path": str(folder.get("path", ""))[:1000],
                "drive_id": folder.get("drive_id") or None,
            }
        return {**current, "folders": folders}
