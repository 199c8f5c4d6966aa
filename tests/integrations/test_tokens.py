"""Refreshing tokens: ahead of expiry, once under a lock, permanent refusals vs. outages."""

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from integrations.models import IntegrationEvent
from integrations.services import tokens
from providers.errors import GrantRefused, Unavailable
from tests.conftest import UNREACHABLE_SANDBOX

pytestmark = pytest.mark.django_db
TOKEN_URL = f"{UNREACHABLE_SANDBOX}/square/oauth2/token"
GOOGLE_TOKEN_URL = f"{UNREACHABLE_SANDBOX}/google/token"


def refreshed(rsps, access="EAAA-refreshed"):
    rsps.post(
        TOKEN_URL,
        json={
            "access_token": access,
            "token_type": "bearer",
            "expires_at": (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "merchant_id": "MERCHANT-1",
            "refresh_token": "EQAA-refresh-1",
        },
    )


@responses.activate
def test_a_token_far_from_expiry_is_used_as_is(org, make_connection):
    config = make_connection(org, "square", expires_in=timedelta(days=20))
    assert tokens.access_token(config) == "EAAA-access-1"
    assert len(responses.calls) == 0


@responses.activate
def test_a_token_about_to_expire_is_refreshed_first_and_recorded(org, make_connection):
    config = make_connection(org, "square", expires_in=timedelta(minutes=2))
    refreshed(responses)
    assert tokens.access_token(config) == "EAAA-refreshed"
    body = json.loads(responses.calls[0].request.body)
    assert body["grant_type"] == "refresh_token" and body["refresh_token"] == "EQAA-refresh-1"
    config.refresh_from_db()
    assert config.token_expires_at > timezone.now() + timedelta(days=29)
    assert IntegrationEvent.objects.filter(config=config, kind="token_refreshed").count() == 1


@responses.activate
def test_a_second_caller_with_the_stale_row_does_not_refresh_again(org, make_connection):
    config = make_connection(org, "square", expires_in=timedelta(minutes=2))
    stale_copy = type(config).objects.get(pk=config.pk)
    refreshed(responses)
    tokens.access_token(config)
    assert tokens.access_token(stale_copy) == "EAAA-refreshed"
    assert len(responses.calls) == 1


@responses.activate
def test_a_refused_refresh_puts_the_connection_in_error_once(org, make_connection):
    config = make_connection(org, "google", expires_in=timedelta(seconds=0))
    responses.post(
        GOOGLE_TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
    for _ in range(2):
        with pytest.raises(GrantRefused):
            tokens.access_token(config)
    config.refresh_from_db()
    assert config.in_error
    assert config.last_error.startswith("Re-auth required")
    assert "invalid_grant" in config.last_error
    assert IntegrationEvent.objects.filter(config=config, kind="refresh_refused").count() == 1


@responses.activate
def test_an_outage_during_refresh_is_transient_and_leaves_the_connection_alone(
    org, make_connection
):
    config = make_connection(org, "square", expires_in=timedelta(seconds=0))
    responses.post(TOKEN_URL, status=503, json={"errors": [{"code": "SERVICE_UNAVAILABLE"}]})
    with pytest.raises(Unavailable):
        tokens.access_token(config)
    config.refresh_from_db()
    assert not config.in_error


@responses.activate
def test_a_later_successful_refresh_clears_the_error_and_records_recovery(org, make_connection):
    from integrations.services import status

    config = make_connection(org, "square", expires_in=timedelta(seconds=0))
    status.mark_error(config, "Re-auth required: Square is down", kind="health_failed")
    refreshed(responses)
    tokens.access_token(config)
    config.refresh_from_db()
    assert not config.in_error
    assert IntegrationEvent.objects.filter(config=config, kind="recovered").exists()


def test_token_sets_and_connections_never_show_tokens_in_their_repr(org, make_connection):
    from providers.oauth import TokenSet

    assert "secret" not in repr(TokenSet(access_token="secret", refresh_token="secret"))
    config = make_connection(org, "square", access="EAAA-in-repr?")
    assert "EAAA" not in repr(config) and config.access_token_encrypted not in repr(config)


@responses.activate
def test_the_schedule_refreshes_square_tokens_older_than_six_days_and_leaves_fresh_ones(
    org, other_org, make_connection
):
    from integrations.models import IntegrationConfig
    from integrations.tasks import refresh_tokens

    idle = make_connection(org, "square", expires_in=timedelta(days=20))
    fresh = make_connection(other_org, "square", access="EAAA-fresh", expires_in=timedelta(days=29))
    IntegrationConfig.objects.filter(pk=idle.pk).update(
        token_refreshed_at=timezone.now() - timedelta(days=7)
    )
    refreshed(responses, access="EAAA-renewed")
    assert refresh_tokens() == {"refreshed": 1, "failed": 0}
    idle.refresh_from_db()
    fresh.refresh_from_db()
    assert tokens.read(idle).access_token == "EAAA-renewed"
    assert tokens.read(fresh).access_token == "EAAA-fresh"
    event = IntegrationEvent.objects.get(config=idle, kind="token_refreshed")
    assert event.who == "schedule"
