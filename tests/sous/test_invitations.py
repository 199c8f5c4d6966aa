"""Invitations: the emailed link is signed, expires, works once, and resend/revoke kill it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from sous.orgs.models import Invitation, Membership
from tests.conftest import PASSWORD

NEW_EMAIL = "alex@acme.example"
NEW_PASSWORD = "plum tart at nine"
LINK = re.compile(r"https?://\S+/invitations/\S+/")


def link_in(mail) -> str:
    found = LINK.findall(mail.body)
    assert len(found) == 1, mail.body
    return found[0]


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


@pytest.fixture
def invite(owner_client, mailoutbox):
    """invite(email, role) as the owner through Admin > Team; returns the emailed link's path."""

    def send(email: str = NEW_EMAIL, role: str = "member") -> str:
        sent_before = len(mailoutbox)
        response = owner_client.post(reverse("orgs:invite"), {"email": email, "role": role})
        assert response.status_code == 302, response.content.decode()
        assert len(mailoutbox) == sent_before + 1
        return path_of(link_in(mailoutbox[-1]))

    return send


def users_with(email: str) -> int:
    return get_user_model().objects.filter(email__iexact=email).count()


def test_the_mail_says_who_invited_whom_to_what_with_an_absolute_link_and_expiry(
    owner_client, smtp, settings
):
    settings.PUBLIC_BASE_URL = "https://sous.example"
    owner_client.post(reverse("orgs:invite"), {"email": NEW_EMAIL, "role": "admin"})

    mail = smtp.wait_for(NEW_EMAIL)
    assert mail.subject == "[Sous] Join Acme Bistro on Sous"
    assert "maria@acme.example invited you to join Acme Bistro on Sous as admin." in mail.body
    # From PUBLIC_BASE_URL, never from the request's Host (here "testserver").
    assert link_in(mail).startswith("https://sous.example/invitations/")
    invitation = Invitation.objects.get(email=NEW_EMAIL)
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    assert f"expires on {invitation.expires_at:%-d %B %Y}" in mail.body


def test_accepting_creates_a_verified_account_and_membership_and_logs_in(
    invite, client_factory, org
):
    path = invite(role="admin")
    browser = client_factory()

    page = browser.get(path).content.decode()
    assert "Join Acme Bistro on Sous" in page
    assert f'value="{NEW_EMAIL}" readonly' in page

    response = browser.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:index")
    user = get_user_model().objects.get(email=NEW_EMAIL)
    assert user.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.filter(user=user, email=NEW_EMAIL, verified=True, primary=True)
    assert Membership.objects.get(user=user).role == "admin"
    assert Invitation.objects.get(email=NEW_EMAIL).accepted_at is not None
    landing = browser.get(reverse("integrations:index")).content.decode()
    assert "Signed in to Acme Bistro as admin" in landing

    # The new password logs in from now on.
    assert client_factory().login(username=user.username, password=NEW_PASSWORD)


def test_a_weak_or_mistyped_password_is_refused_and_nothing_is_created(invite, client_factory):
    path = invite()
    browser = client_factory()

    weak = browser.post(path, {"password1": "12345678", "password2": "12345678"})
    assert "This password is too common." in weak.content.decode()
    mistyped = browser.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "!"})
    assert "The two passwords differ." in mistyped.content.decode()

    assert users_with(NEW_EMAIL) == 0
    assert Invitation.objects.get(email=NEW_EMAIL).accepted_at is None


def test_the_link_works_only_once(invite, client_factory):
    path = invite()
    client_factory().post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    again = client_factory().post(path, {"password1": "other tart", "password2": "other tart"})
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert users_with(NEW_EMAIL) == 1
    assert get_user_model().objects.get(email=NEW_EMAIL).check_password(NEW_PASSWORD)


def test_an_expired_link_shows_why_and_changes_nothing(invite, client_factory):
    path = invite()
    Invitation.objects.filter(email=NEW_EMAIL).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    browser = client_factory()

    assert "has expired" in browser.get(path).content.decode()
    response = browser.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert users_with(NEW_EMAIL) == 0


def test_a_link_signed_longer_ago_than_the_setting_allows_is_expired(
    invite, client_factory, settings
):
    path = invite()
    settings.INVITATION_MAX_AGE_DAYS = 0

    assert "has expired" in client_factory().get(path).content.decode()


def test_a_revoked_invitation_link_no_longer_works(invite, owner_client, client_factory):
    path = invite()
    invitation = Invitation.objects.get(email=NEW_EMAIL)

    owner_client.post(reverse("orgs:revoke_invitation", args=[invitation.pk]))

    browser = client_factory()
    assert "was withdrawn" in browser.get(path).content.decode()
    browser.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert users_with(NEW_EMAIL) == 0
    team = owner_client.get(reverse("orgs:team")).content.decode()
    assert f'id="invitation-{invitation.pk}"' not in team
    assert "No pending invitations." in team


def test_resend_mails_a_new_link_and_the_old_one_stops_working(
    invite, owner_client, client_factory, mailoutbox
):
    old = invite()
    invitation = Invitation.objects.get(email=NEW_EMAIL)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )

    owner_client.post(reverse("orgs:resend_invitation", args=[invitation.pk]))

    assert len(mailoutbox) == 2
    new = path_of(link_in(mailoutbox[-1]))
    assert new != old
    assert "not valid" in client_factory().get(old).content.decode()
    browser = client_factory()
    browser.post(new, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert users_with(NEW_EMAIL) == 1


def test_a_tampered_link_is_not_valid(invite, client_factory, org):
    path = invite()
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = reverse(
        "orgs:accept_invitation", args=[token[:-2] + ("AA" if token[-2:] != "AA" else "BB")]
    )
    forged = reverse("orgs:accept_invitation", args=["eyJpIjoxLCJuIjoieCJ9:forged:sig"])

    for link in (tampered, forged):
        browser = client_factory()
        response = browser.get(link)
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
        browser.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert users_with(NEW_EMAIL) == 0


def test_inviting_someone_already_on_the_team_is_refused_in_the_dialog(
    owner_client, member, mailoutbox
):
    response = owner_client.post(
        reverse("orgs:invite"), {"email": member.email.upper(), "role": "member"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "sam@acme.example is already on the team." in page
    assert "data-open-on-load" in page
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_inviting_a_pending_email_again_sends_the_same_invitation_with_the_new_role(invite):
    first = invite(role="member")
    second = invite(email=NEW_EMAIL.upper(), role="admin")

    invitation = Invitation.objects.get()
    assert invitation.role == "admin"
    assert first != second


def test_an_existing_account_joins_after_logging_in_without_a_second_user(
    invite, client_factory, outsider, org
):
    path = invite(email=outsider.email, role="member")
    browser = client_factory()

    page = browser.get(path).content.decode()
    assert "already has a Sous account" in page
    assert "Log in to join" in page
    browser.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert not Membership.objects.filter(user=outsider, organization=org).exists()

    login = browser.post(reverse("account_login"), {"login": outsider.email, "password": PASSWORD})
    assert login.status_code == 302
    assert "Join Acme Bistro" in browser.get(path).content.decode()
    response = browser.post(path)

    assert response["Location"] == reverse("integrations:index")
    assert Membership.objects.get(user=outsider, organization=org).role == "member"
    assert users_with(outsider.email) == 1
    assert outsider.check_password(PASSWORD)
    landing = browser.get(reverse("integrations:index")).content.decode()
    assert "Signed in to Acme Bistro as member" in landing


def test_someone_else_logged_in_cannot_accept_an_invitation_for_an_existing_account(
    invite, client_factory, outsider, member, org
):
    path = invite(email=outsider.email)
    browser = client_factory()
    browser.force_login(member)

    page = browser.get(path).content.decode()
    assert "but you are signed in as <strong>sam@acme.example</strong>" in page
    browser.post(path)

    assert not Membership.objects.filter(user=outsider, organization=org).exists()
    assert Invitation.objects.get(email=outsider.email).accepted_at is None


def test_signup_stays_closed_while_invitations_are_pending(invite, client_factory):
    invite()

    response = client_factory().post(
        reverse("account_signup"),
        {"email": NEW_EMAIL, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert "Sign Up Closed" in response.content.decode()
    assert users_with(NEW_EMAIL) == 0


def test_nobody_can_switch_their_account_to_an_invited_email(client, outsider):
    """Verification is off, so allauth's address page would let anyone make an invitee's
    email their own first: it does not exist here."""
    client.force_login(outsider)
    for method in (client.get, client.post):
        response = method("/accounts/email/", {"email": "newhire@acme.example", "action_add": ""})
        assert response.status_code == 404
    outsider.refresh_from_db()
    assert outsider.email != "newhire@acme.example"
