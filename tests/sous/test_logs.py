"""Logs: JSON lines that keep every extra field and say which request, task and job they are
about; plain lines for developers that still show the ids; never a token."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from integrations.jobs import triggers
from integrations.models import IntegrationConfig, SyncJob
from sous import logs
from tests.conftest import wait_for
from tests.consent import connect_through_sandbox
from tests.sous import celery_processes
from tests.sous.procfile import environment, probe


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.django_db(transaction=True)
def test_a_failed_jobs_json_line_in_the_workers_log_names_its_job_org_connection_and_task(
    owner_client, org, product_on_sandbox, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process is pointed at the test database through a PostgreSQL URL")
    from sous.celery import app

    assert connect_through_sandbox(owner_client, "square").status_code == 200
    config = IntegrationConfig.objects.get(organization=org, provider="square")
    # Revoked in the merchant's Square dashboard: the next sync fails with "Re-auth required".
    product_on_sandbox.control("POST", f"square/merchants/{config.external_account_id}/revoke")
    app.control.purge()
    stderr = tmp_path / "worker.stderr"

    with celery_processes.worker(stderr, LOG_FORMAT="json", LOG_LEVEL="INFO"):
        job, _ = triggers.request(config, "catalog", {})
        failed = wait_for(
            lambda: SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.FAILED).first(),
            timeout=60,
            message="the job never failed",
        )
        line = wait_for(
            lambda: next(
                (
                    line
                    for line in json_lines(stderr.read_text())
                    if line["message"] == "integrations.job.failed"
                ),
                None,
            ),
            timeout=10,
            message="the worker never logged the failure",
        )

    assert line["level"] == "WARNING"
    assert line["logger"] == "integrations.jobs.outcome"
    assert line["job_id"] == str(job.pk)
    assert line["org_id"] == org.pk
    assert line["config_id"] == config.pk
    assert line["task_name"] == "integrations.run_job"
    assert line["task_id"] == failed.celery_task_id
    assert line["timestamp"]
    # The HTTP layer's lines of the same run carry the ids too, though it knows nothing of jobs.
    http = [line for line in json_lines(stderr.read_text()) if line["logger"] == "providers.http"]
    assert http and all(line.get("job_id") == str(job.pk) for line in http)
    # Every record is one JSON line: nothing in the worker's log is in another format.
    text = stderr.read_text().strip()
    assert text and all(line.startswith("{") for line in text.splitlines())


def test_json_lines_keep_every_extra_field_and_the_traceback(log_stream):
    stream = log_stream("json")
    log = logging.getLogger("integrations.test")
    try:
        raise ValueError("page 3 was not JSON")
    except ValueError:
        log.exception("integrations.job.crashed", extra={"job_id": "J-1", "event_id": 7})

    (line,) = json_lines(stream.getvalue())
    assert line["message"] == "integrations.job.crashed"
    assert line["level"] == "ERROR"
    assert (line["job_id"], line["event_id"]) == ("J-1", 7)
    assert "ValueError: page 3 was not JSON" in line["exception"]


def test_plain_lines_show_the_extra_fields_as_key_value(log_stream):
    stream = log_stream("plain")
    with logs.bind(request_id="req-42"):
        logging.getLogger("integrations.test").warning(
            "integrations.job.failed", extra={"job_id": "J-1", "org_id": 3}
        )

    line = stream.getvalue().strip()
    assert "WARNING integrations.test integrations.job.failed" in line
    assert line.endswith("[job_id=J-1 org_id=3 request_id=req-42]")


@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_tokens_passed_by_mistake_are_filtered_from_any_line(log_stream, log_format):
    stream = log_stream(log_format)
    log = logging.getLogger("providers.test")
    access, refresh = "EAAAl" + "x" * 40, "1//0" + "y" * 60
    log.info("sent Authorization: Bearer %s", access, extra={"refresh_token": refresh})
    log.info("square.grant", extra={"grant": {"access_token": access, "note": f"got {refresh}"}})
    try:
        raise RuntimeError(f"refused {access}")
    except RuntimeError:
        log.exception("square.refused")

    text = stream.getvalue()
    assert access not in text and refresh not in text and "Bearer" not in text
    assert text.count("[Filtered]") >= 4


@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_an_invitation_link_in_a_line_is_filtered(log_stream, log_format):
    """The link sets a password and joins the team: Django's own warnings (a CSRF failure, a
    404) name the path it was posted to."""
    stream = log_stream(log_format)
    token = "eyJpIjoxLCJuIjoiYWJjIn0:1xYRrR:gyR4vhFdyFc6JR2X6HcStOBDg1rlzYW793zvCkHTzeI"
    logging.getLogger("django.security.csrf").warning(
        "Forbidden (%s): %s", "CSRF token missing.", f"/invitations/{token}/"
    )
    text = stream.getvalue()
    assert token not in text and "/invitations/[Filtered]/" in text


SETTINGS_PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "format": settings.LOGGING["handlers"]["console"]["formatter"],
    "reporting": settings.ERROR_REPORTING,
}))
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"format": "json", "reporting": False}),
        ({"DEBUG": "true"}, {"format": "plain", "reporting": False}),
        ({"DEBUG": "true", "LOG_FORMAT": "JSON"}, {"format": "json", "reporting": False}),
        ({"SENTRY_DSN": "https://key@sentry.example/1"}, {"format": "json", "reporting": True}),
    ],
)
def test_the_environment_chooses_the_log_format_and_error_reporting(tmp_path, env, expected):
    """In a fresh interpreter, as a deployment starts (no .env: run from an empty folder)."""
    assert probe(SETTINGS_PROBE, env=environment(**env), cwd=tmp_path) == expected
