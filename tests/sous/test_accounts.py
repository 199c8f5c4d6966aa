"""Login, tenancy and the Admin navigation."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from tests.conftest import PASSWORD


def test_the_integrations_page_requires_login(client, db):
    response = client.get("/admin/integrations/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_log_in_with_email_and_password_and_land_on_integrations(client, owner):
    response = client.post(
        reverse("account_login"), {"login": owner.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/admin/integrations/"
    page = response.content.decode()
    assert "Integrations" in page
    assert "Acme Bistro" in page


def test_a_wrong_password_is_refused_with_a_message(client, owner):
    response = client.post(reverse("account_login"), {"login": owner.email, "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_public_signup_is_closed(client, db):
    response = client.get(reverse("account_signup"))
    assert "Sign Up Closed" in response.content.decode()


def test_pages_show_the_admin_navigation_with_integrations(owner_client):
    page = owner_client.get("/admin/integrations/").content.decode()
    assert ">Admin<" in page
    assert 'href="/admin/integrations/"' in page


def test_a_member_of_another_organisation_sees_only_their_own(client, org, outsider):
    client.force_login(outsider)
    page = client.get("/admin/integrations/").content.decode()
    assert "Rival Diner" in page
    assert "Acme Bistro" not in page


def test_a_user_cannot_switch_into_an_organisation_they_do_not_belong_to(client, org, outsider):
    client.force_login(outsider)
    response = client.post(reverse("switch_organization"), {"org": org.slug})
    assert response.status_code == 404


def test_a_user_with_two_organisations_switches_between_them(client, owner, other_org):
    from sous.orgs.models import Membership

    Membership.objects.create(organization=other_org, user=owner, role="member")
    client.force_login(owner)
    assert "Acme Bistro" in client.get("/admin/integrations/").content.decode()
    client.post(
        reverse("switch_organization"), {"org": other_org.slug, "next": "/admin/integrations/"}
    )
    page = client.get("/admin/integrations/").content.decode()
    assert "Signed in to Rival Diner" in page


def test_a_user_in_no_organisation_is_told_what_to_do(client, make_user):
    user = make_user(None, email="chef@example.com")
    client.force_login(user)

    response = client.get("/admin/integrations/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "You are not in an organisation yet" in page
    assert "Ask one of its owners or admins to add chef@example.com" in page
    assert "create_organization --name" in page and "--email chef@example.com" in page
    # Nothing of any organisation's is reachable: the drawer and the job endpoints stay 404.
    assert client.get("/integrations/square/manage/", HTTP_HX_REQUEST="true").status_code == 404


def test_an_existing_user_joins_a_new_organisation_without_a_password(client, make_user, db):
    user = make_user(None, email="chef@example.com")
    call_command("create_organization", name="Cafe Dos", email="CHEF@example.com")
    client.force_login(user)
    assert "Cafe Dos" in client.get("/admin/integrations/").content.decode()


def test_a_new_user_needs_a_password(db):
    with pytest.raises(CommandError, match="has no account yet: give it a --password"):
        call_command("create_organization", name="Cafe Tres", email="new@example.com")


def test_the_create_organization_command_makes_an_owner_who_can_log_in(client, db, capsys):
    call_command(
        "create_organization", name="Cafe Uno", email="uno@cafe.example", password=PASSWORD
    )
    assert "uno@cafe.example is owner of Cafe Uno" in capsys.readouterr().out
    assert client.login(username="uno@cafe.example", password=PASSWORD)
    assert "Cafe Uno" in client.get("/admin/integrations/").content.decode()
