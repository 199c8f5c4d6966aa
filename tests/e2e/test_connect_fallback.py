"""When the browser blocks the popup, Connect runs as a full-page redirect instead."""

from playwright.sync_api import expect


def test_a_blocked_popup_falls_back_to_a_full_page_flow(logged_in, shot):
    page = logged_in
    page.evaluate("window.open = () => null")  # what a popup blocker does
    page.locator("#card-google").get_by_role("link", name="Connect Google").click()
    page.wait_for_url("**/o/oauth2/v2/auth**")
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    shot(page, "1-consent-full-page")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/admin/integrations/")
    expect(page.locator("#card-google")).to_have_attribute("data-state", "connected")
    expect(page.get_by_role("status").filter(has_text="Google connected")).to_be_visible()
    shot(page, "2-back-on-the-grid")
