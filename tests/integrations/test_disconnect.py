"""Disconnect: revoke (best effort), stop jobs, delete the credentials, keep the history."""

import json

import pytest
import responses

from integrations.models import IntegrationConfig, IntegrationEvent, SyncJob
from tests.conftest import UNREACHABLE_SANDBOX

pytestmark = pytest.mark.django_db
REVOKE = f"{UNREACHABLE_SANDBOX}/square/oauth2/revoke"


@responses.activate
def test_disconnect_revokes_deletes_the_row_and_keeps_history(
    owner_client, org, owner, make_connection
):
    config = make_connection(org, "square", access="EAAA-to-revoke")
    job = SyncJob.objects.create(
        organization=org,
        provider="square",
        config=config,
        kind="square.catalog",
        status="succeeded",
    )
    responses.post(REVOKE, json={"success": True})
    response = owner_client.post("/integrations/square/disconnect/")
    assert response.status_code == 302
    assert not IntegrationConfig.objects.exists()
    assert json.loads(responses.calls[0].request.body)["access_token"] == "EAAA-to-revoke"
    job.refresh_from_db()
    assert job.config is None  # job history stays, detached
    event = IntegrationEvent.objects.get(kind="disconnected")
    assert (event.organization, event.provider, event.actor) == (org, "square", owner)
    assert "Square disconnected" in owner_client.get("/admin/integrations/").content.decode()


@responses.activate
def test_disconnect_still_deletes_when_the_provider_is_down(owner_client, org, make_connection):
    make_connection(org, "square")
    responses.post(REVOKE, status=503)
    response = owner_client.post("/integrations/square/disconnect/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not IntegrationConfig.objects.exists()
    assert 'data-state="not_connected"' in response.content.decode()
    assert json.loads(response["HX-Trigger"])["sous:toast"]["message"] == "Square disconnected"
    assert "could not be told" in IntegrationEvent.objects.get(kind="disconnected").message


@responses.activate
def test_disconnect_cancels_the_connections_active_jobs(owner_client, org, make_connection):
    config = make_connection(org, "square")
    queued = SyncJob.objects.create(
        organization=org, provider="square", config=config, kind="square.sales"
    )
    running = SyncJob.objects.create(
        organization=org, provider="square", config=config, kind="square.catalog", status="running"
    )
    responses.post(REVOKE, json={"success": True})
    owner_client.post("/integrations/square/disconnect/")
    queued.refresh_from_db()
    running.refresh_from_db()
    assert queued.status == "cancelled"
    assert running.cancel_requested is True


def test_disconnect_needs_post_and_a_csrf_token(org, owner, make_connection):
    from django.test import Client

    make_connection(org, "square")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    assert browser.get("/integrations/square/disconnect/").status_code == 405
    assert browser.post("/integrations/square/disconnect/").status_code == 403
    assert IntegrationConfig.objects.exists()


def test_members_cannot_disconnect(client, member, org, make_connection):
    make_connection(org, "square")
    client.force_login(member)
    assert client.post("/integrations/square/disconnect/").status_code == 403
    assert IntegrationConfig.objects.exists()


def test_the_django_admin_cannot_delete_a_connection_behind_the_providers_back(
    admin_client, org, make_connection
):
    config = make_connection(org, "square")
    page = f"/django-admin/integrations/integrationconfig/{config.pk}"
    assert admin_client.get(f"{page}/change/").status_code == 200
    assert admin_client.post(f"{page}/delete/", {"post": "yes"}).status_code == 403
    changelist = "/django-admin/integrations/integrationconfig/"
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [config.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert IntegrationConfig.objects.filter(pk=config.pk).exists()
