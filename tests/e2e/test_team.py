"""Admin > Team in the browser: an owner invites by email from the dialog (keyboard only), the
mail reaches a real SMTP server, the invited person sets a password from the link in a browser
of their own and lands on Integrations as a member; then the owner changes their role and
removes them."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from sous.orgs.models import Invitation, Membership
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible

LINK = re.compile(r"https?://\S+/invitations/\S+/")
INVITED = "alex@acme.example"


def test_an_owner_invites_someone_who_joins_then_changes_their_role_and_removes_them(
    logged_in, live_app, browser, smtp, org, shot
):
    page = logged_in
    page.locator(".mainnav summary", has_text="Admin").click()
    page.get_by_role("link", name="Team").click()
    page.wait_for_url(f"{live_app.url}/admin/team/")
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    expect(page.get_by_text("No pending invitations.")).to_be_visible()
    shot(page, "team")
    assert_accessible(page)

    # The dialog: opened from the keyboard, focus on the email field, Escape closes it and
    # gives focus back to Invite.
    invite = page.get_by_role("button", name="Invite", exact=True)
    invite.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Invite to Acme Bistro")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Email")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(invite).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Email")).to_be_focused()
    page.keyboard.type(INVITED)
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("Role")).to_be_focused()
    expect(dialog.get_by_label("Role")).to_have_value("member")
    shot(page, "invite-dialog")
    assert_accessible(page)
    page.keyboard.press("Tab")  # Cancel
    page.keyboard.press("Tab")  # Send invitation
    expect(dialog.get_by_role("button", name="Send invitation")).to_be_focused()
    page.keyboard.press("Enter")

    expect(
        page.get_by_role("status").filter(has_text=f"Invitation sent to {INVITED}")
    ).to_be_visible()
    pending = page.get_by_role("row", name=re.compile(INVITED))
    expect(pending).to_contain_text("Member")
    expect(pending.get_by_role("button", name=f"Resend invitation to {INVITED}")).to_be_visible()
    shot(page, "invitation-pending")

    mail = smtp.wait_for(INVITED)
    assert "maria@acme.example invited you to join Acme Bistro on Sous as member." in mail.body
    [link] = LINK.findall(mail.body)
    assert link.startswith(f"{live_app.url}/invitations/")

    # The invited person, in a browser of their own.
    theirs = browser.new_context(viewport={"width": 1280, "height": 860})
    newcomer = theirs.new_page()
    errors: list[str] = []
    newcomer.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", name="Join Acme Bistro on Sous")).to_be_visible()
    expect(newcomer.get_by_label("Email")).to_have_value(INVITED)
    expect(newcomer.get_by_label("Email")).not_to_be_editable()
    shot(newcomer, "accept")
    assert_accessible(newcomer)
    newcomer.get_by_label("Password", exact=True).fill("plum tart at nine")
    newcomer.get_by_label("Password (again)").fill("plum tart at nine")
    newcomer.get_by_role("button", name="Set password and join").click()
    newcomer.wait_for_url(f"{live_app.url}/admin/integrations/")
    expect(newcomer.get_by_role("heading", name="Integrations")).to_be_visible()
    expect(newcomer.locator(".topbar")).to_contain_text(INVITED)
    expect(newcomer.locator(".menu-note")).to_have_text(
        "Signed in to Acme Bistro as member", use_inner_text=False
    )
    shot(newcomer, "joined")
    theirs.close()
    assert errors == []

    # Back to the owner: the person is on the team; the invitation is no longer pending.
    page.reload()
    person = page.get_by_role("row", name=re.compile(INVITED))
    expect(person.get_by_label(f"Role for {INVITED}")).to_have_value("member")
    expect(page.get_by_text("No pending invitations.")).to_be_visible()
    person.get_by_label(f"Role for {INVITED}").select_option("admin")
    person.get_by_role("button", name=f"Save role for {INVITED}").click()
    expect(page.get_by_role("status").filter(has_text=f"{INVITED} is now admin")).to_be_visible()
    expect(person.get_by_label(f"Role for {INVITED}")).to_have_value("admin")
    assert Membership.objects.get(organization=org, user__email=INVITED).role == "admin"
    shot(page, "role-changed")

    person.get_by_role("button", name=f"Remove {INVITED}").click()
    confirm = page.get_by_role("dialog", name=f"Remove {INVITED}?")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    shot(page, "remove-confirm")
    assert_accessible(page)
    confirm.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status").filter(has_text=f"{INVITED} removed")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(INVITED))).to_have_count(0)
    assert not Membership.objects.filter(organization=org, user__email=INVITED).exists()
    shot(page, "removed")


def test_a_member_sees_the_team_read_only(page, live_app, owner, member, org, shot):
    Invitation.objects.create(
        organization=org,
        email=INVITED,
        role="admin",
        invited_by=owner,
        expires_at=timezone.now() + timedelta(days=7),
    )
    page.goto(f"{live_app.url}/accounts/login/")
    page.fill("input[name=login]", member.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_app.url}/admin/integrations/")

    page.goto(f"{live_app.url}/admin/team/")
    expect(page.get_by_role("note")).to_contain_text("Only owners and admins can invite people")
    expect(page.locator(f"#member-{owner.memberships.get().pk}")).to_contain_text("Owner")
    expect(page.get_by_role("row", name=re.compile(INVITED))).to_contain_text("Admin")
    # No controls at all on the page (hidden dialogs included).
    expect(page.locator("main").locator("button, select, form, dialog")).to_have_count(0)
    shot(page, "member")
    assert_accessible(page)
