"""files.get (metadata and alt=media) and files.export (reference README §2.2)."""

from __future__ import annotations

import hashlib
import re

from .helpers import SAM

MB = 1024 * 1024


def test_metadata_with_and_without_fields(google, access_token):
    tiramisu = google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")
    default = google.drive(access_token, f"files/{tiramisu['id']}").json()
    assert default == {
        "kind": "drive#file",
        "id": tiramisu["id"],
        "name": "Tiramisu.pdf",
        "mimeType": "application/pdf",
    }
    fields = "id,name,parents,size,md5Checksum,modifiedTime,createdTime,version,webViewLink,trashed"
    full = google.drive(access_token, f"files/{tiramisu['id']}", fields=fields).json()
    assert set(full) == set(fields.split(","))
    assert full["parents"] == [google.find("Kitchen/Recipes/Desserts")["id"]]
    assert (
        full["webViewLink"] == f"https://drive.google.com/file/d/{tiramisu['id']}/view?usp=drivesdk"
    )
    assert re.fullmatch(r"\d+", full["size"]) and re.fullmatch(r"\d+", full["version"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", full["modifiedTime"])
    assert full["trashed"] is False
    assert re.fullmatch(r"[A-Za-z0-9_-]{33}", tiramisu["id"])


def test_root_is_an_alias_for_my_drive(google, access_token):
    root = google.drive(access_token, "files/root", fields="id,name,mimeType").json()
    assert root["name"] == "My Drive" and root["mimeType"] == "application/vnd.google-apps.folder"


def test_downloaded_bytes_match_md5_and_size(google, access_token, sandbox):
    for path, magic in (
        ("Kitchen/Recipes/Desserts/Tiramisu.pdf", b"%PDF-"),
        ("Marketing/Logo.png", b"\x89PNG\r\n\x1a\n"),
        ("Kitchen/Recipes/Mains/Seared Salmon with Dill — plated.jpg", b"\xff\xd8\xff"),
        ("Notes.txt", b"Notes"),
    ):
        item = google.find(path)
        meta = google.drive(
            access_token, f"files/{item['id']}", fields="md5Checksum,size,mimeType"
        ).json()
        media = google.drive(access_token, f"files/{item['id']}", alt="media")
        assert media.status_code == 200, path
        assert media.content.startswith(magic), path
        assert hashlib.md5(media.content).hexdigest() == meta["md5Checksum"]
        assert len(media.content) == int(meta["size"]) == int(media.headers["content-length"])
        assert media.headers["content-type"].startswith(meta["mimeType"])
    assert sandbox.counters()["google.files.download"] == 4


def test_the_same_seed_gives_the_same_bytes(google, access_token, sandbox):
    item = google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")
    first = google.drive(access_token, f"files/{item['id']}", alt="media").content
    sandbox.reset()
    token = google.connect()["access_token"]
    assert google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")["id"] == item["id"]
    assert google.drive(token, f"files/{item['id']}", alt="media").content == first


def test_a_range_request_gets_part_of_the_file(google, access_token):
    item = google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")
    whole = google.drive(access_token, f"files/{item['id']}", alt="media").content
    part = google.http.get(
        f"{google.base}/drive/v3/files/{item['id']}",
        params={"alt": "media"},
        headers={"Authorization": f"Bearer {access_token}", "Range": "bytes=10-19"},
    )
    assert part.status_code == 206
    assert part.content == whole[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(whole)}"


def test_google_docs_cannot_be_downloaded_only_exported(google, access_token, sandbox):
    doc = google.find("Kitchen/Recipes/Mains/Chicken Piccata")
    assert doc["mimeType"] == "application/vnd.google-apps.document"
    refused = google.drive(access_token, f"files/{doc['id']}", alt="media")
    assert refused.status_code == 403
    assert refused.json()["error"]["errors"][0] == {
        "domain": "global",
        "reason": "fileNotDownloadable",
        "message": "Only files with binary content can be downloaded. "
        "Use Export with Docs Editors files.",
        "location": "alt",
        "locationType": "parameter",
    }
    pdf = google.drive(access_token, f"files/{doc['id']}/export", mimeType="application/pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-") and pdf.content.rstrip().endswith(b"%%EOF")
    assert pdf.headers["content-type"] == "application/pdf"
    text = google.drive(access_token, f"files/{doc['id']}/export", mimeType="text/plain")
    assert "Chicken Piccata" in text.content.decode("utf-8-sig")
    assert sandbox.counters()["google.files.export"] == 2


def test_sheets_and_slides_export_to_pdf(google, access_token):
    for path in ("Kitchen/Recipes/Recipe index", "Marketing/Spring menu launch"):
        item = google.find(path)
        pdf = google.drive(access_token, f"files/{item['id']}/export", mimeType="application/pdf")
        assert pdf.content.startswith(b"%PDF-"), path


def test_export_refuses_binary_files_and_unknown_formats(google, access_token):
    pdf = google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")
    refused = google.drive(access_token, f"files/{pdf['id']}/export", mimeType="application/pdf")
    assert refused.status_code == 403
    assert refused.json()["error"]["errors"][0]["reason"] == "fileNotExportable"
    doc = google.find("Kitchen/Recipes/Mains/Chicken Piccata")
    odd = google.drive(access_token, f"files/{doc['id']}/export", mimeType="image/gif")
    assert odd.status_code == 400
    missing = google.drive(access_token, f"files/{doc['id']}/export")
    assert missing.status_code == 400
    assert missing.json()["error"]["errors"][0]["reason"] == "required"


def test_exports_over_10_mb_are_refused(google, access_token):
    doc = google.find("Kitchen/Recipes/Mains/Chicken Piccata")
    google.control("POST", f"files/{doc['id']}/modify", json={"size": 11 * MB})
    response = google.drive(access_token, f"files/{doc['id']}/export", mimeType="application/pdf")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["errors"][0]["reason"] == "exportSizeLimitExceeded"
    assert error["message"] == "This file is too large to be exported."


def test_a_large_file_is_declared_cheaply_and_streamed_when_downloaded(google, access_token):
    invoice = google.find("Accounting/Invoices/2025-12").get("id")
    created = google.control(
        "POST", "files", json={"name": "Big scan.pdf", "parent": invoice, "size": 30 * MB}
    )
    meta = google.drive(access_token, f"files/{created['id']}", fields="size,md5Checksum").json()
    assert meta["size"] == str(30 * MB)
    md5, total = hashlib.md5(), 0
    with google.http.get(
        f"{google.base}/drive/v3/files/{created['id']}",
        params={"alt": "media"},
        headers={"Authorization": f"Bearer {access_token}"},
        stream=True,
    ) as response:
        assert response.headers["content-length"] == str(30 * MB)
        for index, chunk in enumerate(response.iter_content(1024 * 1024)):
            if index == 0:
                assert chunk.startswith(b"%PDF-")
            md5.update(chunk)
            total += len(chunk)
    assert total == 30 * MB
    assert md5.hexdigest() == meta["md5Checksum"] == created["md5Checksum"]


def test_shared_drive_files_resolve_only_with_supports_all_drives(google, access_token):
    item = google.find("Acme Bistro — Shared/Health & safety.pdf")
    hidden = google.drive(access_token, f"files/{item['id']}")
    assert hidden.status_code == 404
    assert hidden.json()["error"]["errors"][0]["reason"] == "notFound"
    found = google.drive(
        access_token, f"files/{item['id']}", supportsAllDrives="true", fields="id,driveId,parents"
    )
    assert found.status_code == 200
    assert found.json()["driveId"] == item["driveId"]


def test_an_unknown_file_is_404_not_found(google, access_token):
    response = google.drive(access_token, "files/1doesNotExist0000000000000000000")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["message"] == "File not found: 1doesNotExist0000000000000000000."
    assert error["errors"][0]["location"] == "fileId"


def test_another_accounts_file_is_404(google):
    sam = google.connect_as(SAM)
    tiramisu = google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")
    assert google.drive(sam["access_token"], f"files/{tiramisu['id']}").status_code == 404


def test_metadata_only_scope_can_list_but_not_download(google):
    token = google.connect(scope="openid https://www.googleapis.com/auth/drive.metadata.readonly")
    item = google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")
    assert google.drive(token["access_token"], f"files/{item['id']}").status_code == 200
    media = google.drive(token["access_token"], f"files/{item['id']}", alt="media")
    assert media.status_code == 403
    assert media.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"


def test_about_needs_fields_and_describes_the_user(google, access_token, sandbox):
    assert google.drive(access_token, "about").status_code == 400
    body = google.drive(access_token, "about", fields="user,storageQuota").json()
    assert body["user"]["emailAddress"] == "maria@acmebistro.example"
    assert body["user"]["displayName"] == "Maria Lopez" and body["user"]["me"] is True
    assert int(body["storageQuota"]["usage"]) > 0
    assert sandbox.counters()["google.about"] == 2
