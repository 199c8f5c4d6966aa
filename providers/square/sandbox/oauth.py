"""Square's OAuth server (README §4): clients, codes, grants, tokens. No HTTP here.

Lifetimes (README §4.2 table): a code lives 5 minutes and works once; an access token lives
30 days (24 hours if `short_lived`). A code-flow refresh token never expires, can be used any
number of times and comes back unchanged from a refresh; a PKCE refresh token works once, lives
90 days, and each refresh returns a new one with `refresh_token_expires_at`. Revoking (README
§4.3) ends every token of the app for that merchant, so the next refresh fails.

Errors use Square's `errors[]` shape (see errors.py for why). Which code Square answers for a
refresh on a revoked grant is undocumented; we use 401 ACCESS_TOKEN_REVOKED so that a client
can tell "revoked, re-authorise" from a malformed request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from . import ids
from .errors import SquareError, bad_request, unauthorized
from .menu import DEFAULT_SCOPES, KNOWN_SCOPES
from .timefmt import iso_seconds

CODE_TTL = 5 * 60
ACCESS_TTL = 30 * 86_400
SHORT_LIVED_TTL = 86_400
PKCE_REFRESH_TTL = 90 * 86_400


class ConsentError(Exception):
    """A request the consent page must refuse outright: shown as an error page, no redirect."""


@dataclass
class Client:
    client_id: str
    secret: str
    redirect_uris: list[str]


@dataclass
class AuthorizeRequest:
    client: Client
    redirect_uri: str  # where the browser goes back to
    redirect_uri_sent: str | None  # as sent to authorize: ObtainToken must then repeat it
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None


@dataclass
class Code:
    client_id: str
    merchant_id: str
    scopes: tuple[str, ...]
    redirect_uri_sent: str | None
    code_challenge: str | None
    issued_at: float
    used: bool = False


@dataclass
class AccessToken:
    value: str
    client_id: str
    merchant_id: str
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    value: str
    client_id: str
    merchant_id: str
    scopes: tuple[str, ...]
    pkce: bool
    expires_at: float | None  # None: never (code flow)
    used: bool = False
    revoked: bool = False


def s256(verifier: str) -> str:
    """RFC 7636 S256 challenge: base64url(sha256(verifier)) without padding (README §4.1)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class OAuthStore:
    """All OAuth state. The half's lock is held around every call."""

    clock: Callable[[], float]
    merchant_ids: frozenset[str]
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    # Told (merchant id, client id, revoker type) when an app loses a merchant's grant: Square
    # then publishes oauth.authorization.revoked (README §4.3).
    on_revoke: Callable[[str, str, str], None] | None = None

    # --- authorize ------------------------------------------------------------------------------

    def check_authorize(self, params: dict[str, str]) -> AuthorizeRequest:
        client_id = params.get("client_id")
        if not client_id:
            raise ConsentError("The request has no client_id.")
        client = self.clients.get(client_id)
        if client is None:
            raise ConsentError(f"No application has the id {client_id!r}.")
        sent = params.get("redirect_uri") or None
        if sent is not None and sent not in client.redirect_uris:
            raise ConsentError(f"The redirect URL {sent!r} is not registered for this application.")
        if sent is None and not client.redirect_uris:
            raise ConsentError("This application has no registered redirect URL.")
        scopes = tuple(params.get("scope", "").split()) or DEFAULT_SCOPES
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            raise ConsentError(f"Unknown permission {unknown[0]!r} requested.")
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method")
        if challenge and method not in (None, "", "S256"):
            raise ConsentError("Only the S256 code_challenge_method is supported.")
        return AuthorizeRequest(
            client=client,
            # README §4.1 / brief: without redirect_uri, the first registered one is used.
            redirect_uri=sent or client.redirect_uris[0],
            redirect_uri_sent=sent,
            scopes=tuple(dict.fromkeys(scopes)),
            state=params.get("state"),
            code_challenge=challenge,
        )

    def issue_code(self, request: AuthorizeRequest, merchant_id: str) -> str:
        value = ids.authorization_code()
        self.codes[value] = Code(
            client_id=request.client.client_id,
            merchant_id=merchant_id,
            scopes=request.scopes,
            redirect_uri_sent=request.redirect_uri_sent,
            code_challenge=request.code_challenge,
            issued_at=self.clock(),
        )
        return value

    # --- tokens ---------------------------------------------------------------------------------

    def _issue(
        self,
        client_id: str,
        merchant_id: str,
        scopes: tuple[str, ...],
        *,
        short_lived: bool,
        refresh: RefreshToken | None,
        pkce: bool,
    ) -> dict:
        now = self.clock()
        access = AccessToken(
            value=ids.access_token(),
            client_id=client_id,
            merchant_id=merchant_id,
            scopes=scopes,
            expires_at=now + (SHORT_LIVED_TTL if short_lived else ACCESS_TTL),
        )
        self.access[access.value] = access
        self.issued.append(access.value)
        if refresh is None:
            refresh = RefreshToken(
                value=ids.refresh_token(),
                client_id=client_id,
                merchant_id=merchant_id,
                scopes=scopes,
                pkce=pkce,
                expires_at=now + PKCE_REFRESH_TTL if pkce else None,
            )
            self.refresh[refresh.value] = refresh
            self.issued.append(refresh.value)
        body = {
            "access_token": access.value,
            "token_type": "bearer",
            "expires_at": iso_seconds(access.expires_at),
            "merchant_id": merchant_id,
            "refresh_token": refresh.value,
            "short_lived": short_lived,
        }
        if refresh.expires_at is not None:
            body["refresh_token_expires_at"] = iso_seconds(refresh.expires_at)
        return body

    def _client(self, body: dict) -> tuple[Client, str | None]:
        client_id = body.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER", "Field must be set: `client_id`.", "client_id"
            )
        client = self.clients.get(client_id)
        if client is None:
            raise unauthorized("Invalid client_id.")
        secret = body.get("client_secret")
        if secret is not None and not hmac.compare_digest(str(secret), client.secret):
            raise unauthorized("Invalid client_secret.")
        return client, secret

    def obtain_token(self, body: dict) -> dict:
        """ObtainToken (README §4.2)."""
        grant_type = body.get("grant_type")
        if not grant_type:
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER", "Field must be set: `grant_type`.", "grant_type"
            )
        client, secret = self._client(body)
        short_lived = bool(body.get("short_lived") or False)
        if grant_type == "authorization_code":
            return self._exchange_code(client, secret, body, short_lived)
        if grant_type == "refresh_token":
            return self._refresh(client, secret, body, short_lived)
        if grant_type == "migration_token":
            raise bad_request(
                "BAD_REQUEST", "The sandbox does not emulate migration tokens.", "grant_type"
            )
        raise bad_request(
            "INVALID_VALUE",
            "`grant_type` must be `authorization_code` or `refresh_token`.",
            "grant_type",
        )

    def _exchange_code(
        self, client: Client, secret: str | None, body: dict, short_lived: bool
    ) -> dict:
        value = body.get("code")
        if not value:
            raise bad_request("MISSING_REQUIRED_PARAMETER", "Field must be set: `code`.", "code")
        code = self.codes.get(value)
        if code is None or code.client_id != client.client_id:
            raise unauthorized("Invalid authorization code.")
        if code.used:
            raise unauthorized("Authorization code is already redeemed.")
        if self.clock() > code.issued_at + CODE_TTL:
            raise unauthorized("Authorization code is expired.")
        # ObtainTokenRequest.redirect_uri: if sent to authorize, it must be sent here too.
        if (
            code.redirect_uri_sent is not None
            and body.get("redirect_uri") != code.redirect_uri_sent
        ):
            raise bad_request(
                "INVALID_VALUE",
                "`redirect_uri` must match the redirect_uri sent to the authorize page.",
                "redirect_uri",
            )
        if code.code_challenge is not None:
            verifier = body.get("code_verifier")
            if not verifier:
                raise bad_request(
                    "MISSING_REQUIRED_PARAMETER",
                    "Field must be set: `code_verifier`.",
                    "code_verifier",
                )
            if not hmac.compare_digest(s256(str(verifier)), code.code_challenge):
                raise unauthorized("The code_verifier does not match the code_challenge.")
        elif secret is None:
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER", "Field must be set: `client_secret`.", "client_secret"
            )
        code.used = True
        return self._issue(
            client.client_id,
            code.merchant_id,
            code.scopes,
            short_lived=short_lived,
            refresh=None,
            pkce=code.code_challenge is not None,
        )

    def _refresh(self, client: Client, secret: str | None, body: dict, short_lived: bool) -> dict:
        value = body.get("refresh_token")
        if not value:
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER",
                "Field must be set: `refresh_token`.",
                "refresh_token",
            )
        token = self.refresh.get(value)
        if token is None or token.client_id != client.client_id:
            raise unauthorized("Invalid refresh token.")
        if token.revoked:
            raise SquareError(401, "ACCESS_TOKEN_REVOKED", "The refresh token has been revoked.")
        if token.pkce:
            if token.used:
                raise unauthorized("The refresh token has already been used.")
            if token.expires_at is not None and self.clock() >= token.expires_at:
                raise unauthorized("The refresh token has expired.")
        elif secret is None:
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER", "Field must be set: `client_secret`.", "client_secret"
            )
        scopes = token.scopes
        asked = body.get("scopes")
        if isinstance(asked, list) and asked:
            # README §4.2: the new token gets the intersection with the refresh token's scopes.
            scopes = tuple(s for s in token.scopes if s in asked)
        if token.pkce:
            token.used = True
            return self._issue(
                client.client_id,
                token.merchant_id,
                scopes,
                short_lived=short_lived,
                refresh=None,
                pkce=True,
            )
        return self._issue(
            client.client_id,
            token.merchant_id,
            scopes,
            short_lived=short_lived,
            refresh=token,
            pkce=False,
        )

    def issue_direct(
        self, client_id: str, merchant_id: str, scopes: tuple[str, ...], pkce: bool
    ) -> dict:
        """Tokens without the browser dance (control API shortcut for tests)."""
        if client_id not in self.clients:
            raise KeyError(client_id)
        return self._issue(
            client_id, merchant_id, scopes, short_lived=False, refresh=None, pkce=pkce
        )

    # --- using tokens ---------------------------------------------------------------------------

    @staticmethod
    def _bearer(header: str | None) -> str | None:
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return value.strip()

    def authenticate(self, header: str | None, scope: str | None) -> AccessToken:
        """The access token behind a data call, or Square's 401/403 (README §2)."""
        value = self._bearer(header)
        token = self.access.get(value) if value else None
        if token is None:
            raise unauthorized()
        if token.revoked:
            raise SquareError(401, "ACCESS_TOKEN_REVOKED", "The access token has been revoked.")
        if self.clock() >= token.expires_at:
            raise SquareError(401, "ACCESS_TOKEN_EXPIRED", "The access token has expired.")
        if scope is not None and scope not in token.scopes:
            raise SquareError(
                403,
                "INSUFFICIENT_SCOPES",
                "The merchant has not given your application sufficient permissions to do "
                f"this. Request the {scope} permission.",
            )
        return token

    def authenticate_app(self, header: str | None) -> Client:
        """The app behind an app-level call (webhook subscriptions, events). Square takes the
        app's personal access token there and refuses sellers' OAuth tokens; the sandbox's app
        has no personal token, so its client secret stands in for one."""
        value = self._bearer(header)
        if value is None:
            raise unauthorized()
        for client in self.clients.values():
            if hmac.compare_digest(value, client.secret):
                return client
        if value in self.access:
            raise SquareError(
                403,
                "FORBIDDEN",
                "OAuth access tokens cannot be used with this API; use the application's "
                "personal access token.",
            )
        raise unauthorized()

    def clients_with_grant(self, merchant_id: str, scope: str | None) -> list[str]:
        """The apps that can read `scope` of the merchant now (any live grant if None): a live
        access token, or a refresh token that can still mint one."""
        now = self.clock()
        found: set[str] = set()
        for token in self.access.values():
            if token.merchant_id != merchant_id or token.revoked or now >= token.expires_at:
                continue
            if scope is None or scope in token.scopes:
                found.add(token.client_id)
        for refresh in self.refresh.values():
            if refresh.merchant_id != merchant_id or refresh.revoked:
                continue
            if refresh.pkce and refresh.used:
                continue
            if refresh.expires_at is not None and now >= refresh.expires_at:
                continue
            if scope is None or scope in refresh.scopes:
                found.add(refresh.client_id)
        return sorted(found)

    def token_status(self, header: str | None) -> dict:
        """RetrieveTokenStatus: expired or invalid tokens get UNAUTHORIZED (spec description)."""
        value = self._bearer(header)
        token = self.access.get(value) if value else None
        if token is None or token.revoked or self.clock() >= token.expires_at:
            raise unauthorized()
        return {
            "scopes": list(token.scopes),
            "expires_at": iso_seconds(token.expires_at),
            "client_id": token.client_id,
            "merchant_id": token.merchant_id,
        }

    # --- revoking -------------------------------------------------------------------------------

    def revoke_token(self, header: str | None, body: dict) -> dict:
        """RevokeToken (README §4.3), authorised by `Authorization: Client <secret>`."""
        scheme, _, secret = (header or "").partition(" ")
        if scheme.lower() != "client" or not secret.strip():
            raise unauthorized()
        client_id = body.get("client_id")
        if not client_id:
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER", "Field must be set: `client_id`.", "client_id"
            )
        client = self.clients.get(client_id)
        if client is None or not hmac.compare_digest(secret.strip(), client.secret):
            raise unauthorized()
        access_token, merchant_id = body.get("access_token"), body.get("merchant_id")
        if access_token and merchant_id:
            raise bad_request(
                "CONFLICTING_PARAMETERS",
                "Provide either `access_token` or `merchant_id`, not both.",
            )
        if not access_token and not merchant_id:
            raise bad_request(
                "MISSING_REQUIRED_PARAMETER",
                "Field must be set: `access_token` or `merchant_id`.",
            )
        if access_token:
            token = self.access.get(access_token)
            if token is None or token.client_id != client_id:
                raise SquareError(404, "NOT_FOUND", "Access token not found.", "access_token")
            if body.get("revoke_only_access_token"):
                token.revoked = True
                return {"success": True}
            merchant_id = token.merchant_id
        if not self.revoke_merchant(merchant_id, client_id, revoker_type="APPLICATION"):
            raise SquareError(
                404, "NOT_FOUND", "No authorization found for this merchant.", "merchant_id"
            )
        return {"success": True}

    def revoke_merchant(
        self, merchant_id: str, client_id: str | None = None, revoker_type: str = "MERCHANT"
    ) -> int:
        """End every live token (and pending code) of the app(s) for the merchant; how many.
        The default revoker is the merchant, as from the Square Dashboard's app list."""

        def ours(item: AccessToken | RefreshToken | Code) -> bool:
            return item.merchant_id == merchant_id and client_id in (None, item.client_id)

        ended = 0
        losing: set[str] = set()
        for token in [*self.access.values(), *self.refresh.values()]:
            if ours(token) and not token.revoked:
                token.revoked = True
                ended += 1
                losing.add(token.client_id)
        for code in self.codes.values():
            if ours(code):
                code.used = True
        if self.on_revoke is not None:
            for client in sorted(losing):
                self.on_revoke(merchant_id, client, revoker_type)
        return ended

    def expire_all(self) -> None:
        now = self.clock()
        for token in self.access.values():
            token.expires_at = min(token.expires_at, now - 1)
