"""Stateless opaque cursors (README §3: opaque; paging resends the original query).

A cursor is base64url JSON holding the position to resume from and a fingerprint of the query
that produced it; a cursor replayed with a different query is refused with INVALID_CURSOR.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from .errors import bad_request


def fingerprint(*parts: object) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def encode(position: dict, query_fingerprint: str) -> str:
    raw = json.dumps({"f": query_fingerprint, **position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: object, query_fingerprint: str) -> dict:
    """The position stored in `cursor`; raises INVALID_CURSOR if it is garbled or foreign."""
    if not isinstance(cursor, str) or not cursor:
        raise bad_request("INVALID_CURSOR", "The cursor is invalid.", "cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_request("INVALID_CURSOR", "The cursor is invalid.", "cursor") from None
    if not isinstance(data, dict):
        raise bad_request("INVALID_CURSOR", "The cursor is invalid.", "cursor")
    if data.get("f") != query_fingerprint:
        raise bad_request(
            "INVALID_CURSOR",
            "The cursor does not belong to this query; resend the original query with it.",
            "cursor",
        )
    return data
