"""Shared fixtures and helpers for the Google Drive tests (picker, Scan Now, disconnect).

The connection holds real sandbox tokens, obtained through the sandbox's OAuth consent over
plain HTTP (as tests/providers/google does); stored content goes to a per-test MEDIA_ROOT.
Test modules import the fixtures they use from here (`drive_fixture` provides `drive`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.jobs import execute, triggers
from integrations.models import SyncJob
from tests.providers.google.helpers import MARIA, GoogleSandbox


@pytest.fixture(name="drive")
def drive_fixture(sandbox, settings, tmp_path) -> GoogleSandbox:
    """The Google sandbox seen over HTTP, with the product pointed at it."""
    settings.PROVIDER_SANDBOX_URL = sandbox.url
    settings.MEDIA_ROOT = tmp_path / "media"
    return GoogleSandbox(sandbox.url)


@pytest.fixture(name="google_config")
def google_config_fixture(drive, org, make_connection):
    """Maria's Drive connected to `org` with drive.readonly, as the callback would save it."""
    grant = drive.connect()
    userinfo = drive.http.get(
        f"{drive.base}/oauth2/v3/userinfo",
        headers={"Authorization": f"Bearer {grant['access_token']}"},
    ).json()
    return make_connection(
        org,
        "google",
        access=grant["access_token"],
        refresh=grant["refresh_token"],
        expires_in=timedelta(seconds=grant["expires_in"]),
        account_id=userinfo["sub"],
        name=userinfo["name"],
        email=MARIA,
    )


def watch(config, drive: GoogleSandbox, kind: str, path: str, **account) -> dict:
    """Save a watched folder as the picker would (id, name, path, shared drive)."""
    found = drive.find(path, **account)
    top = "" if found["driveId"] else "My Drive / "
    folder = {
        "id": found["id"],
        "name": found["name"],
        "path": top + found["path"].replace("/", " / "),
        "drive_id": found["driveId"],
    }
    folders = dict(config.settings.get("folders") or {})
    folders[kind] = folder
    config.settings = {**config.settings, "folders": folders}
    config.save(update_fields=["settings"])
    return found


def scan(config) -> SyncJob:
    """Request Scan Now and run it here, in this thread, to the end."""
    job, created = triggers.request(config, "scan", {})
    assert created
    execute.run(str(job.id))
    job.refresh_from_db()
    config.refresh_from_db()
    return job


def downloads(sandbox) -> int:
    """Bytes Google served: alt=media downloads plus Docs exports."""
    counters = sandbox.counters()
    return counters.get("google.files.download", 0) + counters.get("google.files.export", 0)
