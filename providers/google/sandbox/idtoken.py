"""OpenID Connect id_tokens: RS256 JWTs with a key published at /oauth2/v3/certs (README §1.5).

The token endpoint adds an id_token when `openid` was granted (README §1.2). The issuer is
Google's, so product code validating `iss` behaves as it will against the real thing; the
signing key is generated once per process and served as a JWK set.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "https://accounts.google.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _int(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class Signer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None

    @property
    def key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:  # generated on first use: most runs never need it
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    @property
    def kid(self) -> str:
        numbers = self.key.public_key().public_numbers()
        return hashlib.sha256(str(numbers.n).encode()).hexdigest()[:40]

    def jwks(self) -> dict:
        numbers = self.key.public_key().public_numbers()
        jwk = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid}
        return {"keys": [{**jwk, "n": _int(numbers.n), "e": _int(numbers.e)}]}

    def sign(self, claims: dict) -> str:
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        signing_input = ".".join(
            _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"


def at_hash(access_token: str) -> str:
    """OIDC at_hash: the left half of SHA-256 of the access token."""
    return _b64(hashlib.sha256(access_token.encode()).digest()[:16])
