"""Syncing Square from the Manage drawer in a real browser, with a real worker."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from integrations.models import SyncJob
from sous.catalog.models import Item
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    square_config_fixture,  # noqa: F401
)


def test_sync_catalog_shows_progress_then_the_result_and_last_synced(
    logged_in, square_config, sandbox, integrations_worker, shot
):
    page = logged_in
    # Slow enough to watch the bar move: the items take four pages of 800 ms, longer than
    # the page's 3 s polling interval should the socket be down.
    resize(sandbox, items=3500)
    sandbox.knobs(latency_ms=800)
    page.reload()
    card = page.locator("#card-square")
    expect(card).to_contain_text("Last synced never")

    page.get_by_role("button", name="Manage Square").click()
    drawer = page.locator("#drawer")
    section = drawer.locator("#action-square-catalog")
    expect(section).to_contain_text("Last synced never")
    shot(page, "1-drawer")
    section.get_by_role("button", name="Sync Catalog").click()

    expect(
        page.get_by_role("status").filter(
            has_text="Catalog sync started. We'll notify you when it's ready."
        )
    ).to_be_visible()
    bar = section.get_by_role("progressbar")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("aria-valuenow", "50", timeout=15_000)
    expect(card).to_contain_text("Sync in progress")
    shot(page, "2-in-progress")

    expect(
        page.get_by_role("status").filter(
            has_text="Catalog synced: 3,500 items, 14 categories, 8 modifier lists"
        )
    ).to_be_visible(timeout=30_000)
    expect(drawer).to_contain_text(re.compile(r"Last synced\s+(just now|now|\d+\s+seconds? ago)"))
    expect(card).to_contain_text(re.compile(r"Last synced\s+(just now|now|\d+\s+seconds? ago)"))
    expect(drawer.locator(".catalog-counts")).to_contain_text("3,500 menu items")
    shot(page, "3-synced")
    assert Item.objects.count() == 3500
    assert SyncJob.objects.get().status == SyncJob.Status.SUCCEEDED


def test_the_sales_section_lists_locations_with_windows_and_explains_bad_ranges(
    square_config, merchant, logged_in, shot
):
    page = logged_in
    page.get_by_role("button", name="Manage Square").click()
    section = page.locator("#action-square-sales")
    for location in merchant["locations"]:
        expect(section).to_contain_text(f"{location['name']} ({location['timezone']})")
    expect(section.locator("[data-window]").first).to_contain_text(re.compile(r"\d\d:\d\d → "))
    shot(page, "1-sales")

    section.get_by_label("From").fill("2024-03-05")
    section.get_by_label("To").fill("2024-03-01")
    section.get_by_role("button", name="Sync Range").click()

    alert = section.get_by_role("alert")
    expect(alert).to_have_text("The start date must be on or before the end date.")
    expect(section.get_by_label("From")).to_have_value("2024-03-05")
    shot(page, "2-bad-range")
    assert not SyncJob.objects.exists()
    # That 400 was the point of the test, not a failure of the page.
    expected = ("/integrations/square/actions/sales/", "status of 400 (Bad Request)")
    page.console_errors[:] = [e for e in page.console_errors if not any(x in e for x in expected)]
