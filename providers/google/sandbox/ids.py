"""Identifiers shaped like Drive's and token strings shaped like Google's.

Seeded ids come from a `random.Random` so a seed always gives the same tree; tokens and codes
come from `secrets` because nothing should be able to guess them.
"""

from __future__ import annotations

import base64
import random
import secrets


def urlsafe(rng: random.Random, chars: int) -> str:
    raw = rng.getrandbits(chars * 6).to_bytes((chars * 6 + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:chars]


def file_id(rng: random.Random, *, editor: bool = False) -> str:
    """Drive file ids: 33 characters for folders and blobs, 44 for Docs Editors files."""
    return "1" + urlsafe(rng, 43 if editor else 32)


def root_id(rng: random.Random) -> str:
    """My Drive roots and shared drives: "0A" + 11 characters + "Uk9PVA", as Drive's look."""
    return "0A" + urlsafe(rng, 11) + "Uk9PVA"


def digits(rng: random.Random, count: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(count - 1))


def auth_code() -> str:
    # Codes look like "4/0AX4XfWh..." and stay under the 256-byte ceiling (README §1.2).
    return "4/0A" + secrets.token_urlsafe(54)


def access_token() -> str:
    # "ya29." access tokens, far below the 2048-byte ceiling (README §1.2).
    return "ya29.a0" + secrets.token_urlsafe(120)


def refresh_token() -> str:
    # "1//" refresh tokens, below the 512-byte ceiling (README §1.2).
    return "1//0" + secrets.token_urlsafe(76)


def opaque(nbytes: int = 18) -> str:
    return secrets.token_urlsafe(nbytes)
