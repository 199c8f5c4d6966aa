"""The realism knobs as the Square half renders them, and the `--square-*` flags."""

from __future__ import annotations

import argparse
import time

import pytest
import requests

from providers.sandbox.testing import run_sandbox
from providers.square.sandbox import add_arguments
from providers.square.sandbox.config import DEFAULT_REDIRECT_URIS, config_from

from .support import error_of


def test_latency_is_applied_to_emulated_calls(square, token, sandbox):
    sandbox.knobs(latency_ms=250)

    started = time.monotonic()
    answer = square.get(token, "/v2/locations")
    elapsed = time.monotonic() - started

    assert answer.status_code == 200
    assert elapsed >= 0.25
    assert sandbox.counters()["square.requests"] == 1


def test_injected_429s_come_in_square_format_with_retry_after(square, token, sandbox):
    sandbox.knobs(rate_429=1.0, retry_after=7)

    answer = square.get(token, "/v2/locations")

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert error_of(answer) == {
        "category": "RATE_LIMIT_ERROR",
        "code": "RATE_LIMITED",
        "detail": "This request was rate limited. Please retry later.",
    }
    assert sandbox.counters()["square.injected.429"] == 1
    assert "square.locations.list" not in sandbox.counters()  # never reached the endpoint


def test_injected_5xx_come_in_square_format(square, token, sandbox):
    sandbox.knobs(rate_5xx=1.0)

    seen = {}
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        answer = square.post(token, "/v2/orders/search", {"location_ids": ["L"]})
        seen[answer.status_code] = error_of(answer)

    assert set(seen) == {500, 503}
    assert seen[500]["code"] == "INTERNAL_SERVER_ERROR"
    assert seen[503]["code"] == "SERVICE_UNAVAILABLE"
    assert {e["category"] for e in seen.values()} == {"API_ERROR"}


def test_the_oauth_endpoints_are_faulted_too(square, sandbox):
    sandbox.knobs(rate_429=1.0)

    answer = square.refresh("EQAAwhatever")

    assert answer.status_code == 429


def test_the_control_api_is_never_faulted(square, sandbox):
    sandbox.knobs(rate_5xx=1.0, latency_ms=0)

    assert square.control("GET", "merchants")["merchants"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_fault_responses_can_be_rendered_in_process(square, status):
    response = square.half.fault_response(status, 3)

    assert response.status_code == status
    assert (response.headers.get("retry-after") == "3") == (status == 429)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_the_flags_have_square_defaults():
    config = config_from(_parse([]), seed=1)

    assert config.client_id == "sq0idp-sous-local"
    assert config.client_secret == "sq0csp-sous-local-secret"
    assert config.redirect_uris == DEFAULT_REDIRECT_URIS
    assert config.sizes.locations == 3
    assert config.sizes.days == 730


def test_every_flag_can_be_set_on_the_command_line():
    argv = [
        "--square-client-id=sq0idp-x",
        "--square-client-secret=sq0csp-y",
        "--square-redirect-uri=http://localhost:9000/cb",
        "--square-redirect-uri=http://localhost:9001/cb",
        "--square-merchants=3",
        "--square-locations=4",
        "--square-categories=5",
        "--square-items=6",
        "--square-variations-per-item=3",
        "--square-modifier-lists=2",
        "--square-orders-per-day=40",
        "--square-days=30",
        "--square-line-items=3",
    ]

    config = config_from(_parse(argv), seed=1)

    assert (config.client_id, config.client_secret) == ("sq0idp-x", "sq0csp-y")
    assert config.redirect_uris == ("http://localhost:9000/cb", "http://localhost:9001/cb")
    assert config.sizes.as_dict() == {
        "merchants": 3,
        "locations": 4,
        "categories": 5,
        "items": 6,
        "variations_per_item": 3,
        "modifier_lists": 2,
        "orders_per_day": 40,
        "days": 30,
        "line_items": 3,
    }


def test_every_flag_has_an_environment_default(monkeypatch):
    env = {
        "SANDBOX_SQUARE_CLIENT_ID": "sq0idp-env",
        "SANDBOX_SQUARE_CLIENT_SECRET": "sq0csp-env",
        "SANDBOX_SQUARE_REDIRECT_URIS": "http://a.test/cb, http://b.test/cb",
        "SANDBOX_SQUARE_MERCHANTS": "1",
        "SANDBOX_SQUARE_LOCATIONS": "2",
        "SANDBOX_SQUARE_CATEGORIES": "3",
        "SANDBOX_SQUARE_ITEMS": "4",
        "SANDBOX_SQUARE_VARIATIONS_PER_ITEM": "1",
        "SANDBOX_SQUARE_MODIFIER_LISTS": "0",
        "SANDBOX_SQUARE_ORDERS_PER_DAY": "5",
        "SANDBOX_SQUARE_DAYS": "10",
        "SANDBOX_SQUARE_LINE_ITEMS": "2",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    config = config_from(_parse([]), seed=1)

    assert config.client_id == "sq0idp-env"
    assert config.client_secret == "sq0csp-env"
    assert config.redirect_uris == ("http://a.test/cb", "http://b.test/cb")
    assert list(config.sizes.as_dict().values()) == [1, 2, 3, 4, 1, 0, 5, 10, 2]


def test_sizes_out_of_range_are_refused(square, sandbox):
    answer = square.http.post(f"{sandbox.url}/_sandbox/square/config", json={"orders_per_day": -1})
    unknown = square.http.post(f"{sandbox.url}/_sandbox/square/config", json={"waiters": 3})

    assert answer.status_code == unknown.status_code == 400


def test_a_sandbox_started_with_flags_serves_those_sizes_and_credentials():
    argv = [
        "--square-client-id=sq0idp-flagged",
        "--square-client-secret=sq0csp-flagged",
        "--square-merchants=1",
        "--square-locations=2",
        "--square-items=7",
        "--square-variations-per-item=1",
        "--square-orders-per-day=3",
        "--square-days=5",
        "--square-line-items=1",
    ]
    with run_sandbox(argv) as server:
        client = server.control("GET", "square/client")
        tokens = server.control("POST", "square/tokens", json={})
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "Connection": "close"}
        base = f"{server.url}/square/v2"
        merchants = server.half("square").merchants
        locations = requests.get(f"{base}/locations", headers=headers).json()["locations"]
        items = requests.get(f"{base}/catalog/list?types=ITEM", headers=headers).json()["objects"]
        orders = requests.post(
            f"{base}/orders/search",
            json={"location_ids": [loc["id"] for loc in locations], "limit": 1000},
            headers=headers,
        ).json()["orders"]

    assert (client["client_id"], client["client_secret"]) == ("sq0idp-flagged", "sq0csp-flagged")
    assert len(merchants) == 1
    assert len(locations) == 2
    assert len(items) == 7
    assert all(len(i["item_data"]["variations"]) == 1 for i in items)
    assert all(len(o["line_items"]) == 1 for o in orders)
    assert 10 <= len(orders) <= 2 * 6 * 4  # ~3 a day for 5 days, two locations
