"""Scale-out: two workers on two "hosts" (their own working directory and MEDIA_ROOT, nothing
shared but PostgreSQL, Redis and the S3 bucket) run a Drive scan and a sales range between
them, and the web process (this one) then serves every imported document from the bucket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from django_celery_results.models import TaskResult

from integrations.jobs import dispatch, triggers
from integrations.models import SyncJob
from sous.documents.models import Document
from sous.sales.models import Order
from tests.conftest import TEST_ENCRYPTION_KEYS, database_url, wait_for
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    watch,
)
from tests.integrations.square_sync import (
    expected,
    local_date_days_ago,
    merchant_fixture,  # noqa: F401
    resize,
    square_config_fixture,  # noqa: F401
    start,
)

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ("host-a", "host-b")

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def worker(name: str, home: Path, env: dict):
    """`celery -A sous worker` as a host would run it, from its own directory and disk."""
    home.mkdir()
    log = (home / "worker.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sous",
            "worker",
            "-Q",
            "integrations,default",
            "-n",
            f"{name}@%h",
            "--pool",
            "solo",  # one task at a time: a second task has to go to the other host
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=home,
        env={**env, "MEDIA_ROOT": str(home / "media")},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def ready(names: list[str]) -> bool:
    from sous.celery import app

    answers = app.control.ping(destination=names, timeout=1.0) or []
    return {host for answer in answers for host in answer} == set(names)


def finished(job: SyncJob) -> SyncJob | None:
    return SyncJob.objects.filter(pk=job.pk).exclude(status__in=SyncJob.ACTIVE).first()


def drive_bytes(drive, token: str, document: Document) -> bytes:
    """The file as Google serves it: its bytes, or a Docs Editors file exported to PDF."""
    if document.mime_type.startswith("application/vnd.google-apps."):
        path, params = f"files/{document.external_id}/export", {"mimeType": "application/pdf"}
    else:
        path, params = f"files/{document.external_id}", {"alt": "media"}
    response = drive.drive(token, path, **params)
    assert response.status_code == 200, response.text
    return response.content


def test_two_hosts_share_the_work_and_every_document_reads_back_through_the_web(
    google_config,
    square_config,
    drive,
    product_on_sandbox,
    merchant,
    org,
    owner,
    client,
    s3_server,
    s3_storage,
    settings,
    tmp_path,
):
    if connection.vendor != "postgresql":
        pytest.skip("the workers reach the test database through a PostgreSQL URL")
    from sous.celery import app

    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    watch(google_config, drive, "invoice", "Accounting/Invoices")
    resize(product_on_sandbox, orders_per_day=60)
    # Six business days across the start of a month: two chunks for the two hosts.
    first_of_month = local_date_days_ago(4).replace(day=1)
    first, last = first_of_month - timedelta(days=3), first_of_month + timedelta(days=2)
    env = {
        **os.environ,
        **s3_server.environment(s3_storage),
        "DATABASE_URL": database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "INTEGRATIONS_ENCRYPTION_KEYS": ",".join(TEST_ENCRYPTION_KEYS),
        "PROVIDER_SANDBOX_URL": product_on_sandbox.url,
        "SQUARE_ENVIRONMENT": "local",
        "GOOGLE_ENVIRONMENT": "local",
        **{
            name: getattr(django_settings, name)
            for name in (
                "SQUARE_CLIENT_ID",
                "SQUARE_CLIENT_SECRET",
                "GOOGLE_CLIENT_ID",
                "GOOGLE_CLIENT_SECRET",
            )
        },
        "PYTHONPATH": str(ROOT),
    }
    app.control.purge()  # what the fixtures' connections queued: not part of this test
    names = [f"{host}@{socket.gethostname()}" for host in HOSTS]

    with ExitStack() as hosts:
        for host in HOSTS:
            hosts.enter_context(worker(host, tmp_path / host, env))
        wait_for(lambda: ready(names), timeout=90, interval=0.5, message="a worker never started")

        scan, _ = triggers.request(google_config, "scan", {})
        sales = start(square_config, "sales", {"start": str(first), "end": str(last)})
        scan = wait_for(lambda: finished(scan), timeout=180, message="the scan did not finish")
        sales = wait_for(lambda: finished(sales), timeout=180, message="the range did not finish")

    assert scan.status == SyncJob.Status.SUCCEEDED, scan.error_detail
    assert sales.status == SyncJob.Status.SUCCEEDED, sales.error_detail
    assert sales.children.count() == 2
    total = sum(
        expected(product_on_sandbox, loc, first, last)["count"] for loc in merchant["locations"]
    )
    assert Order.objects.filter(organization=org).count() == total
    ran_on = set(
        TaskResult.objects.filter(task_name=dispatch.RUN_JOB).values_list("worker", flat=True)
    )
    assert ran_on == set(names)  # both hosts did work
    for host in HOSTS:  # nothing was kept on a host's own disk
        assert not (tmp_path / host / "media").exists()

    # The web process: every document, read through the download view, is Google's file.
    documents = list(Document.objects.filter(organization=org, status=Document.Status.ACTIVE))
    assert len(documents) > 10
    assert {d.kind for d in documents} == {Document.Kind.RECIPE, Document.Kind.INVOICE}
    token = drive.connect()["access_token"]
    client.force_login(owner)
    for document in documents:
        response = client.get(reverse("documents:download", args=[document.pk]))
        assert response.status_code == 200, document.name
        content = b"".join(response.streaming_content)
        assert content == drive_bytes(drive, token, document), document.name
    assert set(s3_server.objects(s3_storage)) == {d.content.name for d in documents}
    assert not settings.MEDIA_ROOT.exists()
