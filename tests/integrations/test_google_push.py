"""Drive push notifications: Sous opens a changes.watch channel while folders are watched,
renews it before Drive's expiration, stops it when nothing is watched any more, refuses
notifications whose token it did not give, and turns a genuine one into one incremental scan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import NotificationChannel, SyncJob, WebhookEvent
from integrations.services import disconnect
from integrations.webhooks import channels, process
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    watch,
)
from tests.providers.google.helpers import SAM

ENDPOINT = "/integrations/webhooks/google"


def sandbox_channels(drive) -> list[dict]:
    return drive.control("GET", "channels")["channels"]


def notify(client, channel_id, *, token=None, number=2, state="change", config=None):
    """Post a notification as Drive would (an empty body: it is all headers)."""
    if token is None:
        token = channels.token_for(config.organization_id, config.pk, channel_id)
    return client.post(
        ENDPOINT,
        b"",
        content_type="",
        headers={
            "X-Goog-Channel-ID": channel_id,
            "X-Goog-Channel-Token": token,
            "X-Goog-Message-Number": str(number),
            "X-Goog-Resource-ID": "resource-1",
            "X-Goog-Resource-State": state,
            "X-Goog-Resource-URI": "https://www.googleapis.com/drive/v3/changes?pageToken=1",
        },
    )


@pytest.fixture
def watched(google_config, drive, receiver, settings):
    # The sandbox posts only to https or loopback addresses, as Drive only to public https.
    settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{receiver.server.server_port}"
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    return google_config


@pytest.fixture
def channel(watched):
    NotificationChannel.objects.create(
        config=watched,
        channel_id="channel-1",
        resource_id="resource-1",
        account_id=watched.external_account_id,
        expires_at=timezone.now() + timedelta(days=7),
    )
    return "channel-1"


# --- Keeping a channel open ----------------------------------------------------------------------


def test_a_watched_folder_opens_one_channel_to_our_address(watched, drive, settings):
    channels.reconcile(watched)
    channels.reconcile(watched)  # nothing to do the second time

    [stored] = NotificationChannel.objects.all()
    [opened] = sandbox_channels(drive)
    assert opened["id"] == stored.channel_id and not opened["stopped"]
    assert opened["address"] == f"{settings.PUBLIC_BASE_URL}/integrations/webhooks/google"
    assert opened["token"] == channels.token_for(watched.organization_id, watched.pk, opened["id"])
    assert abs(stored.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=5)


def test_no_watched_folder_no_channel(google_config, drive):
    channels.reconcile(google_config)
    assert sandbox_channels(drive) == [] and not NotificationChannel.objects.exists()


def test_a_channel_is_renewed_before_drive_ends_it_then_the_old_one_is_stopped(watched, drive):
    channels.reconcile(watched)
    [first] = NotificationChannel.objects.all()

    six_and_a_half_days = timedelta(days=6, hours=12)
    drive.control("POST", "clock", json={"advance": six_and_a_half_days.total_seconds()})
    channels.renew_all(now=timezone.now() + six_and_a_half_days)

    [renewed] = NotificationChannel.objects.all()
    assert renewed.channel_id != first.channel_id
    by_id = {c["id"]: c for c in sandbox_channels(drive)}
    assert by_id[first.channel_id]["stopped"]
    assert not by_id[renewed.channel_id]["stopped"]


def test_a_renewal_drive_refuses_keeps_the_channel_still_open(watched, drive, settings):
    channels.reconcile(watched)
    [first] = NotificationChannel.objects.all()
    settings.PUBLIC_BASE_URL = "http://sous.internal"  # Drive answers 400: not https
    channels.reconcile(watched, now=timezone.now() + timedelta(days=6, hours=18))
    assert list(NotificationChannel.objects.all()) == [first]
    assert [c["stopped"] for c in sandbox_channels(drive)] == [False]


def test_clearing_the_folders_stops_the_channel(watched, drive):
    channels.reconcile(watched)
    watched.settings = {"folders": {}}
    watched.save()
    channels.reconcile(watched)
    assert not NotificationChannel.objects.exists()
    assert [c["stopped"] for c in sandbox_channels(drive)] == [True]


def test_disconnecting_stops_the_channel_before_the_grant_is_revoked(watched, drive, owner):
    channels.reconcile(watched)
    disconnect.disconnect(watched, actor=owner)
    assert [c["stopped"] for c in sandbox_channels(drive)] == [True]
    assert not NotificationChannel.objects.exists()


def test_a_connection_in_error_gives_up_its_channel(watched, drive):
    channels.reconcile(watched)
    watched.status = watched.Status.ERROR
    watched.save()
    channels.renew_all()
    assert not NotificationChannel.objects.exists()


def test_without_a_public_https_address_no_channel_is_opened_and_the_drawer_says_so(
    watched, drive, settings, owner_client
):
    settings.GOOGLE_ENVIRONMENT = "production"  # the real Google posts only to public https
    settings.PUBLIC_BASE_URL = "http://sous.internal:8000"
    assert channels.address(channels.apps.provider("google")) is None
    page = owner_client.get("/integrations/google/manage/")
    assert "Live updates off (Sous has no public https address Google can reach)" in (
        page.content.decode()
    )


# --- Receiving notifications ---------------------------------------------------------------------


def test_a_notification_is_stored_once_and_asks_for_one_incremental_scan(client, channel, watched):
    assert notify(client, channel, config=watched).status_code == 200
    assert notify(client, channel, config=watched).status_code == 200  # Drive retried it
    [event] = WebhookEvent.objects.all()
    assert (event.provider, event.event_type, event.config_id) == ("google", "change", watched.pk)
    assert b"token" not in bytes(event.body)  # what Sous keeps never holds the channel token

    process.process(event.pk)
    [job] = SyncJob.objects.all()
    assert (job.kind, job.trigger) == ("google.scan", SyncJob.Trigger.WEBHOOK)
    assert "Drive changed" in job.trigger_detail


def test_the_first_sync_message_asks_for_nothing(client, channel, watched):
    assert notify(client, channel, config=watched, number=1, state="sync").status_code == 200
    [event] = WebhookEvent.objects.all()
    process.process(event.pk)
    assert not SyncJob.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["", "1.2.forged", "{org}.{config}.0000", "{org}.{config}.{mac_of_another_channel}"],
)
def test_a_notification_without_our_token_is_refused_and_stored_nowhere(
    client, channel, watched, token
):
    token = token.format(
        org=watched.organization_id,
        config=watched.pk,
        mac_of_another_channel=channels.token_for(
            watched.organization_id, watched.pk, "another-channel"
        ).rsplit(".", 1)[1],
    )
    assert notify(client, channel, token=token).status_code == 403
    assert not WebhookEvent.objects.exists()


def test_a_notification_that_is_not_drives_is_refused(client, db):
    assert client.post(ENDPOINT, b"{}", content_type="application/json").status_code == 403


def test_a_genuine_notification_on_a_stopped_channel_is_answered_and_ignored(client, watched):
    assert notify(client, "stopped-channel", config=watched).status_code == 200
    assert not WebhookEvent.objects.exists()


def test_a_notification_for_one_organisation_never_reaches_another(
    client, channel, watched, make_connection, other_org
):
    # The same Google account connected by another organisation: it has its own channel.
    make_connection(other_org, "google", account_id=watched.external_account_id)
    notify(client, channel, config=watched)
    process.process(WebhookEvent.objects.get().pk)
    assert [job.config_id for job in SyncJob.objects.all()] == [watched.pk]


def test_switching_to_another_google_account_stops_the_old_accounts_channel(
    watched, drive, make_connection, django_capture_on_commit_callbacks
):
    channels.reconcile(watched)
    sam = drive.connect_as(SAM)
    with django_capture_on_commit_callbacks(execute=True):
        make_connection(
            watched.organization, "google", access=sam["access_token"], account_id="sam-sub"
        )
    assert [c["stopped"] for c in sandbox_channels(drive)] == [True]
    assert not NotificationChannel.objects.exists()
