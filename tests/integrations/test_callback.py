"""Finishing a connection: every branch of the callback (STYLE §6), provider HTTP mocked."""

import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.utils import timezone

from integrations.models import IntegrationConfig, IntegrationEvent, OAuthState, SyncJob
from integrations.services import tokens
from tests.conftest import UNREACHABLE_SANDBOX

pytestmark = pytest.mark.django_db
SQ = f"{UNREACHABLE_SANDBOX}/square"


def square_grants(
    rsps,
    *,
    access="EAAA-new-access",
    refresh="EQAA-new-refresh",
    merchant="MERCHANT-1",
    name="Acme Bistro",
):
    rsps.post(
        f"{SQ}/oauth2/token",
        json={
            "access_token": access,
            "token_type": "bearer",
            "expires_at": (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "merchant_id": merchant,
            "refresh_token": refresh,
        },
    )
    rsps.get(
        f"{SQ}/v2/merchants/me",
        json={
            "merchant": {
                "id": merchant,
                "business_name": name,
                "country": "US",
                "main_location_id": "L1",
            }
        },
    )
    rsps.get(
        f"{SQ}/v2/locations",
        json={
            "locations": [{"id": "L1", "name": "Downtown", "business_email": "owner@acme.example"}]
        },
    )


def begin(client, key="square", mode="popup") -> str:
    response = client.get(f"/integrations/connect/{key}/?mode={mode}")
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def callback(client, key="square", **params):
    return client.get(f"/integrations/callback/{key}", params)


def oauth_result(response) -> dict:
    found = re.search(
        r'<script id="oauth-result"[^>]*>(.*?)</script>', response.content.decode(), re.S
    )
    assert found, "the callback page carries no result for the opener"
    return json.loads(found.group(1))


@responses.activate
def test_a_successful_callback_stores_encrypted_tokens_identity_and_an_event(
    owner_client, org, owner
):
    square_grants(responses)
    state = begin(owner_client)
    response = callback(owner_client, code="sq0cgb-code", state=state)
    assert response.status_code == 200
    assert oauth_result(response) == {
        "type": "sous:integration",
        "provider": "square",
        "outcome": "connected",
        "message": "Square connected",
        "level": "success",
    }
    page = response.content.decode()
    assert "EAAA-new-access" not in page and "EQAA-new-refresh" not in page
    config = IntegrationConfig.objects.get(organization=org, provider="square")
    assert config.connected_as == "Acme Bistro (owner@acme.example)"
    assert config.external_account_id == "MERCHANT-1"
    assert config.connected_by == owner
    assert "EAAA-new-access" not in config.access_token_encrypted
    grant = tokens.read(config)
    assert (grant.access_token, grant.refresh_token) == ("EAAA-new-access", "EQAA-new-refresh")
    assert IntegrationEvent.objects.filter(config=config, kind="connected", actor=owner).exists()
    sent = json.loads(responses.calls[0].request.body)
    assert sent["grant_type"] == "authorization_code"
    assert sent["redirect_uri"] == "http://testserver/integrations/callback/square"
    assert sent["code"] == "sq0cgb-code"


@responses.activate
def test_a_replayed_state_is_refused_and_changes_nothing(owner_client, org):
    square_grants(responses)
    state = begin(owner_client)
    assert callback(owner_client, code="c1", state=state).status_code == 200
    IntegrationConfig.objects.all().delete()
    replay = callback(owner_client, code="c2", state=state)
    assert replay.status_code == 400
    assert oauth_result(replay)["outcome"] == "failed"
    assert "not valid any more" in replay.content.decode()
    assert not IntegrationConfig.objects.exists()


@pytest.mark.parametrize("state", ["", "forged-state-value-0123456789abcdef"])
def test_a_missing_or_forged_state_is_refused(owner_client, state):
    response = callback(owner_client, code="c", state=state)
    assert response.status_code == 400
    assert oauth_result(response)["outcome"] == "failed"
    assert not IntegrationConfig.objects.exists()


def test_an_expired_state_is_refused(owner_client):
    state = begin(owner_client)
    OAuthState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert callback(owner_client, code="c", state=state).status_code == 400
    assert not IntegrationConfig.objects.exists()


def test_a_state_started_for_another_provider_is_refused(owner_client):
    state = begin(owner_client, "google")
    assert callback(owner_client, "square", code="c", state=state).status_code == 400


def test_a_state_from_another_session_is_refused(owner_client, owner, client_factory):
    state = begin(owner_client)
    other = client_factory()
    other.force_login(owner)  # same user, another browser
    response = callback(other, code="c", state=state)
    assert response.status_code == 400
    # It says what to do: where to open Sous, and in which browser.
    assert (
        "Open Sous at http://testserver in this browser and connect again"
        in (oauth_result(response)["message"])
    )
    assert not IntegrationConfig.objects.exists()


def test_a_state_of_another_organisation_is_refused(owner_client, outsider, client_factory):
    state = begin(owner_client)
    other = client_factory()
    other.force_login(outsider)
    assert callback(other, code="c", state=state).status_code == 400


def test_access_denied_keeps_the_card_not_connected_with_connection_cancelled(owner_client, org):
    state = begin(owner_client)
    response = callback(
        owner_client, error="access_denied", error_description="user_denied", state=state
    )
    assert oauth_result(response)["outcome"] == "cancelled"
    assert oauth_result(response)["message"] == "Connection cancelled"
    assert not IntegrationConfig.objects.exists()
    assert IntegrationEvent.objects.filter(organization=org, kind="connect_cancelled").exists()


@responses.activate
def test_a_refused_code_exchange_stores_nothing_and_says_so(owner_client):
    responses.post(
        f"{SQ}/oauth2/token", status=401, json={"message": "Invalid code", "type": "bad_request"}
    )
    state = begin(owner_client)
    response = callback(owner_client, code="expired", state=state)
    assert response.status_code == 400
    assert "Square connection failed" in oauth_result(response)["message"]
    assert not IntegrationConfig.objects.exists()


@responses.activate
def test_the_full_page_fallback_lands_on_the_grid_with_the_toast(owner_client):
    square_grants(responses)
    state = begin(owner_client, mode="page")
    response = callback(owner_client, code="c", state=state)
    assert response.status_code == 302 and response["Location"] == "/admin/integrations/"
    page = owner_client.get("/admin/integrations/").content.decode()
    assert "Square connected" in page


@responses.activate
def test_reconnecting_replaces_tokens_in_place_and_keeps_settings_and_clears_error(
    owner_client, org, make_connection
):
    from integrations.services import status

    config = make_connection(org, "square", account_id="MERCHANT-1")
    config.settings = {"excluded_locations": ["L1"]}
    config.cursors = {"square.catalog": "2026-01-01T00:00:00Z"}
    config.save()
    status.mark_error(config, "Re-auth required: revoked", kind="refresh_refused")
    square_grants(responses, access="EAAA-second", merchant="MERCHANT-1")
    response = callback(owner_client, code="c", state=begin(owner_client))
    assert oauth_result(response)["outcome"] == "reconnected"
    config.refresh_from_db()
    assert IntegrationConfig.objects.count() == 1
    assert not config.in_error and config.last_error == ""
    assert config.settings == {"excluded_locations": ["L1"]}
    assert config.cursors == {"square.catalog": "2026-01-01T00:00:00Z"}
    assert tokens.read(config).access_token == "EAAA-second"
    assert IntegrationEvent.objects.filter(config=config, kind="reconnected").exists()


@responses.activate
def test_a_different_account_waits_for_an_explicit_switch(
    owner_client, org, make_connection, django_capture_on_commit_callbacks
):
    config = make_connection(org, "square", account_id="MERCHANT-1", name="Acme Bistro")
    config.settings = {"excluded_locations": ["L1"]}
    config.cursors = {"square.catalog": "2026-01-01T00:00:00Z"}
    config.last_synced = {"square.catalog": "2026-01-01T00:00:00Z"}
    config.save()
    running = SyncJob.objects.create(
        organization=org, provider="square", config=config, kind="square.sales", status="running"
    )
    square_grants(responses, access="EAAA-other", merchant="MERCHANT-2", name="Other Place")
    responses.post(f"{SQ}/oauth2/revoke", json={"success": True})
    response = callback(owner_client, code="c", state=begin(owner_client))
    page = response.content.decode()
    assert "Switch account" in page
    assert "Acme Bistro" in page and "Other Place" in page
    assert "stops its running syncs. Everything already imported stays." in page
    assert "EAAA-other" not in page
    config.refresh_from_db()
    assert tokens.read(config).access_token == "EAAA-access-1"  # nothing applied yet
    pending = OAuthState.objects.exclude(pending_grant_encrypted="").get()
    assert "EAAA-other" not in pending.pending_grant_encrypted

    with django_capture_on_commit_callbacks(execute=True):
        done = owner_client.post(
            "/integrations/square/switch/", {"pending": str(pending.id), "action": "switch"}
        )
    assert oauth_result(done)["outcome"] == "switched"
    config.refresh_from_db()
    assert config.external_account_id == "MERCHANT-2"
    assert tokens.read(config).access_token == "EAAA-other"
    assert IntegrationEvent.objects.filter(config=config, kind="account_switched").exists()
    # The other merchant's syncs start afresh: a catalog cursor or location choice of the
    # previous one would skip or filter the new data. Its running job stops.
    assert (config.settings, config.cursors, config.last_synced) == ({}, {}, {})
    assert config.last_synced_at is None
    running.refresh_from_db()
    assert running.cancel_requested
    # Nobody holds the previous merchant's grant any more: it is given back.
    revoke = responses.calls[-1].request
    assert revoke.url == f"{SQ}/oauth2/revoke"
    assert json.loads(revoke.body)["access_token"] == "EAAA-access-1"
    again = owner_client.post(
        "/integrations/square/switch/", {"pending": str(pending.id), "action": "switch"}
    )
    assert again.status_code == 400


@pytest.mark.django_db(transaction=True)  # the page is fetched by the sync's own thread
@responses.activate
def test_a_job_whose_token_a_switch_revoked_ends_cancelled_and_leaves_the_connection_healthy(
    org, make_connection
):
    from integrations.jobs import execute

    config = make_connection(org, "square", account_id="MERCHANT-1")
    job = SyncJob.objects.create(
        organization=org, provider="square", config=config, kind="square.catalog"
    )

    def switched_meanwhile(request):
        # The switch stops the job and revokes the previous grant while its page is on its way.
        SyncJob.objects.filter(pk=job.pk).update(cancel_requested=True)
        body = {"errors": [{"category": "AUTHENTICATION_ERROR", "code": "ACCESS_TOKEN_REVOKED"}]}
        return 401, {}, json.dumps(body)

    responses.add_callback(responses.POST, f"{SQ}/v2/catalog/search", callback=switched_meanwhile)

    execute.run(str(job.pk))

    job.refresh_from_db()
    assert job.status == SyncJob.Status.CANCELLED and not job.error
    config.refresh_from_db()
    assert config.status == IntegrationConfig.Status.CONNECTED and not config.last_error


def test_a_job_stopped_by_a_switch_does_not_write_its_cursor(org, make_connection):
    from integrations.jobs import outcome

    config = make_connection(org, "square", account_id="MERCHANT-2")
    job = SyncJob.objects.create(
        organization=org,
        provider="square",
        config=config,
        kind="square.catalog",
        status=SyncJob.Status.RUNNING,
        cancel_requested=True,  # set by the switch, under the connection's row lock
    )

    outcome.mark_synced(config, job, {"begin_time": "2026-01-01T00:00:00Z"})

    config.refresh_from_db()
    assert (config.cursors, config.last_synced) == ({}, {})


@responses.activate
def test_keeping_the_current_account_revokes_the_unwanted_grant(owner_client, org, make_connection):
    config = make_connection(org, "square", account_id="MERCHANT-1")
    square_grants(responses, access="EAAA-unwanted", merchant="MERCHANT-2")
    responses.post(f"{SQ}/oauth2/revoke", json={"success": True})
    callback(owner_client, code="c", state=begin(owner_client))
    pending = OAuthState.objects.exclude(pending_grant_encrypted="").get()
    done = owner_client.post(
        "/integrations/square/switch/", {"pending": str(pending.id), "action": "keep"}
    )
    assert oauth_result(done)["outcome"] == "cancelled"
    config.refresh_from_db()
    assert config.external_account_id == "MERCHANT-1"
    revoke = responses.calls[-1].request
    assert revoke.headers["Authorization"] == "Client sq0csp-sous-local-secret"
    assert json.loads(revoke.body)["access_token"] == "EAAA-unwanted"


def test_the_callback_accepts_get_only(owner_client):
    assert owner_client.post("/integrations/callback/square", {"state": "x"}).status_code == 405
