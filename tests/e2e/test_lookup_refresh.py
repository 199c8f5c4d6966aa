"""The Sales section's locations are kept, not asked of Square on every open: a location opened
in Square shows once staff press Refresh beside "Updated …", which is busy while Square
answers and keeps the keyboard where it was."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    square_config_fixture,  # noqa: F401
)


def open_square(page) -> None:
    """Open the drawer and wait for its locations to settle. Until they arrive the drawer still
    holds the last opening's list; once swapped in, htmx takes charge of their Refresh form
    only as they settle (20 ms later), and a key pressed before that posts the form without
    htmx, as it would without JavaScript."""
    with page.expect_response(lambda response: "/lookup/locations/" in response.url):
        page.get_by_role("button", name="Manage Square").click()
    expect(page.locator("#square-locations li[data-location]").first).to_be_visible()
    expect(page.locator("#square-locations.htmx-settling")).to_have_count(0)


def test_refresh_shows_a_location_opened_in_square_since_the_drawer_kept_the_list(
    square_config, merchant, logged_in, sandbox, shot
):
    page = logged_in
    open_square(page)
    section = page.locator("#action-square-sales")
    expect(section.locator("li[data-location]")).to_have_count(len(merchant["locations"]))
    expect(section).to_contain_text("Locations updated")

    resize(sandbox, locations=len(merchant["locations"]) + 1)
    opened = next(
        loc
        for loc in sandbox.control("GET", "square/merchants")["merchants"][0]["locations"]
        if loc["id"] not in {known["id"] for known in merchant["locations"]}
    )
    # Closed and opened again: the kept list, without asking Square.
    page.keyboard.press("Escape")
    open_square(page)
    expect(section.locator("li[data-location]")).to_have_count(len(merchant["locations"]))

    sandbox.knobs(latency_ms=700)  # long enough to see the button busy
    refresh = section.get_by_role("button", name="Refresh locations from Square")
    refresh.focus()
    page.keyboard.press("Enter")
    expect(refresh).to_be_disabled()

    expect(section.locator(f'li[data-location="{opened["id"]}"]')).to_contain_text(opened["name"])
    refresh = section.get_by_role("button", name="Refresh locations from Square")
    expect(refresh).to_be_enabled()
    expect(refresh).to_be_focused()
    expect(section.locator(".lookup-fresh")).to_contain_text(
        re.compile(r"Locations updated (just now|now|\d+ seconds? ago)")
    )
    sandbox.knobs(latency_ms=0)
    section.scroll_into_view_if_needed()
    shot(page, "refreshed-locations")
    assert_accessible(page)
