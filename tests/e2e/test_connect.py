"""Connecting, managing and disconnecting Square as staff would, in a real browser."""

import re

from playwright.sync_api import expect

from integrations.models import IntegrationConfig
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible


def card(page, key):
    return page.locator(f"#card-{key}")


def connect_square(page, *, decision="Allow"):
    with page.expect_popup() as opened:
        card(page, "square").get_by_role("link", name=re.compile("Connect|Reconnect")).click()
    popup = opened.value
    popup.wait_for_load_state()
    expect(popup.get_by_role("button", name="Allow")).to_be_visible()
    # Listening before the click: the callback page can close the popup while click() still
    # waits on the navigation it started, and a close that came first would never be seen.
    with popup.expect_event("close", timeout=20_000):
        popup.get_by_role("button", name=decision).click()


def test_connect_in_a_popup_turns_the_card_green_without_a_reload(logged_in, shot):
    page = logged_in
    expect(card(page, "square")).to_have_attribute("data-state", "not_connected")
    shot(page, "1-not-connected")
    assert_accessible(page)
    page.evaluate("window.__sameDocument = true")
    connect_square(page)
    expect(card(page, "square")).to_have_attribute("data-state", "connected")
    expect(card(page, "square")).to_contain_text("Active")
    expect(card(page, "square")).to_contain_text("Connected as")
    expect(page.get_by_role("status").filter(has_text="Square connected")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    shot(page, "2-connected")
    assert_accessible(page)


def test_deny_keeps_the_card_not_connected_and_says_cancelled(logged_in, shot):
    page = logged_in
    connect_square(page, decision="Deny")
    expect(page.get_by_role("status").filter(has_text="Connection cancelled")).to_be_visible()
    expect(card(page, "square")).to_have_attribute("data-state", "not_connected")
    shot(page, "cancelled")
    assert not IntegrationConfig.objects.exists()


def test_manage_revoke_reconnect_and_disconnect(logged_in, sandbox, shot):
    page = logged_in
    connect_square(page)
    expect(card(page, "square")).to_have_attribute("data-state", "connected")

    page.get_by_role("button", name="Manage Square").click()
    drawer = page.locator("#drawer")
    expect(drawer).to_be_visible()
    expect(drawer).to_contain_text("Connection healthy")
    expect(drawer).to_contain_text("Connected as")
    shot(page, "1-drawer-healthy")
    assert_accessible(page)

    merchant = IntegrationConfig.objects.get().external_account_id
    sandbox.control("POST", f"square/merchants/{merchant}/revoke")
    drawer.get_by_role("button", name="Check again").click()
    expect(drawer.locator("#health")).to_contain_text("Re-auth required")
    expect(card(page, "square")).to_have_attribute("data-state", "error")
    shot(page, "2-drawer-reauth-required")
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(card(page, "square")).to_contain_text("Re-auth required")
    shot(page, "3-card-error")

    connect_square(page)
    expect(card(page, "square")).to_have_attribute("data-state", "connected")
    page.get_by_role("button", name="Manage Square").click()
    expect(drawer.locator("#health")).to_contain_text("Connection healthy")
    shot(page, "4-reconnected-healthy")

    drawer.get_by_role("button", name="Disconnect & Delete Credentials").click()
    dialog = page.locator("#confirm-disconnect")
    expect(dialog).to_contain_text("This will stop all data synchronization.")
    shot(page, "5-confirm-disconnect")
    dialog.get_by_role("button", name="Disconnect & Delete Credentials").click()
    expect(card(page, "square")).to_have_attribute("data-state", "not_connected")
    expect(page.get_by_role("status").filter(has_text="Square disconnected")).to_be_visible()
    expect(drawer).to_be_hidden()
    shot(page, "6-disconnected")
    assert not IntegrationConfig.objects.exists()


def test_the_page_works_at_phone_width(logged_in, shot):
    page = logged_in
    page.set_viewport_size({"width": 360, "height": 780})
    expect(card(page, "square")).to_be_visible()
    shot(page, "mobile")


def test_sous_opened_at_127_0_0_1_moves_to_the_public_origin_and_connect_works(
    page, live_app, sandbox, owner, settings, shot
):
    """uvicorn prints 127.0.0.1; the public origin (and so the OAuth redirect URI) says
    localhost. The session must be made where the popup comes back."""
    public = f"http://localhost:{live_app.port}"
    settings.PUBLIC_BASE_URL = public
    settings.CSRF_TRUSTED_ORIGINS = [public]
    sandbox.control(
        "POST", "square/redirect-uris", json={"uri": f"{public}/integrations/callback/square"}
    )
    page.goto(f"http://127.0.0.1:{live_app.port}/")
    page.wait_for_url(re.compile(rf"^{re.escape(public)}/accounts/login/"))
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{public}/admin/integrations/")

    connect_square(page)
    expect(card(page, "square")).to_have_attribute("data-state", "connected")
    expect(page.get_by_role("status").filter(has_text="Square connected")).to_be_visible()
    shot(page, "connected-on-the-public-origin")
