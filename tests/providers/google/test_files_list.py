"""files.list: q, paging, fields, orderBy and shared drives (reference README §2.1)."""

from __future__ import annotations

import pytest

from providers.sandbox.testing import run_sandbox

from .helpers import SAM, GoogleSandbox

FOLDER = "application/vnd.google-apps.folder"


def names(google, token, q, **params) -> list[str]:
    return sorted(f["name"] for f in google.list_all(token, q=q, **params))


def test_the_children_of_a_folder(google, access_token):
    mains = google.find("Kitchen/Recipes/Mains")["id"]
    assert names(google, access_token, f"'{mains}' in parents and trashed = false") == [
        "Braised Short Ribs.pdf",
        "Chicken Piccata",
        "Mushroom Risotto.pdf",
        "Seared Salmon with Dill — plated.jpg",
    ]


def test_root_means_my_drive_and_trashed_items_are_listed_unless_filtered(google, access_token):
    everything = names(google, access_token, "'root' in parents")
    live = names(google, access_token, "'root' in parents and trashed = false")
    assert {"Kitchen", "Accounting", "Staff", "Marketing", "Notes.txt"} <= set(live)
    # files.list returns trashed files unless asked not to (README §2.1).
    assert set(everything) - set(live) == {"Old menu 2024.pdf", "Old recipes"}
    # Inside a trashed folder, files are trashed too.
    assert names(google, access_token, "trashed = true") == [
        "Discontinued specials",
        "Old menu 2024.pdf",
        "Old recipes",
    ]


def test_mime_type_equals_and_not_equals(google, access_token):
    recipes = google.find("Kitchen/Recipes")["id"]
    folders = names(google, access_token, f"'{recipes}' in parents and mimeType = '{FOLDER}'")
    files = names(google, access_token, f"'{recipes}' in parents and mimeType != '{FOLDER}'")
    assert folders == ["Desserts", "Mains", "Sauces"]
    assert files == ["House Bread.pdf", "Recipe index"]


def test_name_contains_is_a_prefix_match(google, access_token):
    google.control("POST", "files", json={"name": "HelloWorld.pdf"})
    assert names(google, access_token, "name contains 'Hello'") == ["HelloWorld.pdf"]
    assert names(google, access_token, "name contains 'World'") == []  # README §2.1's example
    assert "Chocolate Lava Cake — plated.jpg" in names(google, access_token, "name contains 'lava'")
    assert names(google, access_token, "name contains 'ava cake'") == []


def test_name_equals(google, access_token):
    assert names(google, access_token, "name = 'Tiramisu.pdf'") == ["Tiramisu.pdf"]
    assert names(google, access_token, "name = 'tiramisu.pdf'") == []


def test_or_not_and_parentheses(google, access_token):
    mains = google.find("Kitchen/Recipes/Mains")["id"]
    desserts = google.find("Kitchen/Recipes/Desserts")["id"]
    q = (
        f"('{mains}' in parents or '{desserts}' in parents) "
        "and not mimeType = 'application/pdf' and trashed = false"
    )
    assert names(google, access_token, q) == [
        "Chicken Piccata",
        "Chocolate Lava Cake — plated.jpg",
        "Crème Brûlée",
        "Seared Salmon with Dill — plated.jpg",
    ]


def test_quotes_and_backslashes_are_escaped_in_strings(google, access_token):
    google.control("POST", "files", json={"name": "Quinn's paper\\essay.pdf"})
    q = r"name = 'Quinn\'s paper\\essay.pdf'"
    assert names(google, access_token, q) == ["Quinn's paper\\essay.pdf"]


def test_modified_time_comparisons(google, access_token):
    google.control("POST", "files", json={"name": "Fresh invoice.pdf", "parent": "Accounting"})
    # Seeded files all predate 2026-01-16; run-time changes use the clock.
    assert names(google, access_token, "modifiedTime > '2026-01-16T00:00:00'") == [
        "Fresh invoice.pdf"
    ]
    older = names(
        google, access_token, "modifiedTime <= '2026-01-16T00:00:00Z' and trashed = false"
    )
    assert "Tiramisu.pdf" in older and "Fresh invoice.pdf" not in older


@pytest.mark.parametrize(
    "q",
    [
        "sharedWithMe",
        "properties has { key='a' and value='b' }",
        "name contains Tiramisu",
        "name = 'unterminated",
        "trashed = 'false'",
        "(name = 'a'",
        "title = 'old v2 field'",
        r"name = 'bad \n escape'",
    ],
)
def test_a_query_it_cannot_run_is_a_400_invalid_value(google, access_token, q):
    response = google.drive(access_token, "files", q=q)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400 and error["message"] == "Invalid Value"
    assert error["errors"][0] == {
        "domain": "global",
        "reason": "invalid",
        "message": "Invalid Value",
        "location": "q",
        "locationType": "parameter",
    }


def test_paging_loses_nothing_and_repeats_nothing(google, access_token):
    q = "trashed = false"
    whole = google.list_all(access_token, q=q, pageSize=1000)
    assert len(whole) > 60
    paged, token, pages = [], None, 0
    while True:
        params = {"q": q, "pageSize": 7, "fields": "nextPageToken,files(id)"}
        body = google.page(access_token, "files", token, **params).json()
        assert len(body["files"]) <= 7
        paged += [f["id"] for f in body["files"]]
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            break
    assert len(paged) == len(set(paged))
    assert set(paged) == {f["id"] for f in whole}
    assert pages == -(-len(whole) // 7)


def test_page_size_defaults_to_100_and_is_capped_at_1000(google, access_token):
    for i in range(30):  # Maria's My Drive holds 75 items: make it more than one page
        google.control("POST", "files", json={"name": f"Scan {i:02d}.pdf", "parent": "Accounting"})
    body = google.drive(access_token, "files").json()
    assert len(body["files"]) == 100 and "nextPageToken" in body
    for bad in ("1001", "0", "many"):
        response = google.drive(access_token, "files", pageSize=bad)
        assert response.status_code == 400
        error = response.json()["error"]["errors"][0]
        assert error["location"] == "pageSize" and error["reason"] == "invalid"
    message = google.drive(access_token, "files", pageSize=1001).json()["error"]["message"]
    assert message == "Invalid value '1001'. Values must be within the range: [1, 1000]"


def test_a_page_token_only_continues_its_own_query(google, access_token):
    token = google.drive(access_token, "files", pageSize=5).json()["nextPageToken"]
    other = google.drive(access_token, "files", pageSize=5, pageToken=token, q="trashed = false")
    assert other.status_code == 400
    assert other.json()["error"]["errors"][0]["location"] == "pageToken"
    garbage = google.drive(access_token, "files", pageToken="not-a-token")
    assert garbage.status_code == 400


def test_without_fields_only_the_default_file_fields_come_back(google, access_token):
    body = google.drive(access_token, "files", pageSize=3).json()
    assert set(body) == {"kind", "incompleteSearch", "files", "nextPageToken"}
    assert body["kind"] == "drive#fileList"
    for item in body["files"]:
        assert set(item) == {"kind", "id", "name", "mimeType"}


def test_fields_select_exactly_what_is_asked(google, access_token):
    body = google.drive(access_token, "files", pageSize=3, fields="files(id,name)").json()
    # nextPageToken was not asked for, so it is not there: the classic paging bug.
    assert set(body) == {"files"}
    assert all(set(f) == {"id", "name"} for f in body["files"])

    body = google.drive(
        access_token,
        "files",
        q="name = 'Tiramisu.pdf'",
        fields="nextPageToken,files(id,size,md5Checksum,owners/emailAddress,parents)",
    ).json()
    (item,) = body["files"]
    assert set(item) == {"id", "size", "md5Checksum", "owners", "parents"}
    assert item["owners"] == [{"emailAddress": "maria@acmebistro.example"}]
    assert isinstance(item["size"], str) and len(item["md5Checksum"]) == 32

    full = google.drive(access_token, "files", q="name = 'Tiramisu.pdf'", fields="*").json()
    assert {"webViewLink", "modifiedTime", "createdTime", "version"} <= set(full["files"][0])


def test_an_unknown_field_is_a_400(google, access_token):
    response = google.drive(access_token, "files", fields="files(id,colour)")
    assert response.status_code == 400
    error = response.json()["error"]["errors"][0]
    assert error["reason"] == "invalidParameter" and error["location"] == "fields"
    assert error["message"] == "Invalid field selection colour"


def test_order_by_name_folder_and_modified_time(google, access_token):
    recipes = google.find("Kitchen/Recipes")["id"]
    q = f"'{recipes}' in parents"
    fields = "files(name,mimeType,modifiedTime)"

    def ordered(order_by):
        return google.drive(access_token, "files", q=q, orderBy=order_by, fields=fields).json()[
            "files"
        ]

    by_name = [f["name"] for f in ordered("name")]
    assert by_name == sorted(by_name, key=str.casefold)
    assert [f["name"] for f in ordered("name desc")] == by_name[::-1]
    folders_first = ordered("folder,name")
    kinds = [f["mimeType"] == FOLDER for f in folders_first]
    assert kinds == sorted(kinds, reverse=True)
    assert [f["name"] for f in folders_first][:3] == ["Desserts", "Mains", "Sauces"]
    times = [f["modifiedTime"] for f in ordered("modifiedTime desc")]
    assert times == sorted(times, reverse=True)
    assert google.drive(access_token, "files", orderBy="colour").status_code == 400


def test_shared_drive_files_need_both_flags(google, access_token):
    folder = google.find("Acme Bistro — Shared/Recipes (shared)")
    q = f"'{folder['id']}' in parents"
    assert names(google, access_token, q) == []
    flags = {"supportsAllDrives": "true", "includeItemsFromAllDrives": "true"}
    assert len(names(google, access_token, q, **flags)) == 4
    by_drive = names(
        google, access_token, "trashed = false", corpora="drive", driveId=folder["driveId"], **flags
    )
    assert "Health & safety.pdf" in by_drive and "Tiramisu.pdf" not in by_drive
    both = names(google, access_token, "name contains 'Focaccia' or name = 'Tiramisu.pdf'", **flags)
    assert both == ["Focaccia.pdf", "Tiramisu.pdf"]
    assert names(google, access_token, "name contains 'Focaccia'") == []


def test_corpora_drive_needs_a_drive_id_and_the_flags(google, access_token):
    flags = {"supportsAllDrives": "true", "includeItemsFromAllDrives": "true"}
    assert google.drive(access_token, "files", corpora="drive", **flags).status_code == 400
    drive_id = google.control("GET", "drives")["drives"][0]["id"]
    assert google.drive(access_token, "files", corpora="drive", driveId=drive_id).status_code == 400
    unknown = google.drive(access_token, "files", corpora="drive", driveId="0AnopeUk9PVA", **flags)
    assert unknown.status_code == 404


def test_the_shared_drives_list(google, access_token):
    body = google.drive(access_token, "drives").json()
    assert body["kind"] == "drive#driveList"
    assert [d["name"] for d in body["drives"]] == ["Acme Bistro — Shared"]


def test_each_account_sees_only_its_own_my_drive(google):
    sam = google.connect_as(SAM)
    seen = names(google, sam["access_token"], "trashed = false")
    assert "Cocktails" in seen and "Kitchen" not in seen
    me = google.drive(sam["access_token"], "about", fields="user(emailAddress)").json()
    assert me == {"user": {"emailAddress": SAM}}


def test_partial_pages_still_reach_the_end(google, access_token):
    google.control("POST", "knobs", json={"partial_pages": True})
    whole = {f["id"] for f in google.list_all(access_token, q="trashed = false", pageSize=1000)}
    sizes, token, seen = [], None, []
    while True:
        params = {"q": "trashed = false", "pageSize": 10, "fields": "nextPageToken,files(id)"}
        body = google.page(access_token, "files", token, **params).json()
        sizes.append(len(body["files"]))
        seen += [f["id"] for f in body["files"]]
        token = body.get("nextPageToken")
        if not token:
            break
    assert 5 in sizes[:-1]  # short pages before the end, as Drive may send
    assert sorted(seen) == sorted(whole)


def test_a_drive_with_thousands_of_folders_lists_quickly():
    with run_sandbox(
        ["--google-extra-folders", "3000", "--google-files-per-folder", "1"]
    ) as server:
        google = GoogleSandbox(server.url)
        token = google.connect()["access_token"]
        folders = google.list_all(
            token, q=f"mimeType = '{FOLDER}' and trashed = false", pageSize=1000
        )
        assert len(folders) > 3000
        archive = google.find("Kitchen/Recipes/Archive")["id"]
        top = names(google, token, f"'{archive}' in parents")
        assert top[:2] == ["Batch 0001", "Batch 0002"] and len(top) == 20
