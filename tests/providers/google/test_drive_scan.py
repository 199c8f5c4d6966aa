"""The Drive scan as the job machinery drives it: pages of neutral records, checkpoints, cursor.

Against the sandbox over HTTP, with no database: what the provider hands to the importers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec
import pytest

from providers.base import SyncRequest
from providers.errors import CursorExpired
from providers.google.client import GoogleClient
from providers.google.drive import DriveScan, Phase, ScanCheckpoint
from providers.http import BACKGROUND
from providers.records.documents import DocumentFile, DocumentScanFinished
from providers.records.lookups import LookupData


def drive_client(google, access_token) -> GoogleClient:
    return GoogleClient(
        userinfo_url=f"{google.base}/oauth2/v3/userinfo",
        drive_url=f"{google.base}/drive/v3",
        access_token=access_token,
        profile=BACKGROUND,
    )


def settings_for(google, **paths) -> dict:
    return {"folders": {kind: {"id": google.find(path)["id"]} for kind, path in paths.items()}}


def request(settings, checkpoint: ScanCheckpoint | None = None, cursor=None) -> SyncRequest:
    # As the engine hands it back: stored as JSON, then read as the action's Checkpoint.
    saved = json.loads(json.dumps(msgspec.to_builtins(checkpoint or ScanCheckpoint())))
    return SyncRequest(
        params={},
        checkpoint=msgspec.convert(saved, ScanCheckpoint),
        cursor=json.loads(json.dumps(cursor or {})),
        settings=settings,
        now=datetime.now(UTC),
    )


def files_in(pages) -> list[DocumentFile]:
    return [r for page in pages for r in page.records if isinstance(r, DocumentFile)]


def test_a_full_crawl_walks_nested_folders_and_ends_with_a_cursor(google, access_token, sandbox):
    client = drive_client(google, access_token)
    settings = settings_for(google, recipe="Kitchen/Recipes")
    pages = list(DriveScan(client, request(settings)).pages())

    found = {f.folder_path + " / " + f.name: f for f in files_in(pages)}
    tree = google.control("GET", "tree")["files"]
    expected = {
        "My Drive / " + item["path"].replace("/", " / ")
        for item in tree
        if item["path"].startswith("Kitchen/Recipes/")
        and item["mimeType"] != "application/vnd.google-apps.folder"
        and not item["trashed"]
    }
    assert set(found) == expected
    assert "My Drive / Kitchen / Recipes / Sauces / Base sauces / Béchamel.pdf" in found
    assert {f.kind for f in found.values()} == {"recipe"}
    assert all(f.scan and f.revision for f in found.values())
    # Folders are listed several at a time, not one request per folder.
    assert sandbox.counters()["google.files.list"] < 5

    last = pages[-1]
    assert isinstance(last.records[0], DocumentScanFinished) and last.records[0].scan
    assert last.cursor["watch"] == {"recipe": settings["folders"]["recipe"]["id"]}
    assert last.cursor["token"].isdigit()
    assert len(last.cursor["folders"]) == 5  # Recipes, Mains, Desserts, Sauces, Base sauces
    assert sandbox.counters().get("google.files.download", 0) == 0  # nothing fetched yet


def test_a_redelivered_scan_resumes_from_its_checkpoint(google, access_token):
    client = drive_client(google, access_token)
    settings = settings_for(google, recipe="Kitchen/Recipes")
    complete = files_in(DriveScan(client, request(settings)).pages())

    first = DriveScan(client, request(settings)).pages()
    before = [next(first), next(first)]  # the task dies after its second page
    resumed = list(DriveScan(client, request(settings, before[-1].checkpoint)).pages())

    ids = [f.external_id for f in files_in(before) + files_in(resumed)]
    assert sorted(ids) == sorted(f.external_id for f in complete)
    assert len(ids) == len(set(ids))  # nothing listed twice
    assert files_in(before) and files_in(resumed)


def test_listing_follows_short_and_empty_pages_to_the_end(google, access_token):
    bulk = google.control(
        "POST",
        "files",
        json={
            "name": "Bulk",
            "parent": "Kitchen/Recipes",
            "mimeType": "application/vnd.google-apps.folder",
        },
    )
    for n in range(180):
        google.control(
            "POST", "files", json={"name": f"Prep sheet {n:03d}.txt", "parent": bulk["id"]}
        )
    google.control("POST", "knobs", json={"partial_pages": True})
    client = drive_client(google, access_token)
    pages = list(
        DriveScan(client, request(settings_for(google, recipe="Kitchen/Recipes/Bulk"))).pages()
    )
    names = sorted(f.name for f in files_in(pages))
    assert names == [f"Prep sheet {n:03d}.txt" for n in range(180)]
    sizes = [len(p.records) for p in pages if not p.cursor]
    assert sizes == [100, 50, 30]  # a short page before the end did not stop the listing


def test_google_docs_are_exported_and_unsupported_types_say_why(google, access_token):
    recipes = google.find("Kitchen/Recipes")["id"]
    google.control(
        "POST",
        "files",
        json={"name": "Plating video.mp4", "parent": recipes, "mimeType": "video/mp4"},
    )
    google.control(
        "POST",
        "files",
        json={
            "name": "Tasting feedback",
            "parent": recipes,
            "mimeType": "application/vnd.google-apps.form",
        },
    )
    client = drive_client(google, access_token)
    files = {
        f.name: f
        for f in files_in(
            DriveScan(client, request(settings_for(google, recipe="Kitchen/Recipes"))).pages()
        )
    }

    index = files["Recipe index"]  # a Google Sheet
    assert index.content.export and index.content.content_type == "application/pdf"
    assert index.revision.startswith("modified:") and not index.checksum
    pdf = files["House Bread.pdf"]
    assert not pdf.content.export and pdf.revision == f"md5:{pdf.checksum}"
    assert files["Plating video.mp4"].content is None
    assert files["Plating video.mp4"].skip_reason == "Unsupported type: video/mp4"
    assert files["Tasting feedback"].skip_reason == "Unsupported type: Google Form"


def test_a_watched_folder_inside_the_other_keeps_its_own_kind(google, access_token):
    client = drive_client(google, access_token)
    settings = settings_for(google, recipe="Kitchen", invoice="Kitchen/Prep lists")
    found = files_in(DriveScan(client, request(settings)).pages())
    assert [f.name for f in found].count("Monday prep list") == 1  # listed once, not per root
    files = {f.name: f for f in found}
    assert files["Monday prep list"].kind == "invoice"
    assert files["Monday prep list"].folder_path == "My Drive / Kitchen / Prep lists"
    assert files["Kitchen inventory"].kind == "recipe"
    assert files["Tiramisu.pdf"].kind == "recipe"


def test_a_folder_picked_while_a_scan_runs_gets_crawled_by_the_next_scan(google, access_token):
    client = drive_client(google, access_token)
    before = settings_for(google, recipe="Kitchen/Recipes")
    first = DriveScan(client, request(before)).pages()
    checkpoint = next(first).checkpoint
    after = settings_for(google, recipe="Kitchen/Recipes", invoice="Accounting/Invoices")
    pages = list(DriveScan(client, request(after, checkpoint)).pages())  # the resumed task
    cursor = pages[-1].cursor
    assert cursor["watch"] == {"recipe": before["folders"]["recipe"]["id"]}
    assert {f.kind for f in files_in(pages)} == {"recipe"}

    following = DriveScan(client, request(after, cursor=cursor))
    assert not next(following.pages()).checkpoint.incremental  # a full crawl


def test_a_changes_token_google_refuses_is_an_expired_cursor(google, access_token, sandbox):
    client = drive_client(google, access_token)
    settings = settings_for(google, recipe="Kitchen/Recipes/Desserts")
    cursor = list(DriveScan(client, request(settings)).pages())[-1].cursor
    listed = sandbox.counters()["google.files.list"]

    with pytest.raises(CursorExpired):
        list(
            DriveScan(client, request(settings, cursor={**cursor, "token": "not-a-token"})).pages()
        )

    assert sandbox.counters()["google.changes.list"] == 1
    assert sandbox.counters()["google.files.list"] == listed  # no crawl of its own


def test_a_cursor_in_a_shape_this_release_cannot_read_means_a_full_crawl(google, access_token):
    client = drive_client(google, access_token)
    settings = settings_for(google, recipe="Kitchen/Recipes/Desserts")
    cursor = list(DriveScan(client, request(settings)).pages())[-1].cursor
    assert next(DriveScan(client, request(settings, cursor=cursor)).pages()).checkpoint.incremental

    unreadable = {**cursor, "folders": {"1abc": {"name": "Desserts"}}}
    first = next(DriveScan(client, request(settings, cursor=unreadable)).pages())
    assert first.checkpoint.phase is Phase.CRAWL and first.checkpoint.scan


def watched_of(pages) -> dict:
    """What the scan hands on for the drawer's kept `watched` lookup (on its last page)."""
    (kept,) = [r for r in pages[-1].records if isinstance(r, LookupData)]
    assert kept.name == "watched"
    return kept.data["folders"]


def test_each_scan_hands_on_the_watched_folders_as_drive_has_them_now(google, access_token):
    client = drive_client(google, access_token)
    recipes, invoices = google.find("Kitchen/Recipes"), google.find("Accounting/Invoices")
    settings = settings_for(google, recipe="Kitchen/Recipes", invoice="Accounting/Invoices")
    first = list(DriveScan(client, request(settings)).pages())
    assert watched_of(first) == {
        recipes["id"]: {"available": True, "path": "My Drive / Kitchen / Recipes"},
        invoices["id"]: {"available": True, "path": "My Drive / Accounting / Invoices"},
    }

    # The folder above Recipes renamed, Invoices trashed: Drive's changes feed says so, and
    # the next (incremental) scan looks at both folders afresh.
    kitchen = google.find("Kitchen")
    google.control("POST", f"files/{kitchen['id']}/modify", json={"name": "Back of house"})
    google.control("POST", f"files/{invoices['id']}/trash")
    following = list(DriveScan(client, request(settings, cursor=first[-1].cursor)).pages())

    assert following[0].checkpoint.incremental
    assert watched_of(following) == {
        recipes["id"]: {"available": True, "path": "My Drive / Back of house / Recipes"},
        invoices["id"]: {"available": False, "reason": "in the Drive trash"},
    }
