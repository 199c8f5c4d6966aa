"""Admin > Team: roles, removal, the last owner, members read-only, other organisations 404."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from sous.orgs.models import Invitation, Membership, Organization
from sous.orgs.services import team
from tests.conftest import wait_for


def role_of(user, org) -> str | None:
    row = Membership.objects.filter(user=user, organization=org).first()
    return row.role if row else None


def membership(user, org) -> Membership:
    return Membership.objects.get(user=user, organization=org)


@pytest.fixture
def admin(org, make_user):
    return make_user(org, "admin", email="ada@acme.example")


@pytest.fixture
def second_owner(org, make_user):
    return make_user(org, "owner", email="omar@acme.example")


def set_role(client, user, org, role):
    return client.post(
        reverse("orgs:change_role", args=[membership(user, org).pk]), {"role": role}, follow=True
    )


def remove(client, user, org):
    return client.post(reverse("orgs:remove_member", args=[membership(user, org).pk]), follow=True)


def test_the_team_page_lists_people_and_pending_invitations(owner_client, member, org):
    Invitation.objects.create(
        organization=org, email="new@acme.example", role="admin", expires_at="2100-01-01T00:00Z"
    )

    page = owner_client.get(reverse("orgs:team")).content.decode()

    assert "maria@acme.example" in page and "sam@acme.example" in page
    assert "Never" in page  # sam has not logged in yet
    assert "new@acme.example" in page
    assert 'data-open-dialog="invite-dialog"' in page
    assert 'href="/admin/team/" aria-current="page">Team</a>' in page


def test_the_team_page_requires_login(client, db):
    response = client.get(reverse("orgs:team"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_an_owner_changes_a_role(owner_client, member, org):
    response = set_role(owner_client, member, org, "admin")

    assert role_of(member, org) == "admin"
    assert "sam@acme.example is now admin" in response.content.decode()


def test_an_admin_manages_members_and_admins_but_not_owners(
    client, admin, member, second_owner, owner, org
):
    client.force_login(admin)

    set_role(client, member, org, "admin")
    assert role_of(member, org) == "admin"
    assert set_role(client, member, org, "owner").status_code == 403
    assert set_role(client, second_owner, org, "member").status_code == 403
    assert remove(client, owner, org).status_code == 403
    invite = client.post(reverse("orgs:invite"), {"email": "x@acme.example", "role": "owner"})
    assert "Select a valid choice" in invite.content.decode()
    remove(client, member, org)

    assert role_of(member, org) is None
    assert role_of(second_owner, org) == role_of(owner, org) == "owner"
    assert not Invitation.objects.exists()
    page = client.get(reverse("orgs:team")).content.decode()
    assert f'action="/admin/team/members/{membership(owner, org).pk}/role/"' not in page
    assert '<option value="owner"' not in page


def test_the_last_owner_can_be_neither_demoted_nor_removed(owner_client, owner, org):
    demoted = set_role(owner_client, owner, org, "admin")
    assert "maria@acme.example is the only owner of Acme Bistro" in demoted.content.decode()
    removed = remove(owner_client, owner, org)
    assert "cannot be removed" in removed.content.decode()

    assert role_of(owner, org) == "owner"


def test_an_owner_demotes_another_owner_or_themselves_while_one_remains(
    owner_client, owner, second_owner, org
):
    set_role(owner_client, second_owner, org, "member")
    assert role_of(second_owner, org) == "member"

    set_role(owner_client, second_owner, org, "owner")
    set_role(owner_client, owner, org, "admin")
    assert role_of(owner, org) == "admin"
    assert role_of(second_owner, org) == "owner"


def test_staff_may_leave_unless_they_are_the_last_owner(client, admin, owner, org):
    client.force_login(admin)
    response = client.post(reverse("orgs:remove_member", args=[membership(admin, org).pk]))

    assert response.status_code == 302
    assert role_of(admin, org) is None
    assert role_of(owner, org) == "owner"


def test_a_removed_person_keeps_their_account_but_loses_the_organisation(
    owner_client, member, org, client_factory
):
    remove(owner_client, member, org)

    browser = client_factory()
    browser.force_login(member)
    assert browser.get(reverse("orgs:team")).status_code == 403  # "no organisation" page
    member.refresh_from_db()
    assert member.is_active


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(make_org, make_user):
    org = make_org("Acme Bistro")
    maria, omar = make_user(org, "owner"), make_user(org, "owner")
    first, second = membership(maria, org), membership(omar, org)
    results: list[str] = []

    def demote(by, target):
        try:
            team.change_role(by=by, target=target, role="member")
            results.append("demoted")
        # Refused as the last owner, or because the other demotion, first, made them a member.
        except (team.TeamError, PermissionDenied):
            results.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    # This transaction holds the team lock until both demotions are waiting on it, so they
    # really run at the same time.
    with transaction.atomic():
        team.lock_team(org)
        for thread in threads:
            thread.start()

        def both_waiting():
            with connection.cursor() as cursor:
                # Activity is otherwise read once per transaction, and this one stays open.
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                return cursor.fetchone()[0] == 2

        wait_for(both_waiting, timeout=20, message="the demotions did not both start")
    for thread in threads:
        thread.join(20)

    assert sorted(results) == ["demoted", "refused"]
    assert Membership.objects.filter(organization=org, role="owner").count() == 1


def test_members_see_the_team_read_only(client, member, owner, org):
    client.force_login(member)

    page = client.get(reverse("orgs:team")).content.decode()

    assert "maria@acme.example" in page
    assert "Only owners and admins can invite people" in page
    assert "invite-dialog" not in page
    assert "<select" not in page
    assert "Remove" not in page


def test_members_are_refused_every_change(client, member, owner, org):
    invitation = Invitation.objects.create(
        organization=org, email="new@acme.example", expires_at="2100-01-01T00:00Z"
    )
    client.force_login(member)
    target = membership(owner, org).pk
    posts = [
        (reverse("orgs:invite"), {"email": "x@acme.example", "role": "member"}),
        (reverse("orgs:change_role", args=[target]), {"role": "member"}),
        (reverse("orgs:remove_member", args=[target]), {}),
        (reverse("orgs:remove_member", args=[membership(member, org).pk]), {}),
        (reverse("orgs:resend_invitation", args=[invitation.pk]), {}),
        (reverse("orgs:revoke_invitation", args=[invitation.pk]), {}),
    ]

    assert [client.post(url, data).status_code for url, data in posts] == [403] * len(posts)
    assert role_of(owner, org) == "owner" and role_of(member, org) == "member"
    assert Invitation.objects.get().is_pending
    assert Invitation.objects.count() == 1


def test_another_organisations_people_and_invitations_are_404(client, outsider, owner, org):
    invitation = Invitation.objects.create(
        organization=org, email="new@acme.example", expires_at="2100-01-01T00:00Z"
    )
    client.force_login(outsider)
    target = membership(owner, org).pk
    posts = [
        (reverse("orgs:change_role", args=[target]), {"role": "member"}),
        (reverse("orgs:remove_member", args=[target]), {}),
        (reverse("orgs:resend_invitation", args=[invitation.pk]), {}),
        (reverse("orgs:revoke_invitation", args=[invitation.pk]), {}),
    ]

    assert [client.post(url, data).status_code for url, data in posts] == [404] * len(posts)
    assert role_of(owner, org) == "owner"
    assert Invitation.objects.get().is_pending
    assert "maria@acme.example" not in client.get(reverse("orgs:team")).content.decode()


def test_changes_without_the_csrf_token_are_refused(owner, member, org):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    target = membership(member, org).pk

    page = browser.get(reverse("orgs:team")).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 3  # role, remove and invite forms
    for url, data in [
        (reverse("orgs:change_role", args=[target]), {"role": "admin"}),
        (reverse("orgs:remove_member", args=[target]), {}),
        (reverse("orgs:invite"), {"email": "x@acme.example", "role": "member"}),
    ]:
        assert browser.post(url, data).status_code == 403

    assert role_of(member, org) == "member"
    assert not Invitation.objects.exists()
    assert Organization.objects.count() == 1
