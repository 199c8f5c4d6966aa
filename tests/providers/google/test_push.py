"""The sandbox's Drive push notifications, as Drive sends them (reference README §2.4):
changes.watch channels, their first `sync` message, a `change` per mutation of the account's
feed, expiry as Drive caps it, channels.stop, retries on 5xx; and Google's own client library
calling watch and stop unmodified."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document

from .helpers import CLIENT_ID, SAM

DISCOVERY = Path(__file__).parents[3].parent / "shared/reference/google/drive-v3-subset.json"
WEEK_MS = 7 * 24 * 3600 * 1000


def watch(google, access_token, address, **channel):
    """changes.watch from now on; returns the raw answer."""
    token = google.drive(access_token, "changes/startPageToken").json()["startPageToken"]
    body = {"id": uuid.uuid4().hex, "type": "web_hook", "address": address, **channel}
    return google.http.post(
        f"{google.base}/drive/v3/changes/watch",
        params={"pageToken": token},
        json=body,
        headers={"Authorization": f"Bearer {access_token}"},
    )


def stop(google, access_token, channel):
    return google.http.post(
        f"{google.base}/drive/v3/channels/stop",
        json={"id": channel["id"], "resourceId": channel["resourceId"]},
        headers={"Authorization": f"Bearer {access_token}"},
    )


def add_recipe(google, name="Tarte Tatin.txt"):
    return google.control(
        "POST", "files", json={"name": name, "parent": "Kitchen/Recipes", "content": "apples"}
    )


def flush(google):
    assert google.control("POST", "notifications/flush", json={"timeout": 10})["idle"]


def test_a_channel_says_sync_then_change_with_drive_headers(google, access_token, receiver):
    answer = watch(google, access_token, receiver.url, token="org-7.secret")
    assert answer.status_code == 200, answer.text
    channel = answer.json()
    assert channel["kind"] == "api#channel" and channel["token"] == "org-7.secret"
    assert int(channel["expiration"]) > time.time() * 1000

    add_recipe(google)
    flush(google)
    sync, change = receiver.wait_for(2)
    assert sync.body == change.body == b""  # a notification is only its headers
    assert sync.headers["x-goog-resource-state"] == "sync"
    assert sync.headers["x-goog-message-number"] == "1"
    assert change.headers["x-goog-resource-state"] == "change"
    assert int(change.headers["x-goog-message-number"]) > 1
    for received in (sync, change):
        assert received.headers["x-goog-channel-id"] == channel["id"]
        assert received.headers["x-goog-channel-token"] == "org-7.secret"
        assert received.headers["x-goog-resource-id"] == channel["resourceId"]
        assert received.headers["x-goog-channel-expiration"].endswith("GMT")
        assert received.headers["user-agent"].startswith("APIs-Google")


def test_message_numbers_grow_with_each_change(google, access_token, receiver):
    watch(google, access_token, receiver.url)
    for n in range(3):
        add_recipe(google, f"Recipe {n}.txt")
    flush(google)
    numbers = [int(r.headers["x-goog-message-number"]) for r in receiver.wait_for(4)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 4


def test_expiration_is_capped_at_a_week_and_defaults_to_an_hour(google, access_token, receiver):
    now_ms = time.time() * 1000
    asked = watch(google, access_token, receiver.url, expiration=str(int(now_ms + 30 * WEEK_MS)))
    assert int(asked.json()["expiration"]) <= now_ms + WEEK_MS + 60_000
    default = watch(google, access_token, receiver.url).json()
    assert abs(int(default["expiration"]) - (now_ms + 3_600_000)) < 60_000


def test_an_expired_channel_sends_nothing_more(google, access_token, receiver):
    watch(google, access_token, receiver.url)
    flush(google)
    receiver.wait_for(1)
    google.control("POST", "clock", json={"advance": 3601})
    add_recipe(google)
    flush(google)
    assert len(receiver.received) == 1
    [channel] = google.control("GET", "channels")["channels"]
    assert channel["expired"] and not channel["stopped"]


def test_a_stopped_channel_sends_nothing_more(google, access_token, receiver):
    channel = watch(google, access_token, receiver.url).json()
    flush(google)
    answer = stop(google, access_token, channel)
    assert answer.status_code == 204
    add_recipe(google)
    flush(google)
    assert [r.headers["x-goog-resource-state"] for r in receiver.received] == ["sync"]
    assert stop(google, access_token, channel).status_code == 404  # stopped already


def test_only_the_user_who_opened_a_channel_can_stop_it(google, access_token, receiver):
    channel = watch(google, access_token, receiver.url).json()
    someone_else = google.connect_as(SAM)["access_token"]
    answer = stop(google, someone_else, channel)
    assert answer.status_code == 404
    assert answer.json()["error"]["errors"][0]["reason"] == "notFound"
    wrong_resource = stop(google, access_token, {**channel, "resourceId": "other"})
    assert wrong_resource.status_code == 404


@pytest.mark.parametrize(
    ("channel", "reason"),
    [
        (
            {"address": "http://sous.example/integrations/webhooks/google"},
            "push.webhookUrlNotHttps",
        ),
        ({"type": "email"}, "invalid"),
        ({"address": ""}, "required"),
        ({"token": "x" * 257}, "invalid"),
    ],
)
def test_drive_refuses_a_channel_it_could_not_serve(
    google, access_token, receiver, channel, reason
):
    answer = watch(google, access_token, **{"address": receiver.url, **channel})
    assert answer.status_code == 400
    assert answer.json()["error"]["errors"][0]["reason"] == reason
    assert google.control("GET", "channels")["channels"] == []


def test_a_channel_id_is_unique(google, access_token, receiver):
    first = watch(google, access_token, receiver.url).json()
    again = watch(google, access_token, receiver.url, id=first["id"])
    assert again.status_code == 400
    assert again.json()["error"]["errors"][0]["reason"] == "channelIdNotUnique"


def test_a_5xx_answer_is_retried_and_a_4xx_is_not(google, access_token, receiver, sandbox):
    sandbox.knobs(webhook_retry_scale=0.001)
    receiver.answer(503, 404)  # the sync message: 503 then 404 (not retried again)
    watch(google, access_token, receiver.url)
    flush(google)
    first, second = receiver.wait_for(2)
    assert first.headers["x-goog-message-number"] == second.headers["x-goog-message-number"]
    [delivery] = google.control("GET", "notifications")["notifications"]
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [503, 404]


def test_another_accounts_change_sends_nothing(google, access_token, receiver):
    watch(google, access_token, receiver.url)
    google.control("POST", "files", json={"name": "Sam's notes.txt", "account": SAM})
    flush(google)
    assert [r.headers["x-goog-resource-state"] for r in receiver.received] == ["sync"]


def test_googles_client_library_watches_and_stops_unmodified(google, access_token, receiver):
    document = json.loads(DISCOVERY.read_text())
    document["rootUrl"] = f"{google.base}/"
    document["baseUrl"] = f"{google.base}/drive/v3/"
    drive = build_from_document(document, credentials=Credentials(access_token))
    start = drive.changes().getStartPageToken().execute()["startPageToken"]
    body = {"id": uuid.uuid4().hex, "type": "web_hook", "address": receiver.url, "token": "t"}
    channel = drive.changes().watch(pageToken=start, body=body).execute()
    assert channel["id"] == body["id"] and channel["resourceId"]
    flush(google)
    assert receiver.wait_for(1)[0].headers["x-goog-channel-token"] == "t"
    drive.channels().stop(body={"id": channel["id"], "resourceId": channel["resourceId"]}).execute()
    [listed] = google.control("GET", "channels")["channels"]
    assert listed["stopped"] and listed["client_id"] == CLIENT_ID
