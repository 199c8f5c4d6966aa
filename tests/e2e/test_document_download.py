"""Downloading an imported document from the Google drawer: the browser saves Sous' stored
copy under the document's name, and the drawer's Activity says who downloaded it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from sous.documents import downloads
from sous.documents.models import Document
from tests.e2e.conftest import assert_accessible
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    scan,
    watch,
)


def test_download_a_recipe_from_the_drawer(google_config, drive, logged_in, shot):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    scan(google_config)
    page = logged_in
    page.reload()  # the connection and documents were stored beside the page load
    page.get_by_role("button", name="Manage Google").click()
    documents = page.locator("#drawer #documents-google")
    latest = documents.locator(".documents-latest li").first
    expect(latest).to_contain_text("Download")
    name = latest.get_by_role("link").first.inner_text()
    document = Document.objects.get(name=name)
    latest.scroll_into_view_if_needed()
    shot(page, "1-latest-documents")
    assert_accessible(page)

    with page.expect_download() as started:
        latest.get_by_role("link", name=f"Download {name}").click()
    download = started.value

    assert download.suggested_filename == downloads.filename(document)
    with document.content.open("rb") as stored:
        assert Path(download.path()).read_bytes() == stored.read()
    page.reload()
    page.get_by_role("button", name="Manage Google").click()
    activity = page.locator("#drawer").get_by_role("region", name="Activity")
    expect(activity).to_contain_text(f"Downloaded: {name}")
    activity.scroll_into_view_if_needed()
    shot(page, "2-activity")
