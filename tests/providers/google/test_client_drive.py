"""The Drive client: request shapes, strict parsing, streaming downloads, errors classified once.

HTTP is mocked with `responses` (Drive's documented bodies, reference pack §2); the sandbox
tests next to this file cover the same calls against the emulator.
"""

from __future__ import annotations

import io

import pytest
import responses
from responses import matchers

from providers.errors import ApiError, NotFound, RateLimited, Unauthorized
from providers.google.client import GoogleClient
from providers.http import INTERACTIVE
from providers.records.documents import ContentTooLarge

DRIVE = "https://www.googleapis.com/drive/v3"
TOKEN = "ya29.secret-access-token"


def client() -> GoogleClient:
    return GoogleClient(
        userinfo_url="https://openidconnect.googleapis.com/v1/userinfo",
        drive_url=DRIVE,
        access_token=TOKEN,
        profile=INTERACTIVE,
    )


def drive_error(code: int, reason: str, message: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}],
        }
    }


@responses.activate
def test_list_files_asks_for_shared_drive_items_and_parses_the_page():
    responses.get(
        f"{DRIVE}/files",
        match=[
            matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"}),
            matchers.query_param_matcher(
                {
                    "q": "'abc' in parents and trashed = false",
                    "fields": "nextPageToken,files(id,name,mimeType,parents,size)",
                    "pageSize": "100",
                    "supportsAllDrives": "true",
                    "includeItemsFromAllDrives": "true",
                    "corpora": "drive",
                    "driveId": "0Ashared",
                    "pageToken": "~!!~next",
                }
            ),
        ],
        json={
            "kind": "drive#fileList",
            "nextPageToken": "~!!~after",
            "files": [
                {
                    "id": "f1",
                    "name": "Tiramisu.pdf",
                    "mimeType": "application/pdf",
                    "parents": ["abc"],
                    "size": "48213",
                },
                {
                    "id": "d1",
                    "name": "Desserts",
                    "mimeType": "application/vnd.google-apps.folder",
                    "parents": ["abc"],
                },
            ],
        },
    )
    page = client().list_files(
        "'abc' in parents and trashed = false",
        fields="nextPageToken,files(id,name,mimeType,parents,size)",
        page_token="~!!~next",
        drive_id="0Ashared",
    )
    assert page.next_page_token == "~!!~after"
    tiramisu, desserts = page.files
    assert (tiramisu.byte_size, tiramisu.parent, tiramisu.is_folder) == (48213, "abc", False)
    assert desserts.is_folder and desserts.byte_size is None


@responses.activate
def test_changes_are_read_across_all_drives_including_removals():
    responses.get(
        f"{DRIVE}/changes",
        match=[
            matchers.query_param_matcher(
                {
                    "pageToken": "8812",
                    "fields": "changes(fileId,removed)",
                    "pageSize": "100",
                    "includeRemoved": "true",
                    "supportsAllDrives": "true",
                    "includeItemsFromAllDrives": "true",
                }
            )
        ],
        json={"changes": [{"fileId": "gone", "removed": True}], "newStartPageToken": "8813"},
    )
    changes = client().list_changes("8812", fields="changes(fileId,removed)")
    assert changes.new_start_page_token == "8813" and changes.next_page_token is None
    assert changes.changes[0].removed and changes.changes[0].file is None


@responses.activate
def test_download_streams_into_the_sink():
    body = b"%PDF-1.4 " + b"x" * 300_000
    responses.get(
        f"{DRIVE}/files/f1",
        match=[matchers.query_param_matcher({"alt": "media", "supportsAllDrives": "true"})],
        body=body,
        content_type="application/pdf",
    )
    sink = io.BytesIO()
    assert client().download("f1", sink, max_bytes=len(body)) == len(body)
    assert sink.getvalue() == body


@responses.activate
def test_download_stops_past_the_cap_even_without_a_content_length():
    responses.get(f"{DRIVE}/files/big", body=b"y" * 1_000_000)
    sink = io.BytesIO()
    with pytest.raises(ContentTooLarge):
        client().download("big", sink, max_bytes=600_000)
    assert "Content-Length" not in responses.calls[0].response.headers
    assert 0 < len(sink.getvalue()) <= 600_000  # whole chunks only, never past the cap


@responses.activate
def test_download_refuses_before_reading_when_the_declared_length_is_over_the_cap():
    responses.get(f"{DRIVE}/files/big", body=b"z" * 5000, auto_calculate_content_length=True)
    sink = io.BytesIO()
    with pytest.raises(ContentTooLarge):
        client().download("big", sink, max_bytes=4999)
    assert sink.getvalue() == b""


@responses.activate
def test_export_asks_for_a_pdf_and_reports_googles_size_limit():
    responses.get(
        f"{DRIVE}/files/doc1/export",
        match=[matchers.query_param_matcher({"mimeType": "application/pdf"})],
        status=403,
        json=drive_error(403, "exportSizeLimitExceeded", "This file is too large to be exported."),
    )
    with pytest.raises(ApiError) as caught:
        client().export("doc1", "application/pdf", io.BytesIO(), max_bytes=10**8)
    assert (caught.value.status, caught.value.code) == (403, "exportSizeLimitExceeded")
    assert caught.value.permanent


@responses.activate
def test_google_errors_are_classified_and_never_carry_the_token():
    responses.get(
        f"{DRIVE}/files/x", status=404, json=drive_error(404, "notFound", "File not found: x.")
    )
    responses.get(
        f"{DRIVE}/files/y",
        status=403,
        json=drive_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded"),
        headers={"Retry-After": "7"},
    )
    responses.get(
        f"{DRIVE}/files/z", status=401, json=drive_error(401, "authError", "Invalid Credentials")
    )
    errors = []
    for file_id, kind in (("x", NotFound), ("y", RateLimited), ("z", Unauthorized)):
        with pytest.raises(kind) as caught:
            client().get_file(file_id, "id")
        errors.append(caught.value)
    assert errors[1].retry_after == 7 and not errors[1].permanent
    assert errors[2].expired
    assert all(TOKEN not in str(error) for error in errors)
