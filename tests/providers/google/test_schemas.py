"""Every Drive body the product consumes validates against the discovery document's schemas.

The schemas come from shared/reference/google/drive-v3-subset.json (Google's Drive v3
discovery document, trimmed). Discovery schemas are not JSON Schema: `$ref: "File"` names a
sibling schema, int64 values are strings, and objects list their `properties`. The helper
below converts them, and closes objects to their declared properties, so a misspelt field
name in the sandbox (`mimetype`) fails here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest

REFERENCE = Path("shared/reference/google/drive-v3-subset.json")
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"

# The Drive error envelope (reference README §2.5); not part of the discovery document.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "errors"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["domain", "reason", "message"],
                        "additionalProperties": False,
                        "properties": {
                            "domain": {"type": "string"},
                            "reason": {"type": "string"},
                            "message": {"type": "string"},
                            "location": {"type": "string"},
                            "locationType": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}


def find_reference() -> Path | None:
    """shared/reference sits beside the repository (…/shared next to …/main)."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / REFERENCE
        if candidate.is_file():
            return candidate
    return None


@cache
def discovery() -> dict:
    path = find_reference()
    if path is None:
        pytest.skip(f"{REFERENCE} not found beside the repository (needed for the schemas)")
    return json.loads(path.read_text())


def to_json_schema(node: dict) -> dict:
    if "$ref" in node:
        return {"$ref": f"#/$defs/{node['$ref']}"}
    kind = node.get("type")
    out: dict = {}
    if "enum" in node:
        out["enum"] = node["enum"]
    if kind == "object":
        out["type"] = "object"
        if "properties" in node:
            out["properties"] = {k: to_json_schema(v) for k, v in node["properties"].items()}
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = to_json_schema(node["additionalProperties"])
        elif "properties" in node:
            out["additionalProperties"] = False
    elif kind == "array":
        out["type"] = "array"
        if "items" in node:
            out["items"] = to_json_schema(node["items"])
    elif kind == "string":
        out["type"] = "string"
        if node.get("format") in ("int64", "uint64"):
            out["pattern"] = r"^-?\d+$"  # 64-bit integers travel as strings in Google's JSON
        elif node.get("format") == "date-time":
            out["pattern"] = RFC3339
    elif kind in ("integer", "number", "boolean"):
        out["type"] = kind
    return out


def validator(name: str) -> jsonschema.Draft202012Validator:
    schemas = discovery()["schemas"]
    root = {
        "$defs": {key: to_json_schema(value) for key, value in schemas.items()},
        "$ref": f"#/$defs/{name}",
    }
    return jsonschema.Draft202012Validator(root)


def check(name: str, body: dict) -> None:
    errors = sorted(validator(name).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_the_converter_rejects_a_misspelt_field():
    bad = {"kind": "drive#file", "id": "x", "mimetype": "application/pdf"}
    assert list(validator("File").iter_errors(bad))
    assert list(validator("File").iter_errors({"size": 12}))  # int64 must be a string


def test_about(google, access_token):
    check("About", google.drive(access_token, "about", fields="*").json())


def test_file_lists_with_every_field(google, access_token):
    flags = {"supportsAllDrives": "true", "includeItemsFromAllDrives": "true"}
    body = google.drive(access_token, "files", fields="*", pageSize=1000, **flags).json()
    assert len(body["files"]) > 70
    check("FileList", body)
    kinds = {f["mimeType"] for f in body["files"]}
    assert {"application/pdf", "image/jpeg", "application/vnd.google-apps.folder"} <= kinds


def test_default_file_list_and_file(google, access_token):
    body = google.drive(access_token, "files", pageSize=5).json()
    check("FileList", body)
    item = body["files"][0]
    check("File", google.drive(access_token, f"files/{item['id']}").json())
    check("File", google.drive(access_token, f"files/{item['id']}", fields="*").json())


def test_start_page_token_and_change_lists(google, access_token):
    token = google.drive(access_token, "changes/startPageToken").json()
    check("StartPageToken", token)
    tiramisu = google.find("Kitchen/Recipes/Desserts/Tiramisu.pdf")["id"]
    google.control("POST", f"files/{tiramisu}/modify")
    google.control("POST", "files", json={"name": "New.pdf"})
    google.control("DELETE", f"files/{google.find('Notes.txt')['id']}")
    for fields in (None, "*", "nextPageToken,newStartPageToken,changes(fileId,removed,file(*))"):
        params = {"pageToken": token["startPageToken"], **({"fields": fields} if fields else {})}
        body = google.drive(access_token, "changes", **params).json()
        assert len(body["changes"]) == 3
        check("ChangeList", body)


def test_shared_drives(google, access_token):
    body = google.drive(access_token, "drives").json()
    for drive in body["drives"]:
        check("Drive", drive)


@pytest.mark.parametrize(
    "call",
    [
        lambda g, t: g.drive(t, "files", q="bogus = 1"),
        lambda g, t: g.drive(t, "files", pageSize=5000),
        lambda g, t: g.drive(t, "files/nope"),
        lambda g, t: g.drive("ya29.expired", "files"),
        lambda g, t: g.drive(t, f"files/{g.find('Staff/Onboarding checklist')['id']}", alt="media"),
        lambda g, t: g.drive(t, "about"),
        lambda g, t: g.drive(t, "changes"),
    ],
)
def test_error_bodies(google, access_token, call):
    response = call(google, access_token)
    assert response.status_code >= 400
    jsonschema.validate(response.json(), ERROR_SCHEMA)
    assert response.json()["error"]["code"] == response.status_code


def test_injected_faults_have_the_same_error_shape(google, access_token, sandbox):
    sandbox.knobs(rate_429=1.0)
    jsonschema.validate(google.drive(access_token, "files").json(), ERROR_SCHEMA)
    sandbox.knobs(rate_429=0.0, rate_5xx=1.0)
    jsonschema.validate(google.drive(access_token, "files").json(), ERROR_SCHEMA)


def test_token_and_userinfo_bodies_carry_their_documented_fields(google):
    tokens = google.connect()
    assert isinstance(tokens["access_token"], str) and len(tokens["access_token"]) <= 2048
    assert isinstance(tokens["refresh_token"], str) and len(tokens["refresh_token"]) <= 512
    assert isinstance(tokens["expires_in"], int) and tokens["token_type"] == "Bearer"
    assert tokens["id_token"].count(".") == 2
    claims = google.http.get(
        f"{google.base}/oauth2/v3/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).json()
    assert {
        "sub",
        "email",
        "email_verified",
        "name",
        "given_name",
        "family_name",
        "picture",
    } <= set(claims)
    legacy = google.http.get(
        f"{google.base}/oauth2/v2/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).json()
    assert {"id", "email", "verified_email", "name", "picture"} <= set(legacy)
