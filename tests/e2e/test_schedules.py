"""Schedules in the drawer, as an owner uses them: choose how often with the mouse, turn one
off with the keyboard, and read when each runs next."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import Schedule
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    square_config_fixture,  # noqa: F401
)


@pytest.mark.parametrize("width", [1280, 360])
def test_an_owner_chooses_how_often_and_turns_a_schedule_off(square_config, logged_in, shot, width):
    page = logged_in
    # Where the hourly slot falls depends on the connection's offset: put it half an hour out.
    Schedule.objects.filter(config=square_config, action="catalog").update(
        next_run_at=timezone.now() + timedelta(minutes=30, seconds=30)
    )
    page.set_viewport_size({"width": width, "height": 860})
    page.get_by_role("button", name="Manage Square").click()
    catalog = page.locator("#schedule-square-catalog")
    sales = page.locator("#schedule-square-sales")
    expect(catalog.get_by_role("switch")).to_be_checked()
    expect(catalog.get_by_label("Catalog sync: how often")).to_have_value("60")
    expect(catalog).to_contain_text("Next: in 30 min")
    expect(sales).to_contain_text("after each location's day closes")
    catalog.scroll_into_view_if_needed()
    shot(page, f"schedules-{width}")

    catalog.get_by_label("Catalog sync: how often").select_option("15")
    expect(page.locator(".toast", has_text="Catalog sync: every 15 min")).to_be_visible()
    expect(catalog.get_by_label("Catalog sync: how often")).to_have_value("15")
    assert Schedule.objects.get(config=square_config, action="catalog").minutes == 15

    switch = catalog.get_by_role("switch")
    switch.focus()
    expect(switch).to_be_focused()
    page.keyboard.press("Space")
    expect(catalog).to_contain_text("Runs only when started here.")
    expect(catalog.get_by_role("switch")).not_to_be_checked()
    # The swap gives focus back to the switch: a keyboard user keeps their place.
    expect(catalog.get_by_role("switch")).to_be_focused()
    assert not Schedule.objects.get(config=square_config, action="catalog").enabled
    shot(page, f"schedule-off-{width}")
