"""Two-factor sign-in in the browser: setting up an authenticator app, signing in with its code
or a recovery code, and an organisation that requires it of its owners and admins."""

from __future__ import annotations

import re
import time

import pyotp
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible

REFUSED = "That code is not right or was already used."


def sign_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def sign_out(page, email: str) -> None:
    page.get_by_text(email, exact=True).click()  # the user menu
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to Sous")).to_be_visible()


def enter_code(page, code: str) -> None:
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Sign in").click()


def next_code(secret: str) -> str:
    """A code the server still accepts but has not seen: the one just used to set up is spent
    (allauth remembers it), and the next 30 s step is within the tolerance."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_staff_set_up_an_app_and_sign_in_with_its_code_or_a_recovery_code(
    logged_in, live_app, owner, shot, tmp_path
):
    page = logged_in
    page.get_by_text(owner.email, exact=True).click()
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    expect(page.get_by_text("Not set up").first).to_be_visible()
    shot(page, "overview-off")
    assert_accessible(page)

    page.get_by_role("link", name="Set up an authenticator app").click()
    # allauth checks the password again before a second factor is added.
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = page.locator("#authenticator-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    shot(page, "setup")
    assert_accessible(page)

    page.get_by_label("6-digit code").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text(REFUSED)
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_role("list", name="Unused recovery codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    expect(page.get_by_text("10 of 10 unused.")).to_be_visible()
    shot(page, "recovery-codes")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download codes").click()
    saved = tmp_path / "codes.txt"
    download.value.save_as(saved)
    assert all(code in saved.read_text() for code in codes)
    page.get_by_role("link", name=re.compile("I have saved them")).click()
    page.wait_for_url(f"{live_app.url}/admin/integrations/")
    sign_out(page, owner.email)

    # Password, then the app's code; a wrong code first is refused and says why.
    sign_in(page, live_app.url, owner.email)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert_accessible(page)
    enter_code(page, "123456" if next_code(secret) != "123456" else "654321")
    expect(page.get_by_role("alert")).to_contain_text(REFUSED)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    shot(page, "code-refused")
    assert_accessible(page)
    enter_code(page, next_code(secret))
    page.wait_for_url(f"{live_app.url}/admin/integrations/")
    sign_out(page, owner.email)

    # A recovery code works once.
    sign_in(page, live_app.url, owner.email)
    enter_code(page, codes[0])
    page.wait_for_url(f"{live_app.url}/admin/integrations/")
    page.goto(f"{live_app.url}/accounts/2fa/")
    expect(page.get_by_text("9 of 10 unused.")).to_be_visible()
    shot(page, "overview-on")
    assert_accessible(page)

    # Changing codes or turning it off asks to confirm it's you first, as setup did.
    page.get_by_role("link", name="Generate new codes").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    shot(page, "confirm-password")
    assert_accessible(page)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Generate new recovery codes?")).to_be_visible()
    expect(page.get_by_text("Your 9 unused codes stop working.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Keep my codes").click()
    page.get_by_role("link", name="Turn off").click()
    expect(page.get_by_role("heading", name="Turn off two-factor sign-in?")).to_be_visible()
    shot(page, "turn-off")
    assert_accessible(page)
    page.get_by_role("link", name="Keep it on").click()
    expect(page.get_by_text("9 of 10 unused.")).to_be_visible()
    page.goto(f"{live_app.url}/accounts/2fa/reauthenticate/")
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    assert_accessible(page)
    sign_out(page, owner.email)

    sign_in(page, live_app.url, owner.email)
    enter_code(page, codes[0])
    expect(page.get_by_role("alert")).to_contain_text(REFUSED)
    page.get_by_role("button", name="Cancel and sign out").click()
    expect(page.get_by_role("heading", name="Log in to Sous")).to_be_visible()


def test_an_owner_requires_it_and_an_admin_without_it_is_sent_to_setup(
    page, browser, live_app, org, owner, make_user, shot
):
    secret = generate_totp_secret()
    TOTP.activate(owner, secret)
    RecoveryCodes.activate(owner)
    admin = make_user(org, "admin", email="alex@acme.example")

    sign_in(page, live_app.url, owner.email)
    enter_code(page, pyotp.TOTP(secret).now())
    page.wait_for_url(f"{live_app.url}/admin/integrations/")
    page.goto(f"{live_app.url}/admin/security/")
    expect(page.get_by_role("row", name=re.compile("alex@acme.example"))).to_contain_text(
        "Not set up"
    )
    page.get_by_label("Require two-factor sign-in for owners and admins").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Owners and admins now need two-factor sign-in.")).to_be_visible()
    shot(page, "policy-on")
    assert_accessible(page)

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        theirs = context.new_page()
        sign_in(theirs, live_app.url, admin.email)
        reason = "Acme Bistro requires two-factor sign-in for owners and admins."
        expect(theirs.get_by_role("heading", name="Confirm it's you")).to_be_visible()
        expect(theirs.get_by_role("note")).to_contain_text(reason)
        theirs.get_by_label("Password").fill(PASSWORD)
        theirs.get_by_role("button", name="Confirm").click()
        expect(theirs.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
        expect(theirs.get_by_role("note")).to_contain_text(reason)
        shot(theirs, "admin-sent-to-setup")
        assert_accessible(theirs)

        # Anything else brings them back here until they have set it up.
        theirs.goto(f"{live_app.url}/admin/integrations/")
        expect(theirs.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    finally:
        context.close()
