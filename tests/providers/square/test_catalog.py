"""ListCatalog and SearchCatalogObjects (README §6), incremental sync through the control API."""

from __future__ import annotations

from collections import Counter

from .support import error_of


def _list_all(square, token, **params) -> tuple[list[dict], int]:
    objects, pages, cursor = [], 0, None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        body = square.get(token, "/v2/catalog/list", params=query).json()
        objects += body.get("objects", [])
        pages += 1
        cursor = body.get("cursor")
        if not cursor:
            return objects, pages


def _search_all(square, token, body: dict) -> tuple[list[dict], list[dict]]:
    pages = []
    cursor = None
    while True:
        answer = square.post(
            token, "/v2/catalog/search", dict(body, cursor=cursor) if cursor else body
        )
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        cursor = pages[-1].get("cursor")
        if not cursor:
            return [o for page in pages for o in page.get("objects", [])], pages


def test_the_seeded_menu_is_a_restaurant_menu(square, token):
    objects, _ = _list_all(square, token)

    kinds = Counter(o["type"] for o in objects)
    assert kinds == {"CATEGORY": 14, "TAX": 2, "DISCOUNT": 4, "MODIFIER_LIST": 8, "ITEM": 60}
    items = [o for o in objects if o["type"] == "ITEM"]
    categories = {o["id"] for o in objects if o["type"] == "CATEGORY"}
    lists = {o["id"]: o for o in objects if o["type"] == "MODIFIER_LIST"}
    names = {o["item_data"]["name"] for o in items}
    assert {"Caesar Salad", "Classic Cheeseburger", "Margherita Pizza"} <= names
    for item in items:
        data = item["item_data"]
        assert {c["id"] for c in data["categories"]} <= categories
        assert len(data["variations"]) == 2
        for variation in data["variations"]:
            money = variation["item_variation_data"]["price_money"]
            assert money["currency"] == "USD" and money["amount"] > 0
            assert variation["item_variation_data"]["item_id"] == item["id"]
        for info in data["modifier_list_info"]:
            assert info["modifier_list_id"] in lists
    burger = next(i for i in items if i["item_data"]["name"] == "Classic Cheeseburger")
    temperature = next(
        lists[info["modifier_list_id"]]
        for info in burger["item_data"]["modifier_list_info"]
        if lists[info["modifier_list_id"]]["modifier_list_data"]["name"] == "Temperature"
    )["modifier_list_data"]
    assert (temperature["min_selected_modifiers"], temperature["max_selected_modifiers"]) == (1, 1)
    assert temperature["selection_type"] == "SINGLE"
    addons = next(o for o in lists.values() if o["modifier_list_data"]["name"] == "Add-ons")
    assert any(
        m["modifier_data"]["price_money"]["amount"] > 0
        for m in addons["modifier_list_data"]["modifiers"]
    )


def test_list_pages_by_a_fixed_hundred(square):
    square.resize(items=250)
    token = square.tokens()["access_token"]

    first = square.get(token, "/v2/catalog/list").json()
    objects, pages = _list_all(square, token)

    assert len(first["objects"]) == 100
    assert "cursor" in first
    assert len(objects) == 14 + 2 + 4 + 8 + 250
    assert pages == 3
    assert len({o["id"] for o in objects}) == len(objects)


def test_list_types_are_case_insensitive_and_nested_types_must_be_asked_for(square, token):
    items, _ = _list_all(square, token, types="item")
    variations, _ = _list_all(square, token, types="Item_Variation,MODIFIER")

    assert {o["type"] for o in items} == {"ITEM"}
    assert Counter(o["type"] for o in variations) == {"ITEM_VARIATION": 120, "MODIFIER": 37}


def test_list_refuses_unknown_types(square, token):
    answer = square.get(token, "/v2/catalog/list", params={"types": "ITEM,SPACESHIP"})

    assert answer.status_code == 400
    assert error_of(answer)["code"] == "INVALID_ENUM_VALUE"


def test_list_refuses_a_cursor_for_other_types(square):
    square.resize(items=250)
    token = square.tokens()["access_token"]
    cursor = square.get(token, "/v2/catalog/list").json()["cursor"]

    answer = square.get(token, "/v2/catalog/list", params={"types": "ITEM", "cursor": cursor})

    assert answer.status_code == 400
    assert error_of(answer)["code"] == "INVALID_CURSOR"


def test_search_pages_with_a_limit_and_reports_latest_time(square, token):
    objects, pages = _search_all(square, token, {"object_types": ["ITEM"], "limit": 25})

    assert len(objects) == 60
    assert [len(p.get("objects", [])) for p in pages] == [25, 25, 10]
    assert len({p["latest_time"] for p in pages}) == 1


def test_search_ignores_a_limit_out_of_range(square):
    square.resize(items=250)
    token = square.tokens()["access_token"]

    for limit in (0, -5, 5000):
        body = square.post(token, "/v2/catalog/search", {"object_types": ["ITEM"], "limit": limit})
        assert len(body.json()["objects"]) == 100


def test_search_up_to_a_thousand_per_page(square):
    square.resize(items=1200)
    token = square.tokens()["access_token"]

    body = square.post(token, "/v2/catalog/search", {"object_types": ["ITEM"], "limit": 1000})

    assert len(body.json()["objects"]) == 1000


def test_incremental_search_sees_only_what_changed_after_begin_time(square, token):
    first = square.post(token, "/v2/catalog/search", {"object_types": ["ITEM", "CATEGORY"]}).json()
    since = first["latest_time"]
    item = next(o for o in first["objects"] if o["type"] == "ITEM")

    changed = square.control(
        "PATCH", f"catalog/objects/{item['id']}", json={"item_data": {"name": "Renamed Dish"}}
    )["object"]
    added = square.control(
        "POST",
        "catalog/objects",
        json={"object": {"type": "CATEGORY", "category_data": {"name": "Late Night"}}},
    )["object"]
    later = square.post(
        token, "/v2/catalog/search", {"object_types": ["ITEM", "CATEGORY"], "begin_time": since}
    ).json()

    assert changed["version"] > item["version"]
    assert changed["updated_at"] > item["updated_at"]
    assert {o["id"] for o in later["objects"]} == {item["id"], added["id"]}
    renamed = next(o for o in later["objects"] if o["id"] == item["id"])
    assert renamed["item_data"]["name"] == "Renamed Dish"
    assert later["latest_time"] > since
    # begin_time is exclusive: asking from the newest time returns nothing.
    nothing = square.post(
        token, "/v2/catalog/search", {"object_types": ["ITEM"], "begin_time": later["latest_time"]}
    ).json()
    assert "objects" not in nothing
    assert nothing["latest_time"] == later["latest_time"]


def test_deleted_objects_come_back_only_when_asked_for(square, token):
    objects, _ = _list_all(square, token, types="ITEM")
    victim = objects[0]

    square.control("DELETE", f"catalog/objects/{victim['id']}")
    listed, _ = _list_all(square, token, types="ITEM")
    plain, _ = _search_all(square, token, {"object_types": ["ITEM"]})
    with_deleted, _ = _search_all(
        square, token, {"object_types": ["ITEM", "ITEM_VARIATION"], "include_deleted_objects": True}
    )

    assert victim["id"] not in {o["id"] for o in listed}
    assert victim["id"] not in {o["id"] for o in plain}
    deleted = {o["id"]: o for o in with_deleted if o.get("is_deleted")}
    assert victim["id"] in deleted
    variation_ids = {v["id"] for v in victim["item_data"]["variations"]}
    assert variation_ids <= set(deleted)  # deleting an item deletes its variations
    assert deleted[victim["id"]]["version"] > victim["version"]


def test_deleting_a_variation_removes_it_from_its_item(square, token):
    item = _list_all(square, token, types="ITEM")[0][0]
    variation = item["item_data"]["variations"][1]

    square.control("DELETE", f"catalog/objects/{variation['id']}")
    now = square.control("GET", f"catalog/objects/{item['id']}")["object"]

    assert [v["id"] for v in now["item_data"]["variations"]] == [
        item["item_data"]["variations"][0]["id"]
    ]
    assert now["version"] > item["version"]


def test_related_objects_come_one_level_deep(square, token):
    body = square.post(
        token,
        "/v2/catalog/search",
        {
            "object_types": ["ITEM"],
            "include_related_objects": True,
            "query": {
                "exact_query": {"attribute_name": "name", "attribute_value": "Classic Cheeseburger"}
            },
        },
    ).json()

    assert [o["item_data"]["name"] for o in body["objects"]] == ["Classic Cheeseburger"]
    related = Counter(o["type"] for o in body["related_objects"])
    assert related == {"CATEGORY": 1, "TAX": 1, "MODIFIER_LIST": 3}


def test_search_refuses_a_cursor_with_another_query(square, token):
    cursor = square.post(
        token, "/v2/catalog/search", {"object_types": ["ITEM"], "limit": 10}
    ).json()["cursor"]

    answer = square.post(
        token, "/v2/catalog/search", {"object_types": ["CATEGORY"], "limit": 10, "cursor": cursor}
    )

    assert answer.status_code == 400
    assert error_of(answer)["code"] == "INVALID_CURSOR"


def test_catalog_edits_are_cleared_by_reset(square, token, sandbox):
    item = _list_all(square, token, types="ITEM")[0][0]
    square.control("DELETE", f"catalog/objects/{item['id']}")

    sandbox.reset()
    token = square.tokens()["access_token"]

    assert item["id"] in {o["id"] for o in _list_all(square, token, types="ITEM")[0]}


def test_the_catalog_counts_calls(square, token):
    square.get(token, "/v2/catalog/list")
    square.post(token, "/v2/catalog/search", {})
    square.post(token, "/v2/catalog/search", {})

    counters = square.sandbox.counters()
    assert counters["square.catalog.list"] == 1
    assert counters["square.catalog.search"] == 2
