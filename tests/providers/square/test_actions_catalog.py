"""The Catalog action on its own: passes, incremental begin_time, resuming (HTTP mocked)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec
import pytest
import responses

from providers.base import SyncRequest
from providers.errors import CursorExpired
from providers.http import BACKGROUND
from providers.records.catalog import CatalogDeletionRecord, CategoryRecord, ItemRecord
from providers.records.tally import Tally
from providers.square.catalog import (
    FULL_RUN,
    INCREMENTAL_RUN,
    CatalogAction,
    CatalogCheckpoint,
)
from providers.square.client import SquareClient

BASE = "https://connect.squareup.com"
SEARCH = f"{BASE}/v2/catalog/search"
action = CatalogAction()


def _request(cursor=None, checkpoint=None) -> SyncRequest:
    return SyncRequest(
        params={},
        checkpoint=checkpoint or CatalogCheckpoint(),
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
    checkpoint = CatalogCheckpoint(
        passes=INCREMENTAL_RUN,
        begin="2025-01-01T10:00:00.000Z",
        latest="2025-02-01T00:00:00.000Z",
        objects=1000,
        index=1,
        page="i2",
    )
    responses.post(SEARCH, json={"objects": [ITEM]})
    responses.post(SEARCH, json={})

    # The connection's cursor moved meanwhile (another run finished): the job keeps its own.
    pages = list(
        action.pages(_client(), _request({"latest_time": "2099-01-01T00:00:00Z"}, checkpoint))
    )

    sent = _sent()
    assert (sent[0]["object_types"], sent[0]["cursor"]) == (["ITEM"], "i2")
    assert all(s["begin_time"] == "2025-01-01T10:00:00.000Z" for s in sent)
    assert pages[-1].checkpoint.objects == 1001
    assert pages[-1].cursor == {"latest_time": "2025-02-01T00:00:00.000Z"}


@responses.activate
def test_a_stale_page_cursor_reads_the_pass_again():
    responses.post(
        SEARCH,
        status=400,
        json={"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "INVALID_CURSOR"}]},
    )
    responses.post(SEARCH, json={"objects": [ITEM]})

    checkpoint = CatalogCheckpoint(passes=FULL_RUN, index=1, page="old")
    pages = list(action.pages(_client(), _request(checkpoint=checkpoint)))

    assert "cursor" not in _sent()[1]
    assert [r.external_id for p in pages for r in p.records] == ["I1"]


@responses.activate
def test_a_begin_time_square_refuses_is_an_expired_cursor():
    responses.post(
        SEARCH,
        status=400,
        json={
            "errors": [
                {
                    "category": "INVALID_REQUEST_ERROR",
                    "code": "INVALID_TIME",
                    "detail": "Invalid RFC 3339 timestamp 'last Tuesday'.",
                    "field": "begin_time",
                }
            ]
        },
    )

    with pytest.raises(CursorExpired):
        list(action.pages(_client(), _request({"latest_time": "last Tuesday"})))

    assert _sent()[0]["begin_time"] == "last Tuesday"


@responses.activate
def test_a_run_resumed_from_any_page_s_checkpoint_reads_what_the_rest_of_the_run_read():
    answers = {
        (("IMAGE", "CATEGORY", "MODIFIER_LIST", "DISCOUNT"), None): {
            "objects": [CATEGORY],
            "latest_time": "2025-01-01T10:00:00.000Z",
        },
        (("ITEM",), None): {"objects": [ITEM], "cursor": "i2"},
        (("ITEM",), "i2"): {"objects": [{**ITEM, "id": "I2"}], "cursor": "i3"},
        (("ITEM",), "i3"): {"objects": [{**ITEM, "id": "I3"}]},
    }

    def answer(request):
        body = json.loads(request.body)
        return 200, {}, json.dumps(answers[tuple(body["object_types"]), body.get("cursor")])

    responses.add_callback(responses.POST, SEARCH, callback=answer)
    whole = list(action.pages(_client(), _request()))
    assert len(whole) == 4

    for stop, page in enumerate(whole):
        # What the engine stores and reads back: JSON, then the action's Checkpoint again.
        saved = json.loads(json.dumps(msgspec.to_builtins(page.checkpoint)))
        checkpoint = msgspec.convert(saved, CatalogCheckpoint)
        assert list(action.pages(_client(), _request(checkpoint=checkpoint))) == whole[stop + 1 :]


def test_the_summary_reads_like_the_toast():
    assert action.summary(Tally(items=312, categories=14, modifier_lists=9)) == (
        "Catalog synced: 312 items, 14 categories, 9 modifier lists"
    )
    assert action.summary(Tally(items=1, categories=1, catalog_deleted=2)) == (
        "Catalog synced: 1 item, 1 category, 0 modifier lists, 2 deleted"
    )
    assert action.summary(Tally(orders=5, modifiers=3)) == (
        "Catalog up to date: nothing new or changed in Square"
    )
