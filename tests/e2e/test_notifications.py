"""The bell and the emails, in the browser: a sync's end reaches the bell live; an alert's email
(received by a real SMTP server) links straight to the drawer that fixes it; password resets go
through the same mail path and work."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from integrations.jobs import outcome, triggers
from integrations.models import SyncJob
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    square_config_fixture,  # noqa: F401
)

LINK = re.compile(r"https?://\S+")


def test_a_sync_i_started_reaches_my_bell_live(square_config, logged_in, integrations_worker, shot):
    page = logged_in
    bell = page.locator("#bell")
    expect(bell).to_contain_text("Notifications, none unread")
    page.get_by_role("button", name="Manage Square").click()
    page.locator("#drawer").get_by_role("button", name="Sync Catalog").click()

    expect(bell.locator(".bell-badge")).to_have_text("1", timeout=30_000)
    expect(bell).to_contain_text("Notifications, 1 unread")
    page.keyboard.press("Escape")  # the drawer
    bell.locator("summary").click()
    item = bell.get_by_role("link", name=re.compile(r"Catalog (synced|up to date)"))
    expect(item).to_be_visible()
    shot(page, "bell-open")
    assert_accessible(page)

    bell.get_by_role("button", name="Mark all read").click()
    expect(bell).to_contain_text("Notifications, none unread")
    expect(bell.locator(".bell-badge")).to_have_count(0)


def test_an_alert_email_links_to_the_drawer_that_fixes_it(
    square_config, page, live_app, owner, integrations_worker, smtp, shot
):
    job, _ = triggers.request(square_config, "catalog", {}, trigger=SyncJob.Trigger.SCHEDULE)
    outcome.fail(job, "Square kept answering 500", "HTTP 500 x5")

    mail = smtp.wait_for(owner.email)
    assert mail.subject == "[Sous] Square: the automatic catalog sync failed"
    assert "Square kept answering 500" in mail.body
    [link] = [url for url in LINK.findall(mail.body) if "?open=square" in url]
    assert link == f"{live_app.url}/admin/integrations/?open=square"

    page.goto(link)  # not logged in yet: the login page, then straight on
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    drawer = page.locator("#drawer")
    expect(drawer).to_be_visible()
    alert = drawer.locator("[data-alert=job_failed]")
    expect(alert).to_contain_text("Square: the automatic catalog sync failed")
    expect(alert.get_by_role("link", name="Sync again below")).to_be_visible()
    expect(page.locator("#card-square")).to_contain_text("the automatic catalog sync failed")
    shot(page, "alert-drawer")
    assert_accessible(page)


def test_a_forgotten_password_is_reset_through_the_emailed_link(page, live_app, owner, smtp):
    page.goto(f"{live_app.url}/accounts/password/reset/")
    page.fill("input[name=email]", owner.email)
    page.get_by_role("button", name=re.compile("Reset", re.I)).click()
    expect(page.locator("body")).to_contain_text(re.compile("sent", re.I))

    mail = smtp.wait_for(owner.email)
    [link] = [url for url in LINK.findall(mail.body) if "/password/reset/key/" in url]
    assert link.startswith(live_app.url)
    page.goto(link)
    page.fill("input[name=password1]", "a new kitchen password 42")
    page.fill("input[name=password2]", "a new kitchen password 42")
    page.get_by_role("button", name=re.compile("Change|Set", re.I)).click()
    expect(page.locator("body")).to_contain_text(re.compile("changed", re.I))

    page.goto(f"{live_app.url}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", "a new kitchen password 42")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_app.url}/admin/integrations/")
