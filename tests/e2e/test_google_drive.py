"""Picking a Drive folder in the drawer and running Scan Now to the finishing toast; a change
in Drive reaching the drawer on its own."""

from __future__ import annotations

from playwright.sync_api import expect

from integrations.jobs import triggers
from integrations.models import NotificationChannel, SyncJob
from integrations.webhooks import channels
from sous.documents.models import Document
from tests.conftest import wait_for
from tests.e2e.conftest import assert_accessible
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    watch,
)


def test_pick_the_recipes_folder_and_scan_now(
    google_config, integrations_worker, logged_in, drive, shot
):
    page = logged_in
    page.reload()  # the connection was stored beside the page load
    page.get_by_role("button", name="Manage Google").click()
    drawer = page.locator("#drawer")
    expect(drawer).to_contain_text("Connection healthy")
    recipes = drawer.locator("#watched-recipe")
    expect(recipes).to_contain_text("No folder chosen yet.")

    recipes.get_by_text("Choose folder").click()
    picker = recipes.locator(".folder-picker")
    expect(picker.get_by_role("button", name="Open My Drive", exact=True)).to_be_visible()
    expect(picker).to_contain_text("Acme Bistro — Shared")
    shot(page, "1-picker-tops")
    assert_accessible(page)

    # Browse down one level, then search by name from there.
    picker.get_by_role("button", name="Open My Drive", exact=True).click()
    picker = recipes.locator(".folder-picker")
    expect(picker.get_by_role("button", name="Open My Drive / Kitchen", exact=True)).to_be_visible()
    expect(picker.get_by_role("button", name="Use My Drive as the Recipes folder")).to_be_visible()
    shot(page, "2-picker-my-drive")
    picker.get_by_label("Search folders by name").fill("Rec")
    expect(picker.locator(".folder-where").first).to_have_text("My Drive / Kitchen / Recipes")
    shot(page, "3-picker-search")
    picker.get_by_role(
        "button", name="Use My Drive / Kitchen / Recipes as the Recipes folder"
    ).click()

    expect(page.get_by_role("status").filter(has_text="Settings saved")).to_be_visible()
    recipes = page.locator("#drawer #watched-recipe")
    expect(recipes).to_contain_text("My Drive / Kitchen / Recipes")
    expect(recipes).to_contain_text("Available")

    page.get_by_role("button", name="Scan Now").click()
    expect(page.get_by_role("status").filter(has_text="Drive scan started")).to_be_visible()
    count = sum(  # every file under Kitchen/Recipes in the seeded Drive
        1
        for item in drive.control("GET", "tree")["files"]
        if item["path"].startswith("Kitchen/Recipes/")
        and item["mimeType"] != "application/vnd.google-apps.folder"
    )
    finished = f"Drive scanned: {count} recipes, 0 invoices ({count} new)"
    expect(page.get_by_role("status").filter(has_text=finished)).to_be_visible(timeout=30_000)
    documents = page.locator("#drawer #documents-google")
    expect(documents).to_contain_text(f"{count} recipes")
    href = documents.get_by_role("link").first.get_attribute("href")
    assert href.startswith(("https://drive.google.com/", "https://docs.google.com/"))
    shot(page, "4-scanned")
    assert Document.objects.filter(kind="recipe", status="active").count() == count


def test_a_recipe_added_in_drive_is_imported_without_a_click(
    google_config, integrations_worker, logged_in, drive, shot
):
    """Drive's push channel, opened once a folder is watched, brings the change to the page."""
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    job, _ = triggers.request(google_config, "scan", {})  # the worker runs it
    wait_for(lambda: SyncJob.objects.get(pk=job.pk).status == SyncJob.Status.SUCCEEDED)
    before = Document.objects.filter(kind="recipe", status="active").count()
    channels.reconcile(google_config)  # what saving the folder in the drawer asks a worker for
    assert NotificationChannel.objects.filter(config=google_config).exists()

    page = logged_in
    page.reload()
    page.get_by_role("button", name="Manage Google").click()
    drawer = page.locator("#drawer")
    expect(drawer.locator("[data-live-updates]")).to_contain_text("Live updates on")
    expect(drawer.locator("#documents-google")).to_contain_text(f"{before} recipes")

    drive.control(
        "POST",
        "files",
        json={"name": "Tarte Tatin.txt", "parent": "Kitchen/Recipes", "content": "apples"},
    )
    finished = page.get_by_role("status").filter(has_text="(1 new)")
    expect(finished).to_be_visible(timeout=30_000)
    expect(drawer.locator("#documents-google")).to_contain_text(f"{before + 1} recipes")
    expect(drawer.locator("[data-live-updates]")).to_contain_text("last event")
    expect(drawer.locator("#recent-jobs")).to_contain_text("Drive changed")
    shot(page, "5-pushed")
    assert_accessible(page)
    assert Document.objects.filter(name="Tarte Tatin.txt", status="active").exists()
