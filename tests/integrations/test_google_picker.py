"""The drawer's folder picker and watched folders, through our own endpoints.

Real views, real sandbox: browse, search, page, choose, reopen; the browser gets HTML from
Sous and never a Google token.
"""

from __future__ import annotations

import json
import re

import pytest

from integrations.models import IntegrationConfig, IntegrationEvent
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    watch,
)

pytestmark = pytest.mark.django_db

PICKER = "/integrations/google/lookup/folders/"
FOLDER = "application/vnd.google-apps.folder"


def rows(html: str) -> list[str]:
    """The folder names offered, in order."""
    return [
        re.sub(r"\s+", " ", name).strip()
        for name in re.findall(r'class="folder-name">(.*?)</span>', html, re.S)
    ]


def choice_for(html: str, path: str) -> str:
    match = re.search(
        r'name="choice" value="([^"]+)">\s*<button[^>]*aria-label="Use ' + re.escape(path) + " as",
        html,
    )
    assert match, f"no choice for {path}"
    return match.group(1)


def test_the_picker_starts_at_my_drive_and_the_shared_drives(owner_client, google_config):
    html = owner_client.get(PICKER, {"for": "recipe"}).content.decode()
    assert rows(html) == ["My Drive", "Acme Bistro — Shared"]
    assert "Search folders by name" in html


def test_browsing_into_subfolders_shows_where_you_are(owner_client, google_config, drive):
    kitchen = drive.find("Kitchen")["id"]
    html = owner_client.get(PICKER, {"for": "recipe", "parent": kitchen}).content.decode()
    assert rows(html) == ["Prep lists", "Recipes"]
    assert re.search(r"All drives</button>\s*/\s*<button[^>]*>My Drive</button>", html)
    assert "<strong>Kitchen</strong>" in html
    assert "Use this folder" in html and choice_for(html, "My Drive / Kitchen")
    assert choice_for(html, "My Drive / Kitchen / Recipes")


def test_a_shared_drive_browses_like_my_drive(owner_client, google_config, drive):
    shared = drive.control("GET", "drives")["drives"][0]["id"]
    html = owner_client.get(PICKER, {"for": "invoice", "parent": shared}).content.decode()
    assert rows(html) == ["Recipes (shared)", "Supplier contracts"]
    assert choice_for(html, "Acme Bistro — Shared / Supplier contracts")


def test_search_finds_folders_by_name_anywhere_with_their_path(owner_client, google_config):
    html = owner_client.get(PICKER, {"for": "recipe", "q": "Rec"}).content.decode()
    assert rows(html) == ["Recipes", "Recipes (shared)"]
    assert "My Drive / Kitchen / Recipes" in html
    assert "Acme Bistro — Shared / Recipes (shared)" in html
    none = owner_client.get(PICKER, {"for": "recipe", "q": "Zzz"}).content.decode()
    assert rows(none) == [] and "No folder name starts with" in none


def test_thousands_of_folders_come_a_page_at_a_time(owner_client, google_config, drive, sandbox):
    parent = drive.control("POST", "files", json={"name": "Archive", "mimeType": FOLDER})
    for n in range(60):
        drive.control(
            "POST",
            "files",
            json={"name": f"Batch {n:04d}", "parent": parent["id"], "mimeType": FOLDER},
        )
    first = owner_client.get(PICKER, {"for": "recipe", "parent": parent["id"]}).content.decode()
    assert rows(first) == [f"Batch {n:04d}" for n in range(50)]
    more = re.search(r'hx-get="([^"]+page=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = owner_client.get(more).content.decode()
    assert rows(second) == [f"Batch {n:04d}" for n in range(50, 60)]
    assert "Search folders by name" not in second  # only the new rows, appended to the list
    # One Drive page per request: a big Drive is never listed whole.
    assert sandbox.counters()["google.files.list"] == 2


def test_choosing_a_folder_saves_it_and_the_drawer_shows_it(owner_client, google_config, owner):
    search = owner_client.get(PICKER, {"for": "invoice", "q": "Invoices"}).content.decode()
    response = owner_client.post(
        "/integrations/google/settings/",
        {"kind": "invoice", "choice": choice_for(search, "My Drive / Accounting / Invoices")},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["sous:settings-saved"] == {"provider": "google"}
    config = IntegrationConfig.objects.get(pk=google_config.pk)
    saved = config.settings["folders"]["invoice"]
    assert saved["name"] == "Invoices" and saved["path"] == "My Drive / Accounting / Invoices"
    assert saved["id"] and saved["drive_id"] is None
    assert IntegrationEvent.objects.filter(kind="settings_changed", actor=owner).exists()

    drawer = owner_client.get("/integrations/google/manage/").content.decode()
    assert "My Drive / Accounting / Invoices" in drawer
    assert "Scan Now" in drawer
    assert f"lookup/watched/?recipe=&amp;invoice={saved['id']}" in drawer


def test_a_member_sees_the_folders_but_cannot_change_them(
    client, member, google_config, drive, owner_client
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    client.force_login(member)
    drawer = client.get("/integrations/google/manage/").content.decode()
    assert "My Drive / Kitchen / Recipes" in drawer
    assert "Change folder" not in drawer and "Scan Now" not in drawer
    response = client.post("/integrations/google/settings/", {"kind": "recipe", "action": "clear"})
    assert response.status_code == 403


def test_the_browser_never_receives_a_google_token(owner_client, google_config, drive, sandbox):
    watch(google_config, drive, "recipe", "Kitchen/Recipes")
    kitchen = drive.find("Kitchen")["id"]
    pages = [
        owner_client.get("/integrations/google/manage/"),
        owner_client.get(PICKER, {"for": "recipe"}),
        owner_client.get(PICKER, {"for": "recipe", "parent": kitchen}),
        owner_client.get(PICKER, {"for": "recipe", "q": "Rec"}),
        owner_client.get(
            "/integrations/google/lookup/watched/",
            {"recipe": google_config.settings["folders"]["recipe"]["id"]},
        ),
    ]
    issued = sandbox.issued_tokens()
    assert issued
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode() + json.dumps(dict(response.headers))
        assert not [token for token in issued if token in body]


def test_a_google_error_in_the_picker_is_shown_not_raised(owner_client, google_config, sandbox):
    sandbox.control("POST", "google/grants/revoke", json={})
    html = owner_client.get(PICKER, {"for": "recipe"}).content.decode()
    assert 'role="alert"' in html and "Google" in html
    assert rows(html) == []
