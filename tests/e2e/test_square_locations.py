"""A location opened in Square, end to end: the sandbox sends location.created to the running
site, a worker refreshes the locations, and the open drawer shows it "New" and left out of
sales until staff tick it and save."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations.models import IntegrationConfig
from tests.conftest import wait_for
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    square_config_fixture,  # noqa: F401
)

KEY = "e2e-signature-key"


@pytest.fixture
def subscribed(live_app, sandbox, settings):
    """Square (the sandbox) subscribed to this site's webhook URL, as set once per app."""
    url = f"{live_app.url}/integrations/webhooks/square"
    settings.SQUARE_WEBHOOK_SIGNATURE_KEYS = [KEY]
    settings.SQUARE_WEBHOOK_URL = url
    resize(sandbox, orders_per_day=0)  # only the location events this test causes
    sandbox.control("POST", "square/webhooks", json={"notification_url": url, "signature_key": KEY})
    return url


def _settings(config) -> dict:
    return IntegrationConfig.objects.get(pk=config.pk).settings


def test_a_location_opened_in_square_shows_in_the_open_drawer_as_new_until_included(
    square_config, merchant, subscribed, integrations_worker, logged_in, sandbox, shot
):
    page = logged_in
    # Staff chose their locations once: Sous knows these three.
    page.get_by_role("button", name="Manage Square").click()
    section = page.locator("#action-square-sales")
    section.get_by_role("button", name="Save locations").click()
    expect(page.get_by_role("status").filter(has_text="Settings saved")).to_be_visible()

    resize(sandbox, locations=len(merchant["locations"]) + 1)
    opened = next(
        loc
        for loc in sandbox.control("GET", "square/merchants")["merchants"][0]["locations"]
        if loc["id"] not in {known["id"] for known in merchant["locations"]}
    )
    wait_for(
        lambda: opened["id"] in (_settings(square_config).get("new_locations") or []),
        timeout=30,
        message="the new location was never recorded",
    )

    # The refresh's end toasts, then redraws the open drawer: no click. Wait for that redraw
    # to land before ticking anything (a later one would undo the tick).
    drawer = page.locator("#drawer")
    toast = page.get_by_role("status").filter(has_text="Locations refreshed: 4 locations, 1 new")
    expect(toast).to_be_visible(timeout=15_000)
    page.wait_for_load_state("networkidle")
    expect(drawer).to_contain_text(
        f"New location in Square: {opened['name']}, excluded from sales until you include it",
        timeout=15_000,
    )
    row = drawer.locator(f'li[data-location="{opened["id"]}"]')
    expect(row.locator(".badge-new")).to_have_text("New")
    expect(row).to_contain_text("not synced until you include it")
    checkbox = row.get_by_role("checkbox", name=re.compile(re.escape(opened["name"])))
    expect(checkbox).not_to_be_checked()
    shot(page, "new-location")

    checkbox.check()
    drawer.get_by_role("button", name="Save locations").click()
    expect(page.get_by_role("status").filter(has_text="Settings saved").last).to_be_visible()
    wait_for(
        lambda: "new_locations" not in _settings(square_config),
        timeout=10,
        message="saving did not include the new location",
    )
    assert opened["id"] not in _settings(square_config)["excluded_locations"]
    expect(drawer.locator(f'li[data-location="{opened["id"]}"] .badge-new')).to_have_count(0)
