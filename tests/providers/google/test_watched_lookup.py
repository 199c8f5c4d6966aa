"""The drawer's `watched` lookup, split in two: what Drive says of the watched folders (fetched,
kept on the connection) and what the drawer shows of it for the folders saved now (no network).

HTTP is mocked with `responses` (Drive's files.get bodies, reference pack §2.1).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import responses
from django.http import QueryDict
from responses import matchers

from providers.base import AppCredentials
from providers.google.provider import GoogleProvider

DRIVE = "https://www.googleapis.com/drive/v3"
TOKEN = "ya29.secret-access-token"
FOLDER = "application/vnd.google-apps.folder"
ACCOUNT = "google-sub-1"
NOW = datetime(2026, 3, 12, 18, 0, tzinfo=UTC)


def _provider() -> GoogleProvider:
    credentials = AppCredentials(
        client_id="app.apps.googleusercontent.com",
        client_secret="secret",
        environment="production",
        local_base_url="",
    )
    return GoogleProvider(credentials)


def _file(file_id: str, status: int = 200, **body):
    responses.get(
        f"{DRIVE}/files/{file_id}",
        status=status,
        json={"id": file_id, "mimeType": FOLDER, **body}
        if status == 200
        else {"error": {"code": status, "message": "File not found: " + file_id}},
        match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
    )


def _settings(**ids) -> dict:
    return {"folders": {kind: {"id": folder_id} for kind, folder_id in ids.items()}}


@responses.activate
def test_the_kept_data_says_where_each_watched_folder_is_or_why_it_is_gone():
    _file("RECIPES", name="Recipes", parents=["KITCHEN"])
    _file("KITCHEN", name="Kitchen", parents=["ROOT"])
    _file("ROOT", name="My Drive")
    _file("INVOICES", name="Invoices", parents=["ROOT"], trashed=True)
    _file("GONE", status=404)

    watched = _provider().fetch_lookup(
        "watched", TOKEN, settings=_settings(recipe="RECIPES", invoice="INVOICES")
    )
    gone = _provider().fetch_lookup("watched", TOKEN, settings=_settings(recipe="GONE"))

    assert watched == {
        "folders": {
            "RECIPES": {"available": True, "path": "My Drive / Kitchen / Recipes"},
            "INVOICES": {"available": False, "reason": "in the Drive trash"},
        }
    }
    assert gone == {
        "folders": {"GONE": {"available": False, "reason": "deleted or no longer shared"}}
    }
    assert json.loads(json.dumps(watched)) == watched  # kept as JSON on the connection


def test_the_drawer_shows_the_kept_state_of_the_folders_saved_now_only():
    kept = {
        "folders": {
            "RECIPES": {"available": True, "path": "My Drive / Kitchen / Recipes"},
            "OLD-INVOICES": {"available": True, "path": "My Drive / Invoices 2024"},
        }
    }
    params = QueryDict("recipe=RECIPES&invoice=NEW-INVOICES")

    shown = _provider().show_lookup("watched", kept, params, account_id=ACCOUNT, now=NOW)

    assert shown == {
        "status": {"recipe": {"available": True, "path": "My Drive / Kitchen / Recipes"}}
    }


def test_kept_data_that_does_not_know_a_folder_chosen_since_is_fetched_again():
    provider = _provider()
    kept = {"folders": {"RECIPES": {"available": True, "path": "My Drive / Recipes"}}}

    assert provider.lookup_covers("watched", kept, settings=_settings(recipe="RECIPES"))
    assert provider.lookup_covers("watched", kept, settings={})
    assert not provider.lookup_covers(
        "watched", kept, settings=_settings(recipe="RECIPES", invoice="INVOICES")
    )
