"""The whole connect flow against the provider sandbox over real HTTP."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integrations.models import IntegrationConfig, IntegrationEvent
from integrations.services import health, tokens
from providers.errors import GrantRefused
from tests.consent import callback_path, consent

pytestmark = pytest.mark.django_db


def connect(client, key, decision="allow", choice=None):
    start = client.get(f"/integrations/connect/{key}/")
    assert start.status_code == 302
    path, params = callback_path(consent(start["Location"], decision, choice))
    return client.get(path, params)


@pytest.mark.parametrize("key", ["square", "google"])
def test_a_full_connect_stores_a_working_connection(owner_client, org, product_on_sandbox, key):
    response = connect(owner_client, key)
    assert response.status_code == 200, response.content[:500]
    config = IntegrationConfig.objects.get(organization=org, provider=key)
    assert config.account_name and config.external_account_id
    report = health.check(config)
    assert report.healthy, report.detail
    issued = product_on_sandbox.issued_tokens()
    assert tokens.read(config).access_token in issued


@pytest.mark.parametrize("key", ["square", "google"])
def test_deny_at_the_consent_screen_stores_nothing(owner_client, product_on_sandbox, key):
    response = connect(owner_client, key, decision="deny")
    assert b"Connection cancelled" in response.content
    assert not IntegrationConfig.objects.exists()


def test_a_replayed_callback_is_refused_even_with_a_fresh_code(owner_client, product_on_sandbox):
    start = owner_client.get("/integrations/connect/square/")
    path, params = callback_path(consent(start["Location"]))
    assert owner_client.get(path, params).status_code == 200
    IntegrationConfig.objects.all().delete()
    assert owner_client.get(path, params).status_code == 400
    assert not IntegrationConfig.objects.exists()


def test_a_forged_callback_with_a_real_code_is_refused(
    owner_client, client_factory, outsider, product_on_sandbox
):
    # The attacker consents with their own account and feeds the victim their callback URL.
    attacker = client_factory()
    attacker.force_login(outsider)
    start = attacker.get("/integrations/connect/square/")
    path, params = callback_path(consent(start["Location"]))
    assert owner_client.get(path, params).status_code == 400
    assert not IntegrationConfig.objects.exists()


def test_an_expired_access_token_is_refreshed_before_use(owner_client, org, product_on_sandbox):
    connect(owner_client, "google")
    config = IntegrationConfig.objects.get(provider="google")
    product_on_sandbox.control("POST", "tokens/expire")
    before = product_on_sandbox.counters().get("google.oauth.token.refresh_token", 0)
    report = health.check(config, force=True)
    assert report.healthy, report.detail
    assert product_on_sandbox.counters()["google.oauth.token.refresh_token"] == before + 1
    assert IntegrationEvent.objects.filter(config=config, kind="token_refreshed").exists()


def test_a_revoked_grant_goes_to_error_and_a_reconnect_recovers(
    owner_client, org, product_on_sandbox
):
    connect(owner_client, "google")
    config = IntegrationConfig.objects.get(provider="google")
    product_on_sandbox.control("POST", "google/grants/revoke", json={})
    config.token_expires_at = timezone.now()  # make the next call refresh
    config.save()
    with pytest.raises(GrantRefused):
        tokens.access_token(config)
    config.refresh_from_db()
    assert config.in_error and config.last_error.startswith("Re-auth required")
    page = owner_client.get("/admin/integrations/").content.decode()
    assert "Reconnect" in page

    assert connect(owner_client, "google").status_code == 200
    config.refresh_from_db()
    assert not config.in_error
    assert health.check(config, force=True).healthy


def test_disconnect_deletes_even_when_the_provider_is_down(owner_client, org, product_on_sandbox):
    connect(owner_client, "square")
    product_on_sandbox.knobs(rate_5xx=1.0)
    response = owner_client.post("/integrations/square/disconnect/")
    assert response.status_code == 302
    assert not IntegrationConfig.objects.exists()


def test_a_reconnect_with_another_merchant_asks_before_switching(owner_client, product_on_sandbox):
    connect(owner_client, "square")
    first = IntegrationConfig.objects.get().external_account_id
    response = connect(owner_client, "square", choice=1)
    assert b"Switch account" in response.content
    assert IntegrationConfig.objects.get().external_account_id == first


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_callers_with_an_expired_token_cause_one_refresh(
    owner_client, org, product_on_sandbox
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers instead)")
    connect(owner_client, "square")
    config = IntegrationConfig.objects.get()
    IntegrationConfig.objects.filter(pk=config.pk).update(token_expires_at=timezone.now())
    before = product_on_sandbox.counters().get("square.oauth.token.refresh_token", 0)
    barrier = threading.Barrier(20)
    results, errors = [], []

    def caller():
        from django.db import connection as thread_connection

        try:
            stale = IntegrationConfig.objects.get(pk=config.pk)
            barrier.wait(timeout=30)
            results.append(tokens.access_token(stale))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=caller) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(set(results)) == 1 and len(results) == 20
    assert product_on_sandbox.counters()["square.oauth.token.refresh_token"] == before + 1
    config.refresh_from_db()
    assert config.token_expires_at > timezone.now() + timedelta(days=29)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", ["square", "google"])
def test_health_checks_after_an_early_expiry_refresh_once_and_stay_connected(
    owner_client, org, product_on_sandbox, key
):
    """The provider expired the token before the time it gave us (Square answers its token
    status with a bare UNAUTHORIZED then): twenty drawers opening at once cause one refresh,
    and the connection is never marked Error."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers instead)")
    connect(owner_client, key)
    config = IntegrationConfig.objects.get(provider=key)
    product_on_sandbox.control("POST", "tokens/expire")
    counter = f"{key}.oauth.token.refresh_token"
    before = product_on_sandbox.counters().get(counter, 0)
    barrier = threading.Barrier(20)
    reports, errors = [], []

    def drawer():
        from django.db import connection as thread_connection

        try:
            stale = IntegrationConfig.objects.get(pk=config.pk)
            barrier.wait(timeout=30)
            reports.append(health.check(stale, force=True))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=drawer) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(reports) == 20 and all(report.healthy for report in reports), reports
    assert product_on_sandbox.counters()[counter] == before + 1
    config.refresh_from_db()
    assert not config.in_error
    assert not IntegrationEvent.objects.filter(config=config, kind="health_failed").exists()


def test_a_health_check_on_a_revoked_square_grant_tries_one_refresh_then_reauth(
    owner_client, org, product_on_sandbox
):
    connect(owner_client, "square")
    config = IntegrationConfig.objects.get(provider="square")
    product_on_sandbox.control("POST", f"square/merchants/{config.external_account_id}/revoke")
    before = product_on_sandbox.counters().get("square.oauth.token.refresh_token", 0)
    report = health.check(config, force=True)
    assert not report.healthy and report.detail.startswith("Re-auth required")
    assert product_on_sandbox.counters()["square.oauth.token.refresh_token"] == before + 1
    config.refresh_from_db()
    assert config.in_error


def test_a_drawer_opened_after_a_revocation_never_shows_the_cached_healthy_report(
    owner_client, org, product_on_sandbox
):
    """The minute-long health cache said "healthy"; the connection went to Error since (here a
    refused refresh; Square's revocation webhook does the same): the drawer checks again."""
    connect(owner_client, "square")
    config = IntegrationConfig.objects.get(provider="square")
    assert health.check(config).healthy
    product_on_sandbox.control("POST", f"square/merchants/{config.external_account_id}/revoke")
    config.token_expires_at = timezone.now()
    config.save()
    with pytest.raises(GrantRefused):
        tokens.access_token(config)
    drawer = owner_client.get("/integrations/square/manage/").content.decode()
    assert "Connection healthy" not in drawer
    config.refresh_from_db()
    assert health.cached(config) is None
    assert not health.check(config).healthy
