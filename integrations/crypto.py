"""Token encryption at rest: AES-256-GCM under a key ring, bound to the row it belongs to.

`INTEGRATIONS_ENCRYPTION_KEYS` holds base64 32-byte keys; the first encrypts, every key
decrypts, so keys rotate without downtime (put a new key first, run
`manage.py integrations_rotate_keys`, drop the old one). Each ciphertext carries the id of its
key. The associated data names the organisation and provider (and the purpose), so a ciphertext
copied into another row fails authentication instead of decrypting.

Format: ``v1.<key id>.<base64url(nonce || ciphertext+tag)>``
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
NONCE_BYTES = 12  # NIST SP 800-38D: 96-bit nonces, random per message


class Undecryptable(Exception):
    """Tampered, moved to another row, or made under a key no longer in the ring."""


@dataclass(frozen=True)
class Key:
    id: str
    aead: AESGCM

    def __repr__(self) -> str:
        return f"<Key {self.id}>"


def _key_id(raw: bytes) -> str:
    # A fingerprint, not the key: enough to pick the right key, useless to an attacker.
    return hashlib.sha256(b"sous-key-id" + raw).hexdigest()[:12]


def key_ring() -> list[Key]:
    """The configured keys, first = current. Read at call time so settings overrides apply."""
    ring = []
    for encoded in settings.INTEGRATIONS_ENCRYPTION_KEYS:
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                "INTEGRATIONS_ENCRYPTION_KEYS holds a value that is not a base64 32-byte key "
                "(run manage.py check for the hint)."
            )
        ring.append(Key(_key_id(raw), AESGCM(raw)))
    if not ring:
        raise ImproperlyConfigured("INTEGRATIONS_ENCRYPTION_KEYS is empty (see .env.example).")
    return ring


def associated_data(org_id: int, provider: str, purpose: str) -> bytes:
    return f"sous|org={org_id}|provider={provider}|{purpose}".encode()


def encrypt(plaintext: str, *, aad: bytes) -> str:
    if not plaintext:
        return ""
    key = key_ring()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, plaintext.encode(), aad)
    return f"{VERSION}.{key.id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, aad: bytes) -> str:
    if not token:
        return ""
    try:
        version, key_id, payload = token.split(".", 2)
        blob = base64.urlsafe_b64decode(payload)
    except (ValueError, binascii.Error):
        raise Undecryptable("malformed ciphertext") from None
    if version != VERSION:
        raise Undecryptable(f"unknown ciphertext version {version!r}")
    key = next((k for k in key_ring() if k.id == key_id), None)
    if key is None:
        raise Undecryptable(f"key {key_id} is not in the key ring")
    try:
        return key.aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad).decode()
    except InvalidTag:
        raise Undecryptable("authentication failed (tampered or moved)") from None


def key_id_of(token: str) -> str:
    return token.split(".", 2)[1] if token.count(".") >= 2 else ""


def current_key_id() -> str:
    return key_ring()[0].id
