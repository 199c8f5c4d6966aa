"""Scan Now against the sandbox: the job machinery, the Drive scan and the documents importer.

Each test connects Maria's Drive with real sandbox tokens, picks watched folders, and runs the
job in this thread (triggers.request then execute.run), reading the sandbox's counters to prove
what was listed and downloaded.
"""

from __future__ import annotations

import hashlib
import logging

import pytest
from django.core.files.storage import default_storage

from integrations.models import SyncJob
from sous.documents.models import Document
from sous.documents.signals import documents_imported
from tests.integrations.google_drive import (
    downloads,
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    scan,
    watch,
)
from tests.integrations.test_token_secrecy import GroupListener

pytestmark = pytest.mark.django_db

FOLDER = "application/vnd.google-apps.folder"
EDITOR_TYPES = {
    "application/vnd.google-apps.document",
    "application/vnd.google-apps.spreadsheet",
    "application/vnd.google-apps.presentation",
}


def doc(name: str) -> Document:
    return Document.objects.get(name=name)


def stored_bytes(document: Document) -> bytes:
    with default_storage.open(document.content.name) as handle:
        return handle.read()


def tree_files(drive, prefix: str) -> set[str]:
    return {
        item["id"]
        for item in drive.control("GET", "tree")["files"]
        if item["path"].startswith(prefix + "/")
        and item["mimeType"] != FOLDER
        and not item["trashed"]
    }


def test_the_first_scan_imports_every_file_of_both_folders_with_its_content(
    google_config, drive, sandbox, org
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    watch(google_config, drive, "invoice", "Accounting/Invoices")
    job = scan(google_config)

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    recipes, invoices = (
        tree_files(drive, "Kitchen/Recipes"),
        tree_files(drive, "Accounting/Invoices"),
    )
    assert job.summary == (
        f"Drive scanned: {len(recipes)} recipes, {len(invoices)} invoices "
        f"({len(recipes) + len(invoices)} new)"
    )
    documents = Document.objects.filter(organization=org, source="google")
    assert set(documents.filter(kind="recipe").values_list("external_id", flat=True)) == recipes
    assert set(documents.filter(kind="invoice").values_list("external_id", flat=True)) == invoices
    assert downloads(sandbox) == len(recipes) + len(invoices)

    bechamel = doc("Béchamel.pdf")
    assert bechamel.folder_path == "My Drive / Kitchen / Recipes / Sauces / Base sauces"
    meta = drive.control("GET", f"files/{bechamel.external_id}")
    assert (bechamel.checksum, bechamel.size) == (meta["md5Checksum"], int(meta["size"]))
    assert bechamel.mime_type == "application/pdf" and bechamel.status == "active"
    assert bechamel.web_url.startswith("https://drive.google.com/file/d/")
    assert hashlib.md5(stored_bytes(bechamel)).hexdigest() == meta["md5Checksum"]
    assert job.progress_message.endswith(f"{len(recipes) + len(invoices)} downloaded")
    assert google_config.last_synced.get("google.scan")


def test_google_docs_sheets_and_slides_are_exported_to_pdf(google_config, drive, sandbox):
    watch(google_config, drive, "recipe", "Kitchen")
    drive.control(
        "POST",
        "files",
        json={
            "name": "Spring menu deck",
            "parent": "Kitchen",
            "mimeType": "application/vnd.google-apps.presentation",
        },
    )
    scan(google_config)
    for name in ("Recipe index", "Monday prep list", "Spring menu deck"):
        exported = doc(name)
        assert exported.content_type == "application/pdf", name
        assert exported.content.name.endswith(".pdf")
        assert stored_bytes(exported).startswith(b"%PDF")
    editors = [
        item
        for item in drive.control("GET", "tree")["files"]
        if item["path"].startswith("Kitchen/") and item["mimeType"] in EDITOR_TYPES
    ]
    assert len(editors) >= 5  # Docs and Sheets among the recipes, the deck
    assert sandbox.counters()["google.files.export"] == len(editors)
    assert sandbox.counters().get("google.files.download", 0) == (
        Document.objects.count() - len(editors)
    )


def test_a_second_scan_reads_the_changes_feed_and_downloads_nothing_unchanged(
    google_config, drive, sandbox
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    first = scan(google_config)
    fetched, listed = downloads(sandbox), sandbox.counters()["google.files.list"]

    second = scan(google_config)
    assert (
        second.summary == f"Drive scanned: {Document.objects.count()} recipes, 0 invoices (0 new)"
    )
    assert downloads(sandbox) == fetched  # no file downloaded again
    assert sandbox.counters()["google.files.list"] == listed  # no crawl either
    assert sandbox.counters()["google.changes.list"] == 1
    assert first.status == second.status == SyncJob.Status.SUCCEEDED


def test_a_full_rescan_does_not_download_unchanged_files_again(google_config, drive, sandbox):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    scan(google_config)
    fetched = downloads(sandbox)
    google_config.cursors = {}  # as if the changes token were lost: a full crawl
    google_config.save(update_fields=["cursors"])

    again = scan(google_config)
    assert again.counts["unchanged"] == Document.objects.count()
    assert downloads(sandbox) == fetched
    assert again.summary.endswith("(0 new)")


def test_changes_are_picked_up_incrementally(google_config, drive, sandbox):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    scan(google_config)
    fetched, listed = downloads(sandbox), sandbox.counters()["google.files.list"]
    tiramisu, lemon = doc("Tiramisu.pdf"), doc("Lemon Tart.pdf")
    old_tiramisu = tiramisu.content.name
    mains = drive.find("Kitchen/Recipes/Mains")["id"]

    added = drive.control("POST", "files", json={"name": "Duck Confit.pdf", "parent": mains})
    drive.control(
        "POST", f"files/{tiramisu.external_id}/modify", json={"content": "More mascarpone"}
    )
    drive.control("POST", f"files/{lemon.external_id}/trash")
    drive.control("POST", f"files/{doc('Béchamel.pdf').external_id}/move", json={"parent": mains})
    notes = drive.find("Notes.txt")  # a loose file in My Drive, moved in
    drive.control("POST", f"files/{notes['id']}/move", json={"parent": "Kitchen/Recipes/Desserts"})
    drive.control(
        "POST", f"files/{doc('Chimichurri.pdf').external_id}/move", json={"parent": "root"}
    )
    drive.control("POST", "files", json={"name": "Unrelated.pdf", "parent": "Staff"})

    job = scan(google_config)
    assert job.summary.endswith("(2 new, 2 changed, 2 removed)"), job.summary
    assert sandbox.counters()["google.files.list"] == listed  # incremental: no listing
    assert downloads(sandbox) == fetched + 3  # Duck Confit, Tiramisu's new bytes, Notes

    assert doc("Duck Confit.pdf").external_id == added["id"]
    assert doc("Duck Confit.pdf").folder_path == "My Drive / Kitchen / Recipes / Mains"
    tiramisu.refresh_from_db()
    assert tiramisu.content.name != old_tiramisu
    assert b"More mascarpone" in stored_bytes(tiramisu)
    lemon.refresh_from_db()
    assert (lemon.status, lemon.removed_reason) == ("removed", "moved to the Drive trash")
    assert default_storage.exists(lemon.content.name)  # removed, content kept
    assert doc("Béchamel.pdf").folder_path == "My Drive / Kitchen / Recipes / Mains"
    assert doc("Notes.txt").folder_path == "My Drive / Kitchen / Recipes / Desserts"
    chimichurri = doc("Chimichurri.pdf")
    assert (chimichurri.status, chimichurri.removed_reason) == (
        "removed",
        "moved out of the watched folders",
    )
    assert not Document.objects.filter(name="Unrelated.pdf").exists()


def test_folders_moved_in_out_or_renamed_carry_their_files(google_config, drive, sandbox):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    scan(google_config)
    fetched = downloads(sandbox)
    base_sauces = drive.find("Kitchen/Recipes/Sauces/Base sauces")["id"]
    in_base = set(
        Document.objects.filter(folder_id=base_sauces).values_list("external_id", flat=True)
    )
    drive.control("POST", f"files/{base_sauces}/move", json={"parent": "root"})
    photos = drive.find("Marketing/Instagram photos")["id"]
    drive.control("POST", f"files/{photos}/move", json={"parent": "Kitchen/Recipes"})
    desserts = drive.find("Kitchen/Recipes/Desserts")["id"]
    drive.control("POST", f"files/{desserts}/modify", json={"name": "Sweets"})

    job = scan(google_config)
    assert job.status == SyncJob.Status.SUCCEEDED
    gone = Document.objects.filter(external_id__in=in_base)
    assert len(in_base) == 4 and {d.status for d in gone} == {"removed"}
    assert {d.removed_reason for d in gone} == {"moved out of the watched folders"}
    moved_in = Document.objects.filter(folder_id=photos)
    assert moved_in.count() == 3 and {d.kind for d in moved_in} == {"recipe"}
    assert {d.folder_path for d in moved_in} == {"My Drive / Kitchen / Recipes / Instagram photos"}
    sweets = Document.objects.filter(folder_id=desserts)
    assert {d.folder_path for d in sweets} == {"My Drive / Kitchen / Recipes / Sweets"}
    assert {d.status for d in sweets} == {"active"}
    assert downloads(sandbox) == fetched + 3  # only the photos that moved in


def test_a_changes_token_google_refuses_starts_the_scan_over_as_a_full_crawl(
    google_config, drive, sandbox, org
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes/Desserts")
    scan(google_config)
    google_config.cursors["google.scan"]["token"] = "not-a-token"
    google_config.save(update_fields=["cursors"])
    listed = sandbox.counters()["google.files.list"]
    drive.control(
        "POST", "files", json={"name": "Pavlova.pdf", "parent": "Kitchen/Recipes/Desserts"}
    )
    page = GroupListener(org.id)

    job = scan(google_config)
    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert job.summary == "Drive scanned: 5 recipes, 0 invoices (1 new)"
    assert sandbox.counters()["google.changes.list"] == 1  # refused once, never asked again
    assert sandbox.counters()["google.files.list"] > listed
    notes = [m for m in page.drain() if "Google no longer accepts where the last sync" in m]
    assert notes, "the bar did not say why the scan starts over"
    google_config.refresh_from_db()
    assert google_config.cursors["google.scan"]["token"].isdigit()


def test_changing_the_watched_folder_rescans_and_retires_what_left(google_config, drive):
    watch(google_config, drive, "recipe", "Kitchen/Recipes/Desserts")
    scan(google_config)
    desserts = set(Document.objects.values_list("external_id", flat=True))
    watch(google_config, drive, "recipe", "Kitchen/Recipes/Mains")

    job = scan(google_config)
    assert job.summary == "Drive scanned: 4 recipes, 0 invoices (4 new, 4 removed)"
    retired = Document.objects.filter(external_id__in=desserts)
    assert {(d.status, d.removed_reason) for d in retired} == {
        ("removed", "no longer in a watched folder")
    }


def test_files_over_the_size_cap_and_unsupported_types_are_skipped_with_the_reason(
    google_config, drive, sandbox, settings
):
    settings.DOCUMENTS_MAX_FILE_BYTES = 25 * 1024 * 1024
    watch(google_config, drive, "invoice", "Accounting/Invoices/2025-12")
    parent = "Accounting/Invoices/2025-12"
    drive.control(
        "POST", "files", json={"name": "Scan of a year.pdf", "parent": parent, "size": 30 * 2**20}
    )
    drive.control(
        "POST",
        "files",
        json={"name": "Delivery.mov", "parent": parent, "mimeType": "video/quicktime"},
    )

    job = scan(google_config)
    big, movie = doc("Scan of a year.pdf"), doc("Delivery.mov")
    assert (big.status, big.skip_reason) == ("skipped", "Larger than the 25 MB limit (30 MB)")
    assert big.size == 30 * 2**20 and not big.content
    assert (movie.status, movie.skip_reason) == ("skipped", "Unsupported type: video/quicktime")
    assert downloads(sandbox) == 4  # the month's four invoices; never the 30 MB file
    assert job.summary == "Drive scanned: 0 recipes, 6 invoices (4 new, 2 skipped)"

    # The same files unchanged on the next scan: still skipped, not counted again.
    again = scan(google_config)
    assert again.summary == "Drive scanned: 0 recipes, 6 invoices (0 new)"


def test_a_deleted_watched_folder_is_flagged_and_its_documents_marked_removed(
    google_config, drive, owner_client
):
    recipes = watch(google_config, drive, "recipe", "Kitchen/Recipes/Mains")
    watch(google_config, drive, "invoice", "Accounting/Invoices/2025-12")
    scan(google_config)
    drive.control("POST", f"files/{recipes['id']}/delete")

    job = scan(google_config)
    assert job.summary == (
        "Drive scanned: 0 recipes, 4 invoices (0 new, 4 removed). "
        "Recipes folder no longer available, pick another"
    )
    mains = Document.objects.filter(kind="recipe")
    assert {d.status for d in mains} == {"removed"} and all(d.content for d in mains)

    page = owner_client.get(
        f"/integrations/google/lookup/watched/?recipe={recipes['id']}"
        f"&invoice={google_config.settings['folders']['invoice']['id']}"
    ).content.decode()
    assert page.count("Folder no longer available, pick another") == 1
    assert "My Drive / Kitchen / Recipes / Mains" in page  # which one, so staff know
    assert "Available" in page  # the invoices folder is fine


def test_a_folder_in_a_shared_drive_is_scanned(google_config, drive, sandbox):
    watch(google_config, drive, "recipe", "Acme Bistro — Shared/Recipes (shared)")
    job = scan(google_config)
    shared = Document.objects.filter(kind="recipe")
    assert (
        job.summary == f"Drive scanned: {shared.count()} recipes, 0 invoices ({shared.count()} new)"
    )
    assert shared.count() == 4
    assert {d.folder_path for d in shared} == {"Acme Bistro — Shared / Recipes (shared)"}
    assert all(d.content for d in shared if d.status == "active")

    # Changes in the shared drive arrive through the same feed.
    drive.control(
        "POST",
        "files",
        json={"name": "Sourdough.pdf", "parent": "Acme Bistro — Shared/Recipes (shared)"},
    )
    assert scan(google_config).summary.endswith("(1 new)")


def test_rate_limits_are_retried_and_the_scan_completes(google_config, drive, sandbox):
    watch(google_config, drive, "recipe", "Kitchen/Recipes/Desserts")
    sandbox.knobs(rate_429=0.3, retry_after=0)
    job = scan(google_config)
    assert sandbox.counters().get("google.injected.429", 0) >= 2
    assert job.status == SyncJob.Status.SUCCEEDED, job.error
    assert Document.objects.filter(status="active").count() == 4


def test_an_access_token_google_refuses_as_expired_is_refreshed_and_the_scan_goes_on(
    google_config, drive, sandbox
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes/Desserts")
    sandbox.control("POST", "google/tokens/expire")
    job = scan(google_config)
    assert job.status == SyncJob.Status.SUCCEEDED
    assert sandbox.counters()["google.oauth.token.refresh_token"] == 1
    assert Document.objects.count() == 4


def test_each_committed_page_tells_other_domains_what_it_touched(
    google_config, drive, org, django_capture_on_commit_callbacks
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes/Desserts")
    seen = []

    def receiver(sender, organization, source, ids, **kwargs):
        seen.append((organization, source, set(ids)))

    documents_imported.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            scan(google_config)
    finally:
        documents_imported.disconnect(receiver)
    assert seen and {(o, s) for o, s, _ in seen} == {(org, "google")}
    assert set().union(*(ids for _, _, ids in seen)) == set(
        Document.objects.values_list("pk", flat=True)
    )


def test_no_google_token_reaches_logs_job_rows_or_documents(google_config, drive, sandbox, caplog):
    watch(google_config, drive, "recipe", "Kitchen/Recipes/Desserts")
    with caplog.at_level(logging.DEBUG):
        first = scan(google_config)
        drive.control(
            "POST", "files", json={"name": "Pavlova.pdf", "parent": "Kitchen/Recipes/Desserts"}
        )
        sandbox.control("POST", "google/tokens/expire")
        second = scan(google_config)  # refreshes the token mid-job
    issued = sandbox.issued_tokens()
    assert len(issued) >= 3  # access + refresh, and the refreshed access token
    seen = [caplog.text, repr(google_config.cursors), repr(google_config.settings)]
    for job in (first, second):
        seen += [
            repr(job.checkpoint),
            repr(job.counts),
            job.summary,
            job.error_detail,
            job.progress_message,
            repr(job.params),
        ]
    seen += [repr(d.__dict__) for d in Document.objects.all()]
    leaks = [token for token in issued for text in seen if token in text]
    assert not leaks
