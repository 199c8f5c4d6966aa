"""Identifiers and secrets that look like Square's, derived deterministically where data is seeded.

Seeded data (merchants, locations, catalog objects, orders) gets ids from a keyed hash of the
seed and the object's coordinates, so the same seed always yields the same ids. Tokens and
authorization codes are random (`secrets`), as a real authorization server's are.
"""

from __future__ import annotations

import hashlib
import secrets

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B62_INDEX = {c: i for i, c in enumerate(BASE62)}


def digest(*parts: object, size: int = 32) -> bytes:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=size).digest()


def hash64(*parts: object) -> int:
    return int.from_bytes(digest(*parts, size=8), "big")


def encode(number: int, alphabet: str, width: int) -> str:
    base = len(alphabet)
    chars = []
    for _ in range(width):
        number, rest = divmod(number, base)
        chars.append(alphabet[rest])
    return "".join(reversed(chars))


def seeded(alphabet: str, width: int, *parts: object) -> str:
    return encode(int.from_bytes(digest(*parts), "big"), alphabet, width)


# Square's catalog ids are 24 upper-case base32 characters, e.g. "W62UWFY35CWMYGVWK6TWJDNI".
def catalog_id(*parts: object) -> str:
    return seeded(BASE32, 24, "catalog", *parts)


# Merchant ids look like "MLQW2MYBY81PZ", location ids like "L88917AVBK2S5" (13 characters).
def merchant_id(*parts: object) -> str:
    return "ML" + seeded(BASE32, 11, "merchant", *parts)


def location_id(*parts: object) -> str:
    return "L" + seeded(BASE32, 12, "location", *parts)


def random_base62(width: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(width))


# README §4.2: access tokens start "EAAA", refresh tokens "EQAA"; Square's are 64 characters.
def access_token() -> str:
    return "EAAA" + random_base62(60)


def refresh_token() -> str:
    return "EQAA" + random_base62(60)


# README §4.1: codes come back as `code=sq0cgb-...`.
def authorization_code() -> str:
    return "sq0cgb-" + random_base62(22)


class OrderIdCodec:
    """Order ids that encode (merchant, location, business day, index) and still look random.

    Orders are a pure function of those coordinates, so the id must lead back to them (the
    control API changes an order by id). Layout, 20 bytes rendered as 27 base62 characters
    like Square's: a 12-byte tag (hash of the coordinates) followed by the 8 coordinate bytes
    XOR-ed with a mask derived from the tag. Decoding checks the tag, so a random string is
    never mistaken for a generated order.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def encode(self, merchant: int, location: int, day: int, index: int) -> str:
        fields = (
            merchant.to_bytes(1, "big")
            + location.to_bytes(1, "big")
            + day.to_bytes(3, "big")
            + index.to_bytes(3, "big")
        )
        tag = digest(self.seed, "order", fields.hex(), size=12)
        mask = digest(self.seed, "mask", tag.hex(), size=8)
        hidden = bytes(a ^ b for a, b in zip(fields, mask, strict=True))
        return encode(int.from_bytes(tag + hidden, "big"), BASE62, 27)

    def decode(self, order_id: str) -> tuple[int, int, int, int] | None:
        if len(order_id) != 27 or any(c not in _B62_INDEX for c in order_id):
            return None
        number = 0
        for c in order_id:
            number = number * 62 + _B62_INDEX[c]
        if number >= 1 << 160:
            return None
        raw = number.to_bytes(20, "big")
        tag, hidden = raw[:12], raw[12:]
        mask = digest(self.seed, "mask", tag.hex(), size=8)
        fields = bytes(a ^ b for a, b in zip(hidden, mask, strict=True))
        if digest(self.seed, "order", fields.hex(), size=12) != tag:
            return None
        return (
            fields[0],
            fields[1],
            int.from_bytes(fields[2:5], "big"),
            int.from_bytes(fields[5:8], "big"),
        )
