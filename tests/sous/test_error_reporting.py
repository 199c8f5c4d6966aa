"""Errors reach Sentry when SENTRY_DSN is set, with no token in them; staff are told "we have
been notified" only then."""

from __future__ import annotations

import gzip
import json
from urllib.parse import urlsplit

import brotli
import pytest
import responses
from django.db import connection

from integrations.jobs import triggers
from integrations.models import IntegrationConfig, SyncJob
from sous import sentry
from tests.conftest import wait_for
from tests.consent import connect_through_sandbox
from tests.notification_receiver import Receiver
from tests.sous import celery_processes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sentry_server():
    """Where the worker's SENTRY_DSN points: records every envelope the SDK sends."""
    server = Receiver("/")
    yield server
    server.close()


# The SDK compresses with brotli when it is installed (whitenoise's brotli is), else gzip.
DECOMPRESS = {"br": brotli.decompress, "gzip": gzip.decompress}


def envelopes(server: Receiver) -> list[bytes]:
    return [
        DECOMPRESS.get(r.headers.get("content-encoding"), bytes)(r.body) for r in server.received
    ]


def error_events(server: Receiver) -> list[dict]:
    return [
        json.loads(line)
        for envelope in envelopes(server)
        for line in envelope.splitlines()
        if line.startswith(b"{") and b'"exception"' in line
    ]


@pytest.fixture
def broken_square():
    """A Square that answers every call with an empty 200: the client cannot decode it, an
    error on our side to report (not one of Square's to show staff)."""
    server = Receiver("/")
    yield server.url.rstrip("/")
    server.close()


def finished(job_pk) -> SyncJob | None:
    return SyncJob.objects.filter(pk=job_pk).exclude(status__in=SyncJob.ACTIVE).first()


def test_no_token_reaches_a_log_line_or_sentry_through_connect_sync_and_a_crash(
    owner_client, org, product_on_sandbox, sentry_server, broken_square, log_stream, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process is pointed at the test database through a PostgreSQL URL")
    from sous.celery import app

    app.control.purge()
    web_log = log_stream("json")
    dsn = urlsplit(sentry_server.url)
    reporting = {"SENTRY_DSN": f"http://public@{dsn.netloc}/1", "LOG_FORMAT": "json"}
    for key in ("square", "google"):
        assert connect_through_sandbox(owner_client, key).status_code == 200
    product_on_sandbox.control("POST", "tokens/expire")  # every next call refreshes first
    for key in ("square", "google"):
        assert owner_client.get(f"/integrations/{key}/health/?force=1").status_code == 200
    square = IntegrationConfig.objects.get(organization=org, provider="square")

    product_on_sandbox.control("POST", "tokens/expire")  # the worker refreshes Square's too
    with celery_processes.worker(tmp_path / "worker-1.stderr", **reporting):
        synced, _ = triggers.request(square, "catalog", {})
        assert wait_for(lambda: finished(synced.pk), timeout=60).status == "succeeded"
    with celery_processes.worker(
        tmp_path / "worker-2.stderr", PROVIDER_SANDBOX_URL=broken_square, **reporting
    ):
        crashed, _ = triggers.request(square, "catalog", {})
        assert wait_for(lambda: finished(crashed.pk), timeout=60).status == "failed"
        wait_for(lambda: error_events(sentry_server), timeout=15, message="nothing reached Sentry")

    # The crash was reported, with its frames' local variables; those named like a secret are
    # filtered.
    event = error_events(sentry_server)[0]
    assert event["exception"]["values"][-1]["type"].endswith("DecodeError")
    frames = [f for value in event["exception"]["values"] for f in value["stacktrace"]["frames"]]
    assert any(frame.get("vars") for frame in frames)
    secret_named = {
        name: value
        for frame in frames
        for name, value in frame.get("vars", {}).items()
        if "token" in name
    }
    assert secret_named and set(secret_named.values()) == {"[Filtered]"}
    crashed.refresh_from_db()
    assert crashed.error == "An error on our side stopped it. We have been notified."

    issued = product_on_sandbox.issued_tokens()
    refreshes = product_on_sandbox.counters()
    assert refreshes["square.oauth.token.refresh_token"] == 2  # by the web process and the worker
    assert refreshes["google.oauth.token.refresh_token"] == 1
    seen = {
        "web log": web_log.getvalue(),
        "worker logs": "".join(p.read_text() for p in sorted(tmp_path.glob("*.stderr"))),
        "sentry": b"\n".join(envelopes(sentry_server)).decode(),
    }
    assert "integrations.job.failed" in seen["worker logs"]
    for where, text in seen.items():
        leaked = [token for token in issued if token in text]
        assert not leaked, f"{len(leaked)} token(s) in the {where}"
        assert "Bearer " not in text, where


def test_without_sentry_staff_are_not_told_they_were_notified(
    owner_client, org, product_on_sandbox, integrations_worker, settings
):
    assert settings.ERROR_REPORTING is False  # no SENTRY_DSN in the test environment
    assert connect_through_sandbox(owner_client, "square").status_code == 200
    search = f"{product_on_sandbox.url}/square/v2/catalog/search"

    with responses.RequestsMock(assert_all_requests_are_fired=False) as square:
        square.add_passthru(product_on_sandbox.url)
        square.add(responses.POST, search, body="<html><body>Bad gateway</body></html>")
        owner_client.post("/integrations/square/actions/catalog/", HTTP_HX_REQUEST="true")
        job = wait_for(lambda: SyncJob.objects.filter(status="failed").first(), timeout=60)

    shown = owner_client.get(f"/integrations/jobs/{job.pk}/").json()
    assert "notified" not in json.dumps(shown).lower()
    assert job.error == (
        "An error on our side stopped it. The details are in the server log; try again later."
    )
    drawer = owner_client.get("/integrations/square/manage/").content.decode()
    assert "The details are in the server log" in drawer and "notified" not in drawer.lower()


def test_an_event_leaves_for_sentry_without_headers_codes_or_tokens(sentry_server):
    """What Django's integration records of a request (an OAuth callback, say), through the
    SDK's whole pipeline (its scrubber, then ours) to the server."""
    import sentry_sdk

    access, refresh, code = "EAAAl" + "a" * 60, "EQAAl" + "b" * 60, "sq0cgp-" + "c" * 20
    assert sentry.init(f"http://public@{urlsplit(sentry_server.url).netloc}/1", environment="t")
    try:
        sentry_sdk.capture_event(
            {
                "message": f"refused Bearer {access}",
                "request": {
                    "url": "https://api.sous.tools/integrations/callback/square",
                    "query_string": f"code={code}&state=s-1&response_type=code",
                    "headers": {"Authorization": f"Bearer {access}", "Cookie": "sessionid=x"},
                    "data": {"client_secret": "sq0csp-x", "refresh_token": refresh},
                },
                "extra": {"grant": {"access_token": access, "expires_at": "2026-12-31"}},
                "breadcrumbs": {"values": [{"message": f"refreshed {refresh}"}]},
            }
        )
        sentry_sdk.flush()
        (sent,) = sentry_server.wait_for(1)
    finally:
        sentry_sdk.init()  # no DSN: reporting off again

    text = b"\n".join(envelopes(sentry_server)).decode()
    for secret in (access, refresh, code, "sq0csp-x", "sessionid"):
        assert secret not in text
    (event,) = [json.loads(line) for line in text.splitlines() if '"request"' in line]
    assert event["request"]["query_string"] == (
        "code=[Filtered]&state=[Filtered]&response_type=code"
    )
    assert event["extra"]["grant"]["expires_at"] == "2026-12-31"  # what is not secret stays
