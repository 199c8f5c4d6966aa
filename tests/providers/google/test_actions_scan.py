"""Scan Now's parameters, its finishing toast, and the watched-folder settings it reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.base import AppCredentials, InvalidParams
from providers.google.actions import ScanDrive
from providers.google.picker import sign_choice
from providers.google.provider import GoogleProvider
from providers.records.tally import Tally

NOW = datetime(2026, 3, 1, tzinfo=UTC)
RECIPES = {
    "id": "1rec",
    "name": "Recipes",
    "path": "My Drive / Kitchen / Recipes",
    "drive_id": None,
}
INVOICES = {"id": "1inv", "name": "Invoices", "path": "My Drive / Accounting / Invoices"}


def provider() -> GoogleProvider:
    return GoogleProvider(AppCredentials("id", "secret", "local", "http://127.0.0.1:9"))


def test_the_finishing_toast_counts_recipes_invoices_and_new_files():
    summary = ScanDrive().summary
    assert summary(Tally(recipes=42, invoices=118, documents_new=7)) == (
        "Drive scanned: 42 recipes, 118 invoices (7 new)"
    )
    assert summary(Tally(recipes=1)) == "Drive scanned: 1 recipe, 0 invoices (0 new)"
    assert summary(
        Tally(
            recipes=3,
            invoices=2,
            documents_new=1,
            documents_changed=4,
            documents_removed=2,
            documents_skipped=1,
            documents_downloaded=1,
        )
    ) == ("Drive scanned: 3 recipes, 2 invoices (1 new, 4 changed, 2 removed, 1 skipped)")
    assert summary(Tally(invoices=5, unavailable_folders=("recipe",))) == (
        "Drive scanned: 0 recipes, 5 invoices (0 new). "
        "Recipes folder no longer available, pick another"
    )


def test_scan_now_needs_a_watched_folder():
    action = provider().action("scan")
    with pytest.raises(InvalidParams, match="Choose a Recipes or Invoices folder first"):
        action.validate({}, settings={}, now=NOW)
    assert action.validate({}, settings={"folders": {"invoice": INVOICES}}, now=NOW) == {}
    assert action.kind("google") == "google.scan"


ACCOUNT = "google-user-1"


def clean(data: dict, current: dict) -> dict:
    return provider().clean_settings(data, current, account_id=ACCOUNT)


def test_a_folder_choice_from_the_picker_is_saved_with_id_name_and_path():
    saved = clean(
        {"kind": "recipe", "choice": sign_choice(RECIPES, ACCOUNT)},
        {"folders": {"invoice": INVOICES}},
    )
    assert saved == {"folders": {"invoice": INVOICES, "recipe": RECIPES}}


def test_a_forged_or_stale_choice_is_refused():
    signed = sign_choice(RECIPES, ACCOUNT)
    forged = signed[:-1] + ("A" if signed[-1] != "A" else "B")  # a tampered signature
    with pytest.raises(InvalidParams, match="expired"):
        clean({"kind": "recipe", "choice": forged}, {})
    with pytest.raises(InvalidParams, match="expired"):
        clean({"kind": "recipe", "choice": '{"id": "1rec"}'}, {})


def test_a_choice_made_for_another_google_account_is_refused():
    theirs = sign_choice(RECIPES, "google-user-2")
    with pytest.raises(InvalidParams, match="expired"):
        clean({"kind": "recipe", "choice": theirs}, {})


def test_one_folder_cannot_be_both_recipes_and_invoices():
    with pytest.raises(InvalidParams, match="already your Recipes folder"):
        clean(
            {"kind": "invoice", "choice": sign_choice(RECIPES, ACCOUNT)},
            {"folders": {"recipe": RECIPES}},
        )


def test_a_watched_folder_can_be_cleared():
    current = {"folders": {"recipe": RECIPES, "invoice": INVOICES}}
    assert clean({"kind": "recipe", "action": "clear"}, current) == {
        "folders": {"invoice": INVOICES}
    }
    with pytest.raises(InvalidParams):
        clean({"kind": "menus", "action": "clear"}, current)
