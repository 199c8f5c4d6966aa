"""An organisation's two-factor policy: who it holds at setup, who may change it."""

import json

import pyotp
import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from tests.conftest import PASSWORD

SETUP = "/accounts/2fa/totp/activate/"
SECURITY = "/admin/security/"
REASON = "Acme Bistro requires two-factor sign-in for owners and admins."


@pytest.fixture
def admin(org, make_user):
    return make_user(org, "admin", email="alex@acme.example")


@pytest.fixture
def requiring(org):
    org.require_mfa_for_managers = True
    org.save()
    return org


def enrol(user) -> str:
    """The user has an authenticator app (and recovery codes), as setup would leave them."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_managers_without_a_second_factor_are_sent_to_setup_with_the_reason(
    client, requiring, persona, request
):
    client.force_login(request.getfixturevalue(persona))

    response = client.get("/admin/integrations/", follow=True)

    # allauth asks for the password again before an authenticator is added; both pages say why.
    assert response.redirect_chain[0][0] == SETUP
    assert response.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    assert "Confirm it's you" in response.content.decode()
    assert REASON in response.content.decode()
    setup = client.post(response.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    assert setup.redirect_chain[-1][0] == SETUP
    assert REASON in setup.content.decode()
    assert 'id="authenticator-secret"' in setup.content.decode()


def test_members_are_not_held_by_the_policy(client, requiring, member):
    client.force_login(member)
    assert client.get("/admin/integrations/").status_code == 200


def test_managers_with_an_authenticator_app_get_through(client, requiring, owner):
    enrol(owner)
    client.force_login(owner)
    assert client.get("/admin/integrations/").status_code == 200


def test_without_the_policy_managers_need_no_second_factor(client, org, owner):
    client.force_login(owner)
    assert client.get("/admin/integrations/").status_code == 200


def test_a_held_manager_can_still_set_up_and_sign_out(client, requiring, owner):
    client.force_login(owner)

    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(SETUP)["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(reverse("account_reauthenticate")).status_code == 200
    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_htmx_and_json_requests_get_a_403_with_the_reason_not_a_redirect(client, requiring, owner):
    client.force_login(owner)

    htmx = client.get("/admin/integrations/", headers={"HX-Request": "true"})
    as_json = client.get("/admin/integrations/", headers={"Accept": "application/json"})

    assert htmx.status_code == 403
    assert REASON in htmx.content.decode()
    assert REASON in json.loads(htmx["HX-Trigger"])["sous:toast"]["message"]
    assert as_json.status_code == 403
    assert as_json.json() == {"error": REASON, "setup_url": SETUP}


def test_switching_to_an_organisation_without_the_policy_is_allowed(
    client, requiring, owner, other_org
):
    from sous.orgs.models import Membership

    Membership.objects.create(organization=other_org, user=owner, role="owner")
    client.force_login(owner)

    client.post(
        reverse("switch_organization"), {"org": other_org.slug, "next": "/admin/integrations/"}
    )
    response = client.get("/admin/integrations/")

    assert response.status_code == 200
    assert "Signed in to Rival Diner" in response.content.decode()


def test_an_invitation_to_another_organisation_can_be_accepted_while_held(
    client, requiring, owner, outsider, other_org, mailoutbox
):
    import re

    from sous.orgs.services import invitations

    invitations.invite(
        organization=other_org,
        by=outsider.memberships.get(),
        email=owner.email,
        role="member",
    )
    [link] = re.findall(r"https?://\S*/invitations/\S+/", mailoutbox[-1].body)
    client.force_login(owner)

    response = client.post(link.removeprefix("http://testserver"), follow=True)

    assert response.redirect_chain[-1][0] == "/admin/integrations/"
    assert "Signed in to Rival Diner" in response.content.decode()


def test_once_enrolled_login_asks_for_the_code_and_refuses_a_wrong_one(client, owner, org):
    secret = enrol(owner)

    response = client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()
    assert "_auth_user_id" not in client.session

    right = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assert right["Location"] == "/admin/integrations/"
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_owners_turn_the_policy_on_once_they_use_it_themselves(client, org, owner):
    enrol(owner)
    client.force_login(owner)

    response = client.post(SECURITY, {"require_mfa_for_managers": "on"}, follow=True)

    org.refresh_from_db()
    assert org.require_mfa_for_managers
    assert "Owners and admins now need two-factor sign-in." in response.content.decode()


def test_an_owner_without_a_second_factor_must_set_one_up_before_requiring_it(client, org, owner):
    client.force_login(owner)

    response = client.post(SECURITY, {"require_mfa_for_managers": "on"}, follow=True)

    org.refresh_from_db()
    assert not org.require_mfa_for_managers
    page = response.content.decode()
    assert "Set up two-factor sign-in for yourself first" in page
    assert f'href="{SETUP}"' in page


def test_owners_turn_the_policy_off(client, requiring, owner):
    enrol(owner)
    client.force_login(owner)

    client.post(SECURITY, {})

    requiring.refresh_from_db()
    assert not requiring.require_mfa_for_managers


@pytest.mark.parametrize("persona", ["admin", "member"])
def test_only_owners_may_change_the_policy(client, org, persona, request):
    user = request.getfixturevalue(persona)
    enrol(user)
    client.force_login(user)

    page = client.get(SECURITY)
    response = client.post(SECURITY, {"require_mfa_for_managers": "on"})

    assert page.status_code == 200
    assert "Not required." in page.content.decode()
    assert 'name="require_mfa_for_managers"' not in page.content.decode()
    assert "Only owners can change this." in page.content.decode()
    assert response.status_code == 403
    org.refresh_from_db()
    assert not org.require_mfa_for_managers


def test_changing_the_policy_needs_the_csrf_token(client_factory, org, owner):
    enrol(owner)
    browser = client_factory(enforce_csrf_checks=True)
    browser.force_login(owner)

    response = browser.post(SECURITY, {"require_mfa_for_managers": "on"})

    assert response.status_code == 403
    org.refresh_from_db()
    assert not org.require_mfa_for_managers


def test_an_owner_changes_only_their_own_organisation(client, org, outsider, other_org):
    enrol(outsider)
    client.force_login(outsider)

    page = client.get(SECURITY).content.decode()
    client.post(SECURITY, {"require_mfa_for_managers": "on"})

    org.refresh_from_db()
    other_org.refresh_from_db()
    assert other_org.require_mfa_for_managers
    assert not org.require_mfa_for_managers
    assert "olga@rival.example" in page
    assert "maria@acme.example" not in page


def test_the_security_page_shows_which_managers_have_set_it_up(client, org, owner, admin, member):
    enrol(owner)
    client.force_login(owner)

    page = client.get(SECURITY).content.decode()

    assert "maria@acme.example (you)" in page
    assert "✓ On" in page
    assert "alex@acme.example" in page
    assert "Not set up" in page
    assert "sam@acme.example" not in page


def test_the_security_page_requires_login(client, db):
    response = client.get(SECURITY)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_site_admin_signs_in_through_allauth_which_asks_for_the_code(client):
    response = client.get("/django-admin/login/?next=/django-admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
