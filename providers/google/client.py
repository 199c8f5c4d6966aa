"""Google's HTTP APIs we call: OpenID userinfo and Drive v3. Errors classified once.

Docs: https://developers.google.com/drive/api/reference/rest/v3
(contract: shared/reference/google/).
"""

from __future__ import annotations

import contextlib
from typing import BinaryIO, TypeVar
from urllib.parse import quote

import requests

from providers.errors import ApiError, NotFound, RateLimited, Unauthorized, Unavailable, excerpt
from providers.http import INTERACTIVE, Profile, session_for
from providers.records.documents import ContentTooLarge

from . import schemas

DOWNLOAD_CHUNK = 256 * 1024
T = TypeVar("T")

# Google's documented "retry with backoff" reasons (reference README §2.5), even when sent as 403.
RATE_LIMIT_REASONS = {"userRateLimitExceeded", "rateLimitExceeded", "sharingRateLimitExceeded"}


def raise_for_response(response: requests.Response) -> None:
    """Google's error body: {"error": {"code", "message", "errors": [{"reason", ...}]}}."""
    status = response.status_code
    if status < 400:
        return
    reason, message = "", ""
    try:
        error = response.json().get("error") or {}
        if isinstance(error, dict):
            message = str(error.get("message", ""))
            reason = str(((error.get("errors") or [{}])[0]).get("reason", ""))
        else:  # the OAuth endpoints answer {"error": "invalid_token", ...}
            reason = str(error)
    except (ValueError, AttributeError):
        message = excerpt(response.text)
    if status == 429 or reason in RATE_LIMIT_REASONS:
        retry_after = float(response.headers.get("Retry-After") or 1)
        raise RateLimited(
            "Google asked us to slow down.", provider="google", retry_after=retry_after, code=reason
        )
    if status >= 500:
        raise Unavailable(f"Google is not answering (HTTP {status}).", provider="google")
    if status == 401 or (status == 403 and reason in {"insufficientPermissions", "authError"}):
        raise Unauthorized(
            "Google no longer accepts Sous's access (revoked or expired)."
            if status == 401
            else "Google access lacks a permission Sous needs; reconnect to grant it.",
            provider="google",
            status=status,
            code=reason,
            expired=status == 401,
        )
    if status == 404:
        raise NotFound(f"Google: {excerpt(message) or 'not found'}.", provider="google", status=404)
    raise ApiError(
        f"Google rejected the request: {excerpt(message) or reason}.",
        provider="google",
        status=status,
        code=reason,
    )


class GoogleClient:
    """Calls made with one access token; built per use, never stored."""

    def __init__(
        self,
        *,
        userinfo_url: str,
        drive_url: str,
        access_token: str,
        profile: Profile = INTERACTIVE,
    ) -> None:
        self.userinfo_url = userinfo_url
        self.drive_url = drive_url.rstrip("/")
        self.http = session_for("google", profile)
        self.http.headers.update(
            {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        )

    def __repr__(self) -> str:
        return f"<GoogleClient {self.drive_url}>"

    def _get(self, kind: type[T], url: str, **params) -> T:
        response = self.http.get(url, params=params or None)
        raise_for_response(response)
        return schemas.from_json(kind, response.content)

    def userinfo(self) -> schemas.UserInfo:
        return self._get(schemas.UserInfo, self.userinfo_url)

    # --- Drive v3 (https://developers.google.com/drive/api/reference/rest/v3) ----------------
    # Every call sets supportsAllDrives, so shared-drive items answer like My Drive ones
    # (without it files.get on a shared-drive file is a 404; reference pack §2.1).

    def get_file(self, file_id: str, fields: str) -> schemas.DriveFile:
        """files.get: https://developers.google.com/drive/api/reference/rest/v3/files/get"""
        return self._get(
            schemas.DriveFile,
            f"{self.drive_url}/files/{quote(file_id, safe='')}",
            fields=fields,
            supportsAllDrives="true",
        )

    def list_files(
        self,
        q: str,
        *,
        fields: str,
        page_size: int = 100,
        page_token: str | None = None,
        order_by: str | None = None,
        drive_id: str | None = None,
        all_drives: bool = False,
    ) -> schemas.FileList:
        """files.list: https://developers.google.com/drive/api/reference/rest/v3/files/list

        `drive_id` searches one shared drive; `all_drives` searches My Drive and every shared
        drive; neither searches My Drive (corpora=user). Pages may be short or even empty
        before the end: only a missing nextPageToken ends a listing.
        """
        params = {
            "q": q,
            "fields": fields,
            "pageSize": page_size,
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
            "corpora": "drive" if drive_id else ("allDrives" if all_drives else "user"),
        }
        if drive_id:
            params["driveId"] = drive_id
        if page_token:
            params["pageToken"] = page_token
        if order_by:
            params["orderBy"] = order_by
        return self._get(schemas.FileList, f"{self.drive_url}/files", **params)

    def start_page_token(self) -> str:
        """changes.getStartPageToken: the feed position "now", for the next incremental scan.
        https://developers.google.com/drive/api/reference/rest/v3/changes/getStartPageToken"""
        token = self._get(
            schemas.StartPageToken,
            f"{self.drive_url}/changes/startPageToken",
            supportsAllDrives="true",
        )
        return token.start_page_token

    def list_changes(
        self, page_token: str, *, fields: str, page_size: int = 100
    ) -> schemas.ChangeList:
        """changes.list over My Drive and every shared drive, oldest first.
        https://developers.google.com/drive/api/reference/rest/v3/changes/list"""
        return self._get(
            schemas.ChangeList,
            f"{self.drive_url}/changes",
            pageToken=page_token,
            fields=fields,
            pageSize=page_size,
            includeRemoved="true",
            supportsAllDrives="true",
            includeItemsFromAllDrives="true",
        )

    def watch_changes(
        self, page_token: str, *, channel_id: str, address: str, token: str, expiration_ms: int
    ) -> schemas.Channel:
        """changes.watch: Drive posts to `address` whenever the account's feed changes.
        https://developers.google.com/drive/api/reference/rest/v3/changes/watch"""
        response = self.http.post(
            f"{self.drive_url}/changes/watch",
            params={
                "pageToken": page_token,
                "supportsAllDrives": "true",
                "includeItemsFromAllDrives": "true",
            },
            json={
                "id": channel_id,
                "type": "web_hook",
                "address": address,
                "token": token,
                "expiration": str(expiration_ms),
            },
        )
        raise_for_response(response)
        return schemas.from_json(schemas.Channel, response.content)

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        """channels.stop. https://developers.google.com/drive/api/reference/rest/v3/channels/stop"""
        response = self.http.post(
            f"{self.drive_url}/channels/stop", json={"id": channel_id, "resourceId": resource_id}
        )
        raise_for_response(response)

    def list_drives(self, page_token: str | None = None, page_size: int = 100) -> schemas.DriveList:
        """drives.list: https://developers.google.com/drive/api/reference/rest/v3/drives/list"""
        params = {"pageSize": page_size, "fields": "nextPageToken,drives(id,name)"}
        if page_token:
            params["pageToken"] = page_token
        return self._get(schemas.DriveList, f"{self.drive_url}/drives", **params)

    def get_drive(self, drive_id: str) -> schemas.SharedDrive:
        """drives.get: https://developers.google.com/drive/api/reference/rest/v3/drives/get"""
        return self._get(
            schemas.SharedDrive,
            f"{self.drive_url}/drives/{quote(drive_id, safe='')}",
            fields="id,name",
        )

    def download(self, file_id: str, sink: BinaryIO, max_bytes: int) -> int:
        """A stored file's bytes (files.get with alt=media) into `sink`; returns the count.
        https://developers.google.com/drive/api/guides/manage-downloads"""
        url = f"{self.drive_url}/files/{quote(file_id, safe='')}"
        return self._stream(url, {"alt": "media", "supportsAllDrives": "true"}, sink, max_bytes)

    def export(self, file_id: str, mime_type: str, sink: BinaryIO, max_bytes: int) -> int:
        """A Docs Editors file converted to `mime_type` (files.export; Google caps it at
        10 MB). https://developers.google.com/drive/api/reference/rest/v3/files/export"""
        url = f"{self.drive_url}/files/{quote(file_id, safe='')}/export"
        return self._stream(url, {"mimeType": mime_type}, sink, max_bytes)

    def _stream(self, url: str, params: dict, sink: BinaryIO, max_bytes: int) -> int:
        """Copy a response body to `sink` in chunks, never holding it all, never past the cap."""
        response = self.http.get(url, params=params, stream=True, headers={"Accept": "*/*"})
        with contextlib.closing(response):
            raise_for_response(response)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ContentTooLarge(f"{int(declared)} bytes")
            written = 0
            try:
                for chunk in response.iter_content(DOWNLOAD_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise ContentTooLarge(f"more than {max_bytes} bytes")
                    sink.write(chunk)
            except (requests.ConnectionError, requests.Timeout) as exc:
                # ChunkedEncodingError is a ConnectionError: the body stopped half-way.
                raise Unavailable(
                    f"Google stopped sending a file ({type(exc).__name__}).", provider="google"
                ) from None
        return written
