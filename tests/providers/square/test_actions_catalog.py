"""The Catalog action on its own: passes, incremental begin_time, resuming (HTTP mocked)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import responses

from providers.base import SyncRequest
from providers.http import BACKGROUND
from providers.records.catalog import CatalogDeletionRecord, CategoryRecord, ItemRecord
from providers.square.catalog import CatalogAction
from providers.square.client import SquareClient

BASE = "https://connect.squareup.com"
SEARCH = f"{BASE}/v2/catalog/search"
action = CatalogAction()


def _request(cursor=None, checkpoint=None) -> SyncRequest:
    return SyncRequest(
        params={},
        checkpoint=checkpoint or {},
        cursor=cursor or {},
        settings={},
        now=datetime(2025, 1, 1, tzinfo=UTC),
    )


def _client() -> SquareClient:
    return SquareClient(BASE, "EAAA-token", BACKGROUND)


def _sent() -> list[dict]:
    return [json.loads(call.request.body) for call in responses.calls]


CATEGORY = {"type": "CATEGORY", "id": "C1", "version": 5, "category_data": {"name": "Pasta"}}
ITEM = {"type": "ITEM", "id": "I1", "version": 6, "item_data": {"name": "Carbonara"}}


@responses.activate
def test_a_first_run_reads_structure_then_items_and_keeps_square_s_latest_time():
    responses.post(SEARCH, json={"objects": [CATEGORY], "latest_time": "2025-01-01T10:00:00.000Z"})
    responses.post(
        SEARCH,
        json={"objects": [ITEM], "cursor": "i2", "latest_time": "2025-01-01T10:00:05.000Z"},
    )
    responses.post(SEARCH, json={"objects": [{**ITEM, "id": "I2"}]})

    pages = list(action.pages(_client(), _request()))

    sent = _sent()
    assert [s["object_types"] for s in sent] == [
        ["IMAGE", "CATEGORY", "MODIFIER_LIST", "DISCOUNT"],
        ["ITEM"],
        ["ITEM"],
    ]
    assert all("begin_time" not in s and s["limit"] == 1000 for s in sent)
    assert sent[2]["cursor"] == "i2"
    assert [type(r) for p in pages for r in p.records] == [CategoryRecord, ItemRecord, ItemRecord]
    # The first answer's time: anything changed during this run is read again next time.
    assert pages[-1].cursor == {"latest_time": "2025-01-01T10:00:00.000Z"}
    assert [(p.progress.done, p.progress.total) for p in pages] == [(1, 2), (1, 2), (2, 2)]


@responses.activate
def test_later_runs_ask_for_changes_since_the_last_time_and_lone_deletions():
    responses.post(SEARCH, json={"latest_time": "2025-02-01T00:00:00.000Z"})
    responses.post(SEARCH, json={"objects": [{**ITEM, "is_deleted": True}]})
    responses.post(
        SEARCH,
        json={
            "objects": [
                {"type": "ITEM_VARIATION", "id": "V1", "version": 9, "is_deleted": True},
                {"type": "ITEM_VARIATION", "id": "V2", "version": 9},  # came with its item
            ]
        },
    )

    pages = list(action.pages(_client(), _request({"latest_time": "2025-01-01T10:00:00.000Z"})))

    sent = _sent()
    assert [s["begin_time"] for s in sent] == ["2025-01-01T10:00:00.000Z"] * 3
    assert all(s["include_deleted_objects"] for s in sent)
    assert sent[2]["object_types"] == ["ITEM_VARIATION", "MODIFIER"]
    assert [r for p in pages for r in p.records] == [
        CatalogDeletionRecord("item", "I1", 6, None),
        CatalogDeletionRecord("variation", "V1", 9, None),
    ]
    assert pages[-1].cursor == {"latest_time": "2025-02-01T00:00:00.000Z"}


@responses.activate
def test_a_resumed_run_repeats_its_own_begin_time_and_cursor():
    checkpoint = {
        "begin": "2025-01-01T10:00:00.000Z",
        "latest": "2025-02-01T00:00:00.000Z",
        "objects": 1000,
        "pass": 1,
        "cursor": "i2",
    }
    responses.post(SEARCH, json={"objects": [ITEM]})
    responses.post(SEARCH, json={})

    # The connection's cursor moved meanwhile (another run finished): the job keeps its own.
    pages = list(
        action.pages(_client(), _request({"latest_time": "2099-01-01T00:00:00Z"}, checkpoint))
    )

    sent = _sent()
    assert (sent[0]["object_types"], sent[0]["cursor"]) == (["ITEM"], "i2")
    assert all(s["begin_time"] == "2025-01-01T10:00:00.000Z" for s in sent)
    assert pages[-1].checkpoint["objects"] == 1001
    assert pages[-1].cursor == {"latest_time": "2025-02-01T00:00:00.000Z"}


@responses.activate
def test_an_expired_cursor_reads_the_pass_again():
    responses.post(
        SEARCH,
        status=400,
        json={"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "INVALID_CURSOR"}]},
    )
    responses.post(SEARCH, json={"objects": [ITEM]})

    pages = list(action.pages(_client(), _request(checkpoint={"pass": 1, "cursor": "old"})))

    assert "cursor" not in _sent()[1]
    assert [r.external_id for p in pages for r in p.records] == ["I1"]


def test_the_summary_reads_like_the_toast():
    assert action.summary({"items": 312, "categories": 14, "modifier lists": 9}) == (
        "Catalog synced: 312 items, 14 categories, 9 modifier lists"
    )
    assert action.summary({"items": 1, "categories": 1, "modifier lists": 0, "deleted": 2}) == (
        "Catalog synced: 1 item, 1 category, 0 modifier lists, 2 deleted"
    )
    assert action.summary({"items": 0, "categories": 0, "modifier lists": 0}) == (
        "Catalog up to date: nothing new or changed in Square"
    )
