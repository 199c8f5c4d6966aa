"""Notifications and alerts: one open alert per problem, told once to owners and admins, resolved
on its own; sync results to whoever started them; the bell shows each person only their own."""

from __future__ import annotations

import pytest
from django.core import mail

from integrations.jobs import execute, outcome, triggers
from integrations.models import IntegrationEvent, SyncJob
from integrations.services import disconnect, status
from sous.notifications import alerts, emails
from sous.notifications.alerts import Problem
from sous.notifications.models import Alert, EmailChoice, Kind, Notification
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    square_config_fixture,  # noqa: F401
)

REVOKED = IntegrationEvent.Kind.ACCESS_REVOKED
PROBLEM = Problem(
    source="square",
    condition=Alert.Condition.JOB_FAILED,
    subject="square.sales",
    title="Square: the automatic sales sync failed",
    detail="Square answered 500",
    action_label="Open Square",
    url="/admin/integrations/?open=square",
)


@pytest.fixture
def admin(org, make_user):
    return make_user(org, "admin", email="alex@acme.example")


def titles(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("title", flat=True))


def test_an_alert_opens_once_tells_owners_and_admins_and_resolves_itself(
    org, owner, admin, member, django_capture_on_commit_callbacks
):
    alert = alerts.open_(org, PROBLEM)
    again = alerts.open_(org, Problem(**{**PROBLEM.__dict__, "detail": "Square answered 503"}))
    assert again.pk == alert.pk
    again.refresh_from_db()
    assert (again.occurrences, again.detail) == (2, "Square answered 503")
    # Told once, to the people who can fix it.
    assert titles(owner) == titles(admin) == [PROBLEM.title]
    assert titles(member) == []

    alerts.resolve(org, "square", PROBLEM.condition, subject=PROBLEM.subject, why="It ran again")
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolution == "It ran again"
    assert titles(owner) == [f"Resolved: {PROBLEM.title}", PROBLEM.title]

    # The same problem later is a new alert.
    assert alerts.open_(org, PROBLEM).pk != alert.pk


def test_another_organisations_alerts_are_its_own(org, other_org, owner, outsider):
    alerts.open_(org, PROBLEM)
    assert alerts.open_for(other_org) == []
    assert titles(outsider) == []


def test_a_connection_needing_re_auth_opens_an_alert_a_reconnect_resolves(
    org, owner, make_connection
):
    config = make_connection(org)
    status.mark_error(
        config, "Re-auth required: revoked", kind=IntegrationEvent.Kind.ACCESS_REVOKED
    )
    status.mark_error(
        config, "Re-auth required: revoked", kind=IntegrationEvent.Kind.ACCESS_REVOKED
    )
    [alert] = alerts.open_for(org, "square")
    assert alert.title == "Square needs to be reconnected" and alert.occurrences == 2
    assert titles(owner) == ["Square needs to be reconnected"]

    make_connection(org)  # the callback stores the new grant
    assert alerts.open_for(org, "square") == []
    assert titles(owner)[0] == "Resolved: Square needs to be reconnected"


def test_disconnecting_resolves_what_was_open(org, owner, make_connection):
    config = make_connection(org)
    alerts.open_(org, PROBLEM)
    disconnect.disconnect(config, actor=owner)
    assert alerts.open_for(org) == []


def test_a_failed_scheduled_sync_is_an_alert_and_the_next_success_resolves_it(
    org, owner, square_config
):
    job, _ = triggers.request(square_config, "catalog", {}, trigger=SyncJob.Trigger.SCHEDULE)
    outcome.fail(job, "Square kept answering 500", "HTTP 500 x5")
    [alert] = alerts.open_for(org, "square")
    assert (alert.condition, alert.subject) == ("job_failed", "square.catalog")
    assert alert.detail == "Square kept answering 500"
    assert titles(owner) == ["Square: the automatic catalog sync failed"]

    job, _ = triggers.request(square_config, "catalog", {}, trigger=SyncJob.Trigger.MANUAL)
    execute.run(str(job.id))
    assert alerts.open_for(org, "square") == []


def test_a_failed_sync_someone_started_tells_them_and_opens_no_alert(org, owner, square_config):
    job, _ = triggers.request(square_config, "catalog", {}, user=owner)
    outcome.fail(job, "Square kept answering 500", "HTTP 500 x5")
    [notification] = Notification.objects.filter(user=owner)
    assert (notification.kind, notification.title) == (Kind.JOB_FAILED, "Catalog sync failed")
    assert notification.body == "Square kept answering 500"
    assert alerts.open_for(org) == []


def test_the_person_who_started_a_sync_hears_how_it_ended(org, owner, admin, square_config):
    job, _ = triggers.request(square_config, "catalog", {}, user=admin)
    execute.run(str(job.id))
    job.refresh_from_db()
    [notification] = Notification.objects.filter(user=admin)
    assert notification.kind == Kind.JOB_FINISHED and notification.title == job.summary
    assert notification.url == "/admin/integrations/?open=square"
    assert titles(owner) == []  # not the others, and no alert for a sync someone watched


def test_emails_follow_each_persons_choice_and_go_once(org, owner, admin, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    EmailChoice.objects.create(user=admin, kind=Kind.ALERT, email=False)
    alerts.open_(org, PROBLEM)
    for notification in Notification.objects.filter(email_wanted=True):
        assert emails.send(notification.pk)
        assert not emails.send(notification.pk)  # a second task sends nothing
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert message.subject == f"[Sous] {PROBLEM.title}"
    assert f"{settings.PUBLIC_BASE_URL}/admin/integrations/?open=square" in message.body


# --- The bell ------------------------------------------------------------------------------------


def test_the_bell_shows_unread_notifications_and_opening_one_marks_it_read(
    client, org, owner, member
):
    alerts.open_(org, PROBLEM)
    client.force_login(owner)
    page = client.get("/admin/integrations/").content.decode()
    assert "Notifications, 1 unread" in page and PROBLEM.title in page

    [notification] = Notification.objects.filter(user=owner)
    opened = client.get(f"/notifications/{notification.pk}/")
    assert opened.status_code == 302 and opened["Location"] == PROBLEM.url
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "Notifications, none unread" in client.get("/notifications/bell/").content.decode()


def test_someone_elses_notification_is_404(client, org, owner, member):
    alerts.open_(org, PROBLEM)
    [notification] = Notification.objects.filter(user=owner)
    client.force_login(member)
    assert client.get(f"/notifications/{notification.pk}/").status_code == 404


def test_mark_all_read(client, org, owner):
    alerts.open_(org, PROBLEM)
    alerts.open_(org, Problem(**{**PROBLEM.__dict__, "subject": "square.catalog"}))
    client.force_login(owner)
    answer = client.post("/notifications/read/", {"next": "/admin/integrations/"})
    assert answer.status_code == 302
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_mark_all_read_needs_the_csrf_token(org, owner):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    alerts.open_(org, PROBLEM)
    assert strict.post("/notifications/read/").status_code == 403
    assert Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_each_person_chooses_what_comes_by_email(client, owner):
    client.force_login(owner)
    page = client.get("/notifications/email/").content.decode()
    assert 'name="email.alert" checked' in page
    assert 'name="email.job_finished" checked' not in page
    client.post("/notifications/email/", {"email.job_finished": "on"})
    chosen = dict(EmailChoice.objects.filter(user=owner).values_list("kind", "email"))
    assert chosen == {
        Kind.ALERT: False,
        Kind.ALERT_RESOLVED: False,
        Kind.JOB_FAILED: False,
        Kind.JOB_FINISHED: True,
    }


def test_the_card_and_drawer_show_the_open_alert_and_its_fix(owner_client, org, make_connection):
    make_connection(org)
    alerts.open_(org, PROBLEM)
    card = owner_client.get("/integrations/square/card/").content.decode()
    assert PROBLEM.title in card
    drawer = owner_client.get("/integrations/square/manage/").content.decode()
    assert PROBLEM.detail in drawer and 'href="#action-square-sales"' in drawer


def test_members_see_the_alert_without_its_buttons(client, member, org, make_connection):
    make_connection(org)
    alerts.open_(org, PROBLEM)
    client.force_login(member)
    drawer = client.get("/integrations/square/manage/").content.decode()
    assert PROBLEM.title in drawer and "Sync again below" not in drawer
