"""The integrations commands as staff and cron meet them: from a shell, on a terminal or not."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from integrations.models import IntegrationConfig, SyncJob
from tests.conftest import SANDBOX_APPS, TEST_ENCRYPTION_KEYS, database_url
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    square_config_fixture,  # noqa: F401
)

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.Popen:
    """manage.py in its own process, on the test database, with output to a pipe (as cron)."""
    # Python buffers a pipe by default; this machine's PYTHONUNBUFFERED would hide that.
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **inherited,
            "DATABASE_URL": database_url(),
            "REDIS_URL": django_settings.REDIS_URL,
            "INTEGRATIONS_ENCRYPTION_KEYS": ",".join(TEST_ENCRYPTION_KEYS),
            "DEBUG": "true",  # a developer's machine: the production checks stay quiet
            **SANDBOX_APPS,
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["integrations_sync", "--org", "acme"],
        ["integrations_sync", "--org", "acme", "--provider", "toast", "--kind", "catalog"],
        ["integrations_status", "--colour"],
    ],
)
def test_a_mistyped_command_line_gets_one_line_and_the_help_hint(args):
    command = _manage(*args)
    out, err = command.communicate(timeout=60)
    assert command.returncode == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"{args[0]}: ") and err.rstrip().endswith(f"(see {args[0]} --help)")


@pytest.mark.django_db
def test_a_sync_a_moment_ago_is_just_now_not_zero_minutes(org, square_config):
    IntegrationConfig.objects.filter(pk=square_config.pk).update(last_synced_at=timezone.now())
    out = io.StringIO()
    call_command("integrations_status", "--no-health", stdout=out)
    assert "just now" in out.getvalue()
    assert "0 minutes" not in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_off_a_terminal_a_long_sync_logs_progress_while_it_runs(
    org, square_config, sandbox, integrations_worker
):
    # Four pages of 800 ms: a sync long enough that cron's log should hear of it before the end.
    resize(sandbox, items=3500)
    sandbox.knobs(latency_ms=800)
    command = _manage(
        "integrations_sync",
        "--org",
        org.slug,
        "--provider",
        "square",
        "--kind",
        "catalog",
        "--wait",
        SQUARE_ENVIRONMENT="local",
        PROVIDER_SANDBOX_URL=sandbox.url,
    )
    try:
        started = command.stdout.readline()
        first_progress = command.stdout.readline()
        # The line reached the pipe while the sync was still going, not at exit.
        assert SyncJob.objects.filter(status__in=SyncJob.ACTIVE).exists(), first_progress
        out, err = command.communicate(timeout=120)
    finally:
        command.kill()
    assert started.startswith(f"Started Catalog sync for {org.slug}")
    assert first_progress.startswith("Catalog sync: ")
    assert command.returncode == 0, err
    assert "Catalog synced: 3,500 items" in out
