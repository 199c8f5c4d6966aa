"""The Google half's test hooks and its command-line flags."""

from __future__ import annotations

import argparse
import base64
import hashlib

import requests

from providers.google.sandbox import add_arguments
from providers.google.sandbox.config import DEFAULT_REDIRECT_URIS, GoogleConfig


def parse(argv: list[str]) -> GoogleConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return GoogleConfig.from_args(parser.parse_args(argv))


def test_flags_have_defaults_and_environment_overrides(monkeypatch):
    config = parse([])
    assert config.client_id == "sous-local.apps.googleusercontent.com"
    assert config.client_secret == "GOCSPX-sous-local-secret"
    assert config.redirect_uris == DEFAULT_REDIRECT_URIS
    monkeypatch.setenv("SANDBOX_GOOGLE_REDIRECT_URIS", "http://a/cb, http://b/cb")
    monkeypatch.setenv("SANDBOX_GOOGLE_EXTRA_FOLDERS", "2500")
    monkeypatch.setenv("SANDBOX_GOOGLE_CLIENT_ID", "other.apps.googleusercontent.com")
    config = parse([])
    assert config.redirect_uris == ("http://a/cb", "http://b/cb")
    assert config.data.extra_folders == 2500
    assert config.client_id == "other.apps.googleusercontent.com"


def test_a_repeated_redirect_uri_flag_replaces_the_default_list():
    config = parse(["--google-redirect-uri", "http://x/cb", "--google-redirect-uri", "http://y/cb"])
    assert config.redirect_uris == ("http://x/cb", "http://y/cb")


def test_a_hand_built_namespace_gets_the_defaults():
    assert GoogleConfig.from_args(argparse.Namespace()) == GoogleConfig()


def test_the_tree_lists_ids_names_and_paths(google):
    files = google.control("GET", "tree")["files"]
    recipes = next(f for f in files if f["path"] == "Kitchen/Recipes")
    assert recipes["name"] == "Recipes" and recipes["mimeType"].endswith(".folder")
    assert google.find("Kitchen/Recipes") == recipes


def test_created_files_take_exact_bytes_or_generated_content(google, access_token):
    raw = b"col1,col2\n1,2\n"
    exact = google.control(
        "POST",
        "files",
        json={
            "name": "prices.csv",
            "parent": "Accounting",
            "content_base64": base64.b64encode(raw).decode(),
        },
    )
    assert exact["md5Checksum"] == hashlib.md5(raw).hexdigest() and exact["size"] == len(raw)
    body = google.drive(access_token, f"files/{exact['id']}", alt="media")
    assert body.content == raw and body.headers["content-type"].startswith("text/csv")

    folder = google.control(
        "POST",
        "files",
        json={
            "name": "Specials",
            "parent": "Kitchen/Recipes",
            "mimeType": "application/vnd.google-apps.folder",
        },
    )
    doc = google.control(
        "POST",
        "files",
        json={
            "name": "Duck Confit",
            "parent": folder["id"],
            "mimeType": "application/vnd.google-apps.document",
            "content": "Duck legs\nSalt\nThyme",
        },
    )
    assert doc["path"] == "Kitchen/Recipes/Specials/Duck Confit"
    text = google.drive(access_token, f"files/{doc['id']}/export", mimeType="text/plain")
    assert "Thyme" in text.content.decode("utf-8-sig")


def test_modify_changes_the_bytes_md5_and_version(google):
    item = google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")
    before = google.control("GET", f"files/{item['id']}")
    after = google.control("POST", f"files/{item['id']}/modify")
    assert after["md5Checksum"] != before["md5Checksum"]
    assert after["version"] > before["version"]
    assert after["modifiedTime"] > before["modifiedTime"]


def test_bad_control_requests_say_what_is_wrong(google):
    base = f"{google.url}/_sandbox/google"
    assert requests.get(f"{base}/lookup", params={"path": "No/Such"}).status_code == 404
    assert requests.post(f"{base}/files/nope/trash").status_code == 404
    assert requests.post(f"{base}/files", json={}).status_code == 400
    recipes = google.find("Kitchen/Recipes")["id"]
    kitchen = google.find("Kitchen")["id"]
    assert (
        requests.post(f"{base}/files/{kitchen}/move", json={"parent": recipes}).status_code == 400
    )
    assert requests.post(f"{base}/knobs", json={"nope": 1}).status_code == 400


def test_knobs_and_clock_are_reset(google, sandbox):
    google.control("POST", "knobs", json={"partial_pages": True})
    google.control("POST", "clock", json={"advance": 3600})
    sandbox.reset()
    assert google.control("GET", "knobs")["partial_pages"] is False
    assert google.control("GET", "clock")["offset"] == 0
