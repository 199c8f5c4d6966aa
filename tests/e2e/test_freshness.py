"""How current each data type is, on the card and atop its drawer section, and an open alert,
at 1280 and 360 px; the bell at 360 px."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import Schedule
from sous.notifications import alerts
from sous.notifications.alerts import Problem
from tests.e2e.conftest import assert_accessible
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    square_config_fixture,  # noqa: F401
)


def test_overdue_data_and_its_alert_read_in_words_on_a_phone_too(square_config, logged_in, shot):
    Schedule.objects.filter(config=square_config, action="catalog").update(enabled=True, minutes=60)
    square_config.last_synced = {
        "square.catalog": (timezone.now() - timedelta(hours=7)).isoformat()
    }
    square_config.save(update_fields=["last_synced"])
    alerts.open_(
        square_config.organization,
        Problem(
            source="square",
            condition="stale",
            subject="square.catalog",
            title="Square: Catalog updated 7 hours ago",
            detail="Sous has not had this data for longer than its schedule allows.",
            url="/admin/integrations/?open=square",
        ),
    )
    page = logged_in
    page.reload()
    card = page.locator("#card-square")
    expect(card.locator(".fresh-red")).to_contain_text("Catalog updated 7")
    expect(page.locator("#bell")).to_contain_text("Notifications, 1 unread")
    shot(page, "1-card-1280")
    assert_accessible(page)

    page.get_by_role("button", name="Manage Square").click()
    section = page.locator("#drawer [data-freshness=catalog]")
    expect(section).to_contain_text("Catalog updated 7")
    expect(page.locator("#drawer [data-alert=stale]")).to_contain_text("Sync again below")
    shot(page, "2-drawer-1280")
    assert_accessible(page)
    page.keyboard.press("Escape")

    page.set_viewport_size({"width": 360, "height": 780})
    expect(card.locator(".fresh-red")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "3-card-360")
    page.locator("#bell summary").click()
    expect(page.locator("#bell .bell-panel")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "4-bell-360")
    assert_accessible(page)
