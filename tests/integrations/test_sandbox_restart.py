"""Restarting `make run` restarts the sandbox too: with its state dir, a connection made
before stays healthy instead of turning into "Re-auth required"."""

import signal

import pytest

from integrations.models import IntegrationConfig, IntegrationEvent
from integrations.services import health
from providers.sandbox.testing import SandboxProcess
from tests.consent import connect_through_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept_sandbox(tmp_path, settings):
    """The sandbox as Procfile.dev runs it: its own process, with a state dir."""
    process = SandboxProcess("--state-dir", str(tmp_path)).start()
    settings.PROVIDER_SANDBOX_URL = process.url
    for key in ("square", "google"):
        uri = f"{settings.PUBLIC_BASE_URL}/integrations/callback/{key}"
        process.control("POST", f"{key}/redirect-uris", json={"uri": uri})
    yield process
    process.stop(signal.SIGKILL)


@pytest.mark.parametrize("key", ["square", "google"])
def test_a_connection_stays_healthy_across_sandbox_restarts(owner_client, kept_sandbox, key):
    assert connect_through_sandbox(owner_client, key).status_code == 200
    config = IntegrationConfig.objects.get(provider=key)
    assert health.check(config, force=True).healthy

    # `make run` again after the harshest stop: what the sandbox answered was on disk.
    kept_sandbox.stop(signal.SIGKILL)
    kept_sandbox.start()
    report = health.check(config, force=True)
    assert report.healthy, report.detail

    # The access token expired meanwhile: the refresh token kept across the restart mints
    # another.
    kept_sandbox.control("POST", "tokens/expire")
    kept_sandbox.stop(signal.SIGKILL)
    kept_sandbox.start()
    report = health.check(config, force=True)
    assert report.healthy, report.detail
    assert IntegrationEvent.objects.filter(config=config, kind="token_refreshed").exists()
    config.refresh_from_db()
    assert config.status == IntegrationConfig.Status.CONNECTED
