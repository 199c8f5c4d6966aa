"""With `--state-dir` (as `make run` starts it) the sandbox keeps grants, tokens and changes
across a restart; `POST /_sandbox/reset` forgets them; a bad file starts fresh."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

import pytest

from providers.sandbox.testing import SandboxProcess
from tests.providers.google.helpers import GoogleSandbox
from tests.providers.square.support import Square, error_of, iso

CLOSED_PORT = "http://127.0.0.1:9"  # discard: deliveries there fail, which is fine here


@pytest.fixture
def state_dir(tmp_path):
    return tmp_path / "sandbox"


@pytest.fixture
def sandbox(state_dir):
    process = SandboxProcess("--state-dir", str(state_dir)).start()
    yield process
    process.stop(signal.SIGKILL)


def restart(process: SandboxProcess, how: signal.Signals = signal.SIGTERM) -> str:
    """Stop and start again on the same port; what the stopped run printed."""
    process.stop(how)
    output = process.output
    process.start()
    return output


def warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if "WARNING" in line]


def connect_square(square: Square) -> dict:
    response = square.exchange(square.authorize()["code"])
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_grants_tokens_and_changes_survive_a_restart(sandbox, how):
    square, google = Square(sandbox), GoogleSandbox(sandbox.url)
    sq, gg = connect_square(square), google.connect()
    # Changes a seller would make in Square, through the control API...
    seeded = square.get(sq["access_token"], "/v2/catalog/list", params={"types": "CATEGORY"})
    category = seeded.json()["objects"][0]
    square.control(
        "PATCH", f"catalog/objects/{category['id']}", json={"category_data": {"name": "Specials"}}
    )
    new = {"type": "CATEGORY", "id": "#new", "category_data": {"name": "Brunch"}}
    added = square.control("POST", "catalog/objects", json={"object": new})["object"]
    location = square.merchants()[0]["locations"][0]["id"]
    opened = iso(datetime.now(UTC) - timedelta(hours=1))
    order = square.control(
        "POST", "orders", json={"location_id": location, "created_at": opened, "state": "OPEN"}
    )["order"]
    changed = square.control("PATCH", f"orders/{order['id']}", json={"ticket_name": "Table 7"})
    # ... and through its API: a webhook subscription.
    app = square.api(square.client_secret)
    body = {
        "subscription": {
            "notification_url": f"{CLOSED_PORT}/square",
            "event_types": ["order.updated"],
        }
    }
    subscription = app.post(f"{square.url}/v2/webhooks/subscriptions", json=body).json()
    # In Google: a file added to Drive, and a push channel on the changes feed.
    start = google.drive(gg["access_token"], "changes/startPageToken").json()["startPageToken"]
    created = google.control(
        "POST", "files", json={"name": "Brunch.pdf", "parent": "Kitchen/Recipes"}
    )
    channel = google.http.post(
        f"{google.base}/drive/v3/changes/watch",
        params={"pageToken": start},
        json={"id": "kept-channel", "type": "web_hook", "address": f"{CLOSED_PORT}/google"},
        headers={"Authorization": f"Bearer {gg['access_token']}"},
    ).json()

    first_run = restart(sandbox, how)

    assert len(warnings(first_run)) == 1 and "no saved state" in first_run
    # The tokens issued before still work, and the refresh tokens still refresh.
    assert square.get(sq["access_token"], "/v2/locations").status_code == 200
    assert google.drive(gg["access_token"], "about", fields="user").status_code == 200
    refreshed = square.refresh(sq["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert square.get(refreshed.json()["access_token"], "/v2/locations").status_code == 200
    assert google.refresh(gg["refresh_token"]).status_code == 200
    # The changes are still there, as the API serves them.
    listing = square.get(sq["access_token"], "/v2/catalog/list", params={"types": "CATEGORY"})
    names = {o["id"]: o["category_data"]["name"] for o in listing.json()["objects"]}
    assert names[category["id"]] == "Specials" and names[added["id"]] == "Brunch"
    assert square.control("GET", f"orders/{order['id']}")["order"] == changed["order"]
    kept = app.get(f"{square.url}/v2/webhooks/subscriptions/{subscription['subscription']['id']}")
    assert kept.json()["subscription"] == subscription["subscription"]
    feed = google.drive(gg["access_token"], "changes", pageToken=start).json()
    assert created["id"] in {c["fileId"] for c in feed["changes"]}
    assert google.drive(gg["access_token"], f"files/{created['id']}").json()["name"] == "Brunch.pdf"
    channels = google.control("GET", "channels")["channels"]
    assert [c["resourceId"] for c in channels if c["id"] == "kept-channel"] == [
        channel["resourceId"]
    ]
    assert not warnings(restart(sandbox))  # the second start found the file


def test_a_revocation_survives_a_restart(sandbox):
    square, google = Square(sandbox), GoogleSandbox(sandbox.url)
    sq, gg = connect_square(square), google.connect()
    assert square.revoke(access_token=sq["access_token"]).status_code == 200
    assert google.http.post(f"{google.base}/revoke", data={"token": gg["refresh_token"]}).ok

    restart(sandbox, signal.SIGKILL)

    denied = square.get(sq["access_token"], "/v2/locations")
    assert denied.status_code == 401 and error_of(denied)["code"] == "ACCESS_TOKEN_REVOKED"
    assert square.refresh(sq["refresh_token"]).status_code == 401
    assert google.drive(gg["access_token"], "about", fields="user").status_code == 401
    assert google.refresh(gg["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_reset_forgets_the_saved_state(sandbox, state_dir):
    square = Square(sandbox)
    sq = connect_square(square)
    new = {"type": "CATEGORY", "id": "#new", "category_data": {"name": "Brunch"}}
    added = square.control("POST", "catalog/objects", json={"object": new})["object"]
    assert (state_dir / "state.json").exists()

    sandbox.control("POST", "reset")

    assert not (state_dir / "state.json").exists()
    restart(sandbox)
    assert square.get(sq["access_token"], "/v2/locations").status_code == 401
    listing = square.get(square.tokens()["access_token"], "/v2/catalog/list")
    assert added["id"] not in {o["id"] for o in listing.json()["objects"]}


def test_subscribing_make_runs_url_again_replaces_its_subscription(sandbox):
    square = Square(sandbox)
    url = f"{CLOSED_PORT}/integrations/webhooks/square"
    square.control("POST", "webhooks", json={"notification_url": url, "signature_key": "run-1"})
    restart(sandbox)
    square.control("POST", "webhooks", json={"notification_url": url, "signature_key": "run-2"})
    subscriptions = square.control("GET", "webhooks")["subscriptions"]
    assert [s["signature_key"] for s in subscriptions] == ["run-2"]


def saved_with(state_dir, **changes) -> bytes:
    saved = json.loads((state_dir / "state.json").read_bytes())
    return json.dumps({**saved, **changes}).encode()


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda state_dir: b'{"format": 1, "seed": 42, "halves": {"squa', "is unreadable"),
        (lambda state_dir: b"\x00\xff", "is unreadable"),
        (lambda state_dir: saved_with(state_dir, seed=7), "--seed 7, this run has --seed 42"),
        (lambda state_dir: saved_with(state_dir, format=99), "format 99"),
        # Square restores, then Google fails: nothing may stay half restored.
        (
            lambda state_dir: saved_with(
                state_dir,
                halves={
                    **json.loads((state_dir / "state.json").read_bytes())["halves"],
                    "google": {},
                },
            ),
            "is unreadable (KeyError)",
        ),
    ],
    ids=["truncated", "garbage", "other-seed", "other-format", "half-broken"],
)
def test_a_damaged_or_foreign_file_starts_fresh_with_one_warning(sandbox, state_dir, damage, says):
    square = Square(sandbox)
    sq = connect_square(square)
    sandbox.stop(signal.SIGTERM)
    (state_dir / "state.json").write_bytes(damage(state_dir))

    sandbox.start()
    assert square.get(sq["access_token"], "/v2/locations").status_code == 401
    assert square.get(square.tokens()["access_token"], "/v2/locations").status_code == 200
    sandbox.stop(signal.SIGTERM)

    [warning] = warnings(sandbox.output)
    assert says in warning, warning
    assert sq["access_token"] not in sandbox.output
