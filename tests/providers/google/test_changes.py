"""The changes feed reflects control-API mutations (reference README §2.3)."""

from __future__ import annotations

from .helpers import MARIA, SAM

FILE_FIELDS = "name,parents,trashed,version,md5Checksum"
FIELDS = f"nextPageToken,newStartPageToken,changes(fileId,removed,time,file({FILE_FIELDS}))"
SHARED = {"supportsAllDrives": "true", "includeItemsFromAllDrives": "true"}


def start_token(google, token: str, **params) -> str:
    body = google.drive(token, "changes/startPageToken", **params).json()
    assert body["kind"] == "drive#startPageToken"
    return body["startPageToken"]


def all_changes(google, token: str, page_token: str, **params) -> tuple[list[dict], str]:
    """Follow nextPageToken to the end; returns (changes, newStartPageToken)."""
    changes = []
    while True:
        response = google.drive(token, "changes", pageToken=page_token, fields=FIELDS, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        changes += body["changes"]
        if "nextPageToken" in body:
            assert "newStartPageToken" not in body  # only the last page carries it
            page_token = body["nextPageToken"]
        else:
            return changes, body["newStartPageToken"]


def test_every_kind_of_change_is_reported_oldest_first(google, access_token, sandbox):
    token = start_token(google, access_token)
    mains = google.find("Kitchen/Recipes/Mains")["id"]
    tiramisu = google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")
    lemon = google.find("Kitchen/Recipes/Desserts/Lemon Tart.pdf")
    bechamel = google.find("Kitchen/Recipes/Sauces/Base sauces/Béchamel.pdf")
    creme = google.find("Kitchen/Recipes/Desserts/Crème Brûlée")
    before = google.drive(
        access_token, f"files/{tiramisu['id']}", fields="md5Checksum,version"
    ).json()

    added = google.control("POST", "files", json={"name": "Duck Confit.pdf", "parent": mains})
    google.control(
        "POST", f"files/{tiramisu['id']}/modify", json={"content": "Now with more mascarpone"}
    )
    google.control("POST", f"files/{lemon['id']}/trash")
    google.control("POST", f"files/{bechamel['id']}/move", json={"parent": mains})
    google.control("POST", f"files/{creme['id']}/delete")

    changes, new_token = all_changes(google, access_token, token)
    assert [c["fileId"] for c in changes] == [
        added["id"],
        tiramisu["id"],
        lemon["id"],
        bechamel["id"],
        creme["id"],
    ]
    new, modified, trashed, moved, deleted = changes
    assert new["file"] == {
        "name": "Duck Confit.pdf",
        "parents": [mains],
        "trashed": False,
        "version": "1",
        "md5Checksum": added["md5Checksum"],
    }
    assert modified["file"]["md5Checksum"] != before["md5Checksum"]
    assert int(modified["file"]["version"]) > int(before["version"])
    assert trashed["file"]["trashed"] is True and trashed["removed"] is False
    assert moved["file"]["parents"] == [mains]
    assert deleted == {"fileId": creme["id"], "removed": True, "time": deleted["time"]}
    assert [c["time"] for c in changes] == sorted(c["time"] for c in changes)

    # A token taken after the changes sees none of them.
    assert all_changes(google, access_token, new_token) == ([], new_token)
    assert start_token(google, access_token) == new_token
    assert sandbox.counters()["google.changes.list"] == 2


def test_changes_page_with_next_page_token(google, access_token):
    token = start_token(google, access_token)
    for i in range(5):
        google.control("POST", "files", json={"name": f"Delivery note {i}.pdf"})
    pages, page_token, seen = 0, token, []
    while True:
        body = google.drive(access_token, "changes", pageToken=page_token, pageSize=2).json()
        pages += 1
        seen += [c["file"]["name"] for c in body["changes"]]
        if "nextPageToken" not in body:
            assert "newStartPageToken" in body
            break
        page_token = body["nextPageToken"]
    assert pages == 3
    assert seen == [f"Delivery note {i}.pdf" for i in range(5)]


def test_a_file_changed_twice_is_listed_once_at_its_latest_change(google, access_token):
    token = start_token(google, access_token)
    notes = google.find("Notes.txt")["id"]
    menu = google.find("Menu — Spring 2026.pdf")["id"]
    google.control("POST", f"files/{notes}/modify")
    google.control("POST", f"files/{menu}/modify")
    google.control("POST", f"files/{notes}/modify", json={"name": "Notes (old).txt"})
    changes, _ = all_changes(google, access_token, token)
    assert [c["fileId"] for c in changes] == [menu, notes]
    assert changes[1]["file"]["name"] == "Notes (old).txt"


def test_trashing_a_folder_reports_what_is_inside_it(google, access_token):
    token = start_token(google, access_token)
    sauces = google.find("Kitchen/Recipes/Sauces")
    google.control("POST", f"files/{sauces['id']}/trash")
    changes, _ = all_changes(google, access_token, token)
    assert changes[0]["fileId"] == sauces["id"]
    assert len(changes) == 1 + 4 + 1 + 4  # the folder, its files, Base sauces and its files
    assert all(c["file"]["trashed"] for c in changes)
    google.control("POST", f"files/{sauces['id']}/untrash")
    untrashed, _ = all_changes(google, access_token, token)
    assert not any(c["file"]["trashed"] for c in untrashed)


def test_unsharing_removes_the_file_for_that_account_only(google, access_token):
    token = start_token(google, access_token)
    contract = google.find("Acme Bistro — Shared/Supplier contracts")
    google.control("POST", f"files/{contract['id']}/unshare", json={"account": MARIA})
    changes, _ = all_changes(google, access_token, token, **SHARED)
    assert {c["fileId"] for c in changes} >= {contract["id"]}
    assert all(c["removed"] and "file" not in c for c in changes)
    gone = google.drive(access_token, f"files/{contract['id']}", supportsAllDrives="true")
    assert gone.status_code == 404
    sam = google.connect_as(SAM)
    still = google.drive(sam["access_token"], f"files/{contract['id']}", supportsAllDrives="true")
    assert still.status_code == 200


def test_include_removed_false_hides_deletions(google, access_token):
    token = start_token(google, access_token)
    google.control("DELETE", f"files/{google.find('Notes.txt')['id']}")
    assert all_changes(google, access_token, token, includeRemoved="false")[0] == []
    assert len(all_changes(google, access_token, token)[0]) == 1


def test_shared_drive_changes_need_both_flags(google, access_token):
    token = start_token(google, access_token)
    item = google.find("Acme Bistro — Shared/Health & safety.pdf")
    google.control("POST", f"files/{item['id']}/modify")
    assert all_changes(google, access_token, token)[0] == []
    changes, _ = all_changes(google, access_token, token, **SHARED)
    assert [c["fileId"] for c in changes] == [item["id"]]
    body = google.drive(access_token, "changes", pageToken=token, **SHARED).json()
    assert body["changes"][0]["driveId"] == item["driveId"]


def test_moving_a_file_into_the_shared_drive_shows_it_to_the_other_member(google, access_token):
    sam = google.connect_as(SAM)
    sam_token = start_token(google, sam["access_token"])
    shared = google.find("Acme Bistro — Shared/Recipes (shared)")
    notes = google.find("Notes.txt")
    google.control("POST", f"files/{notes['id']}/move", json={"parent": shared["id"]})
    changes, _ = all_changes(google, sam["access_token"], sam_token, **SHARED)
    assert [c["fileId"] for c in changes] == [notes["id"]]
    assert changes[0]["file"]["parents"] == [shared["id"]]


def test_reset_restores_the_seed_and_clears_the_feed(google, access_token, sandbox):
    token = start_token(google, access_token)
    google.control("POST", "files", json={"name": "Temporary.pdf"})
    sandbox.reset()
    fresh = google.connect()["access_token"]
    assert start_token(google, fresh) == token
    assert all_changes(google, fresh, token)[0] == []
    assert all(f["name"] != "Temporary.pdf" for f in google.control("GET", "tree")["files"])


def test_a_page_token_is_required_and_numeric(google, access_token):
    missing = google.drive(access_token, "changes")
    assert missing.status_code == 400
    assert missing.json()["error"]["errors"][0]["reason"] == "required"
    assert google.drive(access_token, "changes", pageToken="abc").status_code == 400
