"""Many clients at once: the half keeps its state behind a lock and pages stay consistent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def test_parallel_searches_and_edits_all_succeed(square, token, first_merchant):
    location_ids = [loc["id"] for loc in first_merchant["locations"]]
    body = {"location_ids": location_ids, "limit": 200}
    expected = square.post(token, "/v2/orders/search", body).json()["orders"]
    items = square.get(token, "/v2/catalog/list", params={"types": "ITEM"}).json()["objects"]

    def search(_):
        return square.post(token, "/v2/orders/search", body).json()["orders"]

    def edit(item):
        square.control(
            "PATCH", f"catalog/objects/{item['id']}", json={"item_data": {"abbreviation": "X"}}
        )
        return square.post(token, "/v2/catalog/search", {"object_types": ["ITEM"]}).status_code

    def refresh(_):
        tokens = square.tokens()
        return square.refresh(tokens["refresh_token"]).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        searches = pool.map(search, range(8))
        edits = pool.map(edit, items[:16])
        refreshes = pool.map(refresh, range(8))
        searches, edits, refreshes = list(searches), list(edits), list(refreshes)

    assert all(page == expected for page in searches)
    assert set(edits) == {200}
    assert set(refreshes) == {200}
    after = square.post(token, "/v2/catalog/search", {"object_types": ["ITEM"]}).json()["objects"]
    assert sum(1 for o in after if o["item_data"].get("abbreviation") == "X") == 16
