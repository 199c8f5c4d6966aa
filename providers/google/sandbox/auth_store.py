"""OAuth state: the client registry, pending consents, codes, grants and tokens (README §1).

A grant is what one consent produced for one (client, account): its scopes and, for offline
access, a refresh token. Access tokens point at their grant, so revoking the grant kills them
and its refresh token at once. Callers hold the state lock.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import ids

# PKCE verifiers are 43-128 characters of [A-Za-z0-9-._~] (README §1.1, [NA]).
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


class OAuthError(Exception):
    """An RFC 6749 error: `error` code, human description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass
class Client:
    client_id: str
    secret: str
    name: str
    redirect_uris: list[str]


@dataclass
class PendingAuth:
    """A validated authorization request waiting for Allow or Deny on the consent page."""

    id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    offline: bool
    prompt: frozenset[str]
    include_granted_scopes: bool
    code_challenge: str | None
    code_challenge_method: str | None
    login_hint: str | None
    nonce: str | None
    expires_at: float


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    sub: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    issue_refresh: bool
    nonce: str | None
    expires_at: float
    used: bool = False


@dataclass
class Grant:
    id: str
    client_id: str
    sub: str
    scopes: tuple[str, ...]
    refresh_token: str | None
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    grant_id: str
    client_id: str
    sub: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass
class Issued:
    """What the token endpoint answers with (before the id_token is added)."""

    access: AccessToken
    refresh_token: str | None
    grant: Grant
    nonce: str | None = None


@dataclass
class AuthStore:
    clients: dict[str, Client]
    time: Callable[[], float]
    access_ttl: int
    code_ttl: int
    pending: dict[str, PendingAuth] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> grant id
    issued: list[str] = field(default_factory=list)

    # --- clients ---------------------------------------------------------------------------

    def client(self, client_id: str | None) -> Client | None:
        return self.clients.get(client_id or "")

    def authenticate_client(self, client_id: str | None, secret: str | None) -> Client:
        """Token-endpoint client authentication, with Google's error codes."""
        if not client_id:
            raise OAuthError("invalid_request", "Could not determine client ID from request.")
        client = self.client(client_id)
        if client is None:
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        if not secret:
            raise OAuthError("invalid_request", "client_secret is missing.")
        if secret != client.secret:
            raise OAuthError("invalid_client", "Unauthorized", 401)
        return client

    # --- consent ---------------------------------------------------------------------------

    def active_grants(self, client_id: str, sub: str) -> list[Grant]:
        return [
            g
            for g in self.grants.values()
            if g.client_id == client_id and g.sub == sub and not g.revoked
        ]

    def granted_scopes(self, client_id: str, sub: str) -> set[str]:
        return {s for g in self.active_grants(client_id, sub) for s in g.scopes}

    def approve(self, request: PendingAuth, sub: str, scopes: tuple[str, ...]) -> AuthCode:
        previous = self.active_grants(request.client_id, sub)
        if request.include_granted_scopes:
            # Incremental authorization: the new grant also covers earlier scopes (README §1.1).
            extra = {s for g in previous for s in g.scopes} - set(scopes)
            scopes = (*scopes, *sorted(extra))
        # A refresh token only for offline access, and only the first time the account
        # consents to this client, or again when prompt=consent forces consent (README §1.2).
        first_time = not any(g.refresh_token for g in previous)
        issue_refresh = request.offline and (first_time or "consent" in request.prompt)
        code = AuthCode(
            code=ids.auth_code(),
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            sub=sub,
            scopes=scopes,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            issue_refresh=issue_refresh,
            nonce=request.nonce,
            expires_at=self.time() + self.code_ttl,
        )
        self.codes[code.code] = code
        return code

    # --- token endpoint --------------------------------------------------------------------

    def exchange_code(
        self, client: Client, code: str | None, redirect_uri: str | None, verifier: str | None
    ) -> Issued:
        if not code:
            raise OAuthError("invalid_request", "Missing required parameter: code")
        record = self.codes.get(code)
        if record is None:
            raise OAuthError("invalid_grant", "Malformed auth code.")
        # Reused or expired codes are invalid_grant too (README §1.2, "our choice").
        if record.used or record.expires_at <= self.time() or record.client_id != client.client_id:
            raise OAuthError("invalid_grant", "Bad Request")
        if redirect_uri != record.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "Bad Request")
        if record.code_challenge is not None:
            if not verifier:
                raise OAuthError("invalid_grant", "Missing code verifier.")
            if not VERIFIER.fullmatch(verifier) or not _pkce_matches(record, verifier):
                raise OAuthError("invalid_grant", "Invalid code verifier.")
        record.used = True
        refresh = ids.refresh_token() if record.issue_refresh else None
        grant = Grant(ids.opaque(), client.client_id, record.sub, record.scopes, refresh)
        self.grants[grant.id] = grant
        if refresh:
            self.refresh[refresh] = grant.id
            self.issued.append(refresh)
        return Issued(self._mint(grant), refresh, grant, record.nonce)

    def refresh_grant(self, client: Client, token: str | None) -> Issued:
        if not token:
            raise OAuthError("invalid_request", "Missing required parameter: refresh_token")
        grant = self.grants.get(self.refresh.get(token, ""))
        if grant is None or grant.revoked:
            # The exact body Google sends for a dead refresh token (README §1.3).
            raise OAuthError("invalid_grant", "Token has been expired or revoked.")
        if grant.client_id != client.client_id:
            raise OAuthError("unauthorized_client", "Unauthorized")
        # A refresh answers without a new refresh token (README §1.3).
        return Issued(self._mint(grant), None, grant)

    def revoke(self, token: str | None) -> Grant:
        grant_id = self.refresh.get(token or "")
        if grant_id is None and token in self.access:
            grant_id = self.access[token].grant_id
        grant = self.grants.get(grant_id or "")
        if grant is None or grant.revoked:
            raise OAuthError("invalid_token", "Token expired or revoked")
        self.revoke_account(grant.client_id, grant.sub)
        return grant

    def revoke_account(self, client_id: str | None, sub: str) -> int:
        """Revoke every live grant of `sub` (for one client, or all): access and refresh."""
        count = 0
        for grant in self.grants.values():
            if grant.sub == sub and not grant.revoked and client_id in (None, grant.client_id):
                grant.revoked = True
                count += 1
        return count

    # --- resource servers ------------------------------------------------------------------

    def validate(self, token: str | None) -> AccessToken | None:
        """A live access token, or None for unknown, expired or revoked ones."""
        record = self.access.get(token or "")
        if record is None or record.expires_at <= self.time():
            return None
        if self.grants[record.grant_id].revoked:
            return None
        return record

    def expire_all(self) -> None:
        now = self.time()
        for record in self.access.values():
            record.expires_at = min(record.expires_at, now)

    def _mint(self, grant: Grant) -> AccessToken:
        record = AccessToken(
            token=ids.access_token(),
            grant_id=grant.id,
            client_id=grant.client_id,
            sub=grant.sub,
            scopes=grant.scopes,
            expires_at=self.time() + self.access_ttl,
        )
        self.access[record.token] = record
        self.issued.append(record.token)
        return record


def _pkce_matches(code: AuthCode, verifier: str) -> bool:
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=") == code.code_challenge
    return verifier == code.code_challenge  # "plain", the default method
