"""Every body the product consumes validates against Square's own OpenAPI schemas.

Two checks per body: jsonschema validation against `#/components/schemas/<Response>` of the
reference extract (types, enums, required fields), and a stricter walk that every field we
emit is one the schema names (catches misspelt field names, which plain validation allows).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .support import iso, pkce_pair

SPEC_URI = "urn:square:openapi-subset"


def _find_spec() -> Path | None:
    # The reference pack lives beside the repository: <root>/shared/reference/square/...
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "reference" / "square" / "openapi-subset.json"
        if candidate.is_file():
            return candidate
    return None


SPEC_PATH = _find_spec()
pytestmark = pytest.mark.skipif(
    SPEC_PATH is None,
    reason="shared/reference/square/openapi-subset.json not found above the repository",
)


@pytest.fixture(scope="module")
def spec() -> dict:
    assert SPEC_PATH is not None
    return json.loads(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def check(spec):
    registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    schemas = spec["components"]["schemas"]

    def resolve(schema: dict) -> dict:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def unknown_fields(value, schema: dict, path: str) -> list[str]:
        schema = resolve(schema)
        found = []
        if isinstance(value, dict):
            properties = schema.get("properties")
            if properties is None:
                extra = schema.get("additionalProperties")
                if isinstance(extra, dict):
                    for key, item in value.items():
                        found += unknown_fields(item, extra, f"{path}.{key}")
                return found
            for key, item in value.items():
                if key not in properties:
                    found.append(f"{path}.{key}")
                else:
                    found += unknown_fields(item, properties[key], f"{path}.{key}")
        elif isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                found += unknown_fields(item, schema["items"], f"{path}[{index}]")
        return found

    def nulls(value, path: str = "$") -> list[str]:
        if value is None:
            return [path]
        if isinstance(value, dict):
            return [n for k, v in value.items() for n in nulls(v, f"{path}.{k}")]
        if isinstance(value, list):
            return [n for i, v in enumerate(value) for n in nulls(v, f"{path}[{i}]")]
        return []

    def check(body: dict, schema_name: str) -> None:
        validator = Draft202012Validator(
            {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}, registry=registry
        )
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
        assert not unknown_fields(body, schemas[schema_name], "$"), unknown_fields(
            body, schemas[schema_name], "$"
        )[:10]
        assert not nulls(body), nulls(body)[:10]  # Square leaves unset fields out

    return check


def test_token_bodies_match_the_spec(square, check):
    tokens = square.exchange(square.authorize()["code"]).json()
    verifier, challenge = pkce_pair()
    code = square.authorize(code_challenge=challenge, code_challenge_method="S256")["code"]
    pkce = square.http.post(
        f"{square.url}/oauth2/token",
        json={
            "client_id": square.client_id,
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
        },
    ).json()
    refreshed = square.refresh(tokens["refresh_token"]).json()

    for body in (tokens, pkce, refreshed):
        check(body, "ObtainTokenResponse")
    check(
        square.post(tokens["access_token"], "/oauth2/token/status").json(),
        "RetrieveTokenStatusResponse",
    )
    check(square.revoke(access_token=tokens["access_token"]).json(), "RevokeTokenResponse")


def test_merchant_and_location_bodies_match_the_spec(square, token, check):
    check(square.get(token, "/v2/merchants/me").json(), "RetrieveMerchantResponse")
    check(square.get(token, "/v2/locations").json(), "ListLocationsResponse")


def test_catalog_bodies_match_the_spec(square, token, check):
    types = "ITEM,ITEM_VARIATION,CATEGORY,TAX,DISCOUNT,MODIFIER_LIST,MODIFIER"
    cursor = None
    while True:
        params = {"types": types, **({"cursor": cursor} if cursor else {})}
        page = square.get(token, "/v2/catalog/list", params=params).json()
        check(page, "ListCatalogResponse")
        if not (cursor := page.get("cursor")):
            break
    item = page["objects"][-1]
    square.control("DELETE", f"catalog/objects/{item['id']}")
    search = square.post(
        token,
        "/v2/catalog/search",
        {
            "object_types": ["ITEM", "ITEM_VARIATION", "MODIFIER"],
            "include_deleted_objects": True,
            "include_related_objects": True,
            "limit": 1000,
        },
    ).json()
    check(search, "SearchCatalogObjectsResponse")
    assert search["related_objects"]


def test_order_bodies_match_the_spec(square, token, first_merchant, check):
    end = datetime.now(UTC)
    body = {
        "location_ids": [loc["id"] for loc in first_merchant["locations"]],
        "limit": 400,
        "query": {
            "filter": {
                "date_time_filter": {
                    "created_at": {"start_at": iso(end - timedelta(days=3)), "end_at": iso(end)}
                }
            },
            "sort": {"sort_field": "CREATED_AT", "sort_order": "DESC"},
        },
    }
    square.control(
        "POST",
        "orders",
        json={
            "location_id": body["location_ids"][0],
            "created_at": iso(end - timedelta(minutes=5)),
            "state": "OPEN",
        },
    )

    page = square.post(token, "/v2/orders/search", body).json()
    entries = square.post(token, "/v2/orders/search", {**body, "return_entries": True}).json()

    check(page, "SearchOrdersResponse")
    check(entries, "SearchOrdersResponse")
    orders = page["orders"]
    assert {o["state"] for o in orders} >= {"OPEN", "COMPLETED", "CANCELED"}
    assert any(o.get("discounts") for o in orders)
    assert any(o.get("service_charges") for o in orders)
    assert {t["type"] for o in orders for t in o.get("tenders", [])} == {"CARD", "CASH"}


def test_payment_bodies_match_the_spec(square, token, check):
    check(square.get(token, "/v2/payments").json(), "ListPaymentsResponse")


def test_error_bodies_match_the_spec(square, token, sandbox, check):
    narrow = square.tokens(scopes=["ITEMS_READ"])["access_token"]
    errors = [
        square.get(None, "/v2/locations"),
        square.get(narrow, "/v2/locations"),
        square.post(token, "/v2/orders/search", {"location_ids": [f"L{i}" for i in range(11)]}),
        square.exchange("sq0cgb-not-a-code"),
        square.post("EAAAnope", "/oauth2/token/status"),
    ]
    sandbox.knobs(rate_429=1.0)
    errors.append(square.get(token, "/v2/locations"))
    sandbox.knobs(rate_429=0.0, rate_5xx=1.0)
    errors.append(square.get(token, "/v2/catalog/list"))

    for response in errors:
        assert response.status_code >= 400
        check(response.json(), "ListLocationsResponse")  # any response: its `errors[]` part
        for error in response.json()["errors"]:
            check(error, "Error")
