"""The OAuth 2.0 client every provider uses: consent URL, code exchange, refresh, revoke.

State and PKCE values come from authlib's generators (RFC 6749 §10.10, RFC 7636). The token
calls are small and explicit because providers differ in exactly these calls (Square wants
JSON bodies and `Authorization: Client <secret>` on revoke; Google wants RFC 6749 forms), so a
provider subclasses `OAuthClient` and overrides only what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from .errors import ApiError, GrantRefused, RateLimited, Unavailable, excerpt
from .http import INTERACTIVE, Profile, session_for

STATE_LENGTH = 43  # characters of [A-Za-z0-9]: ~256 bits, well over the 128 required
VERIFIER_LENGTH = 64  # RFC 7636 §4.1: 43..128 unreserved characters


def new_state() -> str:
    return generate_token(STATE_LENGTH)


def new_code_verifier() -> str:
    return generate_token(VERIFIER_LENGTH)


def code_challenge(verifier: str) -> str:
    return create_s256_code_challenge(verifier)


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint returned. Never printed: the token fields are excluded from repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)
    expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    account_id: str = ""  # Square returns merchant_id with the token


class OAuthClient:
    """RFC 6749 authorization-code client (form bodies, client secret in the body)."""

    scope_separator = " "

    def __init__(
        self,
        *,
        provider: str,
        client_id: str,
        client_secret: str,
        authorize_url: str,
        token_url: str,
        revoke_url: str,
        profile: Profile = INTERACTIVE,
    ) -> None:
        self.provider = provider
        self.client_id = client_id
        self._client_secret = client_secret
        self.authorize_url = authorize_url
        self.token_url = token_url
        self.revoke_url = revoke_url
        self.http = session_for(provider, profile)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider} {self.client_id}>"

    # --- consent
    def authorization_url(
        self,
        *,
        redirect_uri: str,
        state: str,
        scopes: tuple[str, ...],
        code_verifier: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scope_separator.join(scopes),
            "state": state,
            **(extra or {}),
        }
        if code_verifier:
            params["code_challenge"] = code_challenge(code_verifier)
            params["code_challenge_method"] = "S256"
        return add_params_to_uri(self.authorize_url, list(params.items()))

    # --- token endpoint
    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> TokenSet:
        payload = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            payload["code_verifier"] = code_verifier
        return self.parse_token(self._token_call(payload, refusal=ApiError))

    def refresh(self, refresh_token: str) -> TokenSet:
        payload = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        token = self.parse_token(self._token_call(payload, refusal=GrantRefused))
        if not token.refresh_token:
            # RFC 6749 §6: the refresh token may be omitted when it stays the same.
            token = TokenSet(**{**token.__dict__, "refresh_token": refresh_token})
        return token

    def revoke(self, *, access_token: str, refresh_token: str) -> None:
        """RFC 7009: revoking the refresh token ends the whole grant."""
        response = self.http.post(
            self.revoke_url,
            data={"token": refresh_token or access_token},
            headers={"Accept": "application/json"},
        )
        self.raise_for_token_error(response, refusal=ApiError)

    # --- overridable pieces
    def token_request(self, payload: dict[str, str]) -> requests.Response:
        body = {**payload, "client_id": self.client_id, "client_secret": self._client_secret}
        return self.http.post(self.token_url, data=body, headers={"Accept": "application/json"})

    def parse_token(self, data: dict) -> TokenSet:
        expires_in = data.get("expires_in")
        scopes = tuple((data.get("scope") or "").split())
        return TokenSet(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token", ""),
            expires_at=datetime.now(UTC) + timedelta(seconds=int(expires_in))
            if expires_in
            else None,
            scopes=scopes,
        )

    def raise_for_token_error(self, response: requests.Response, *, refusal: type[ApiError]):
        """Classify a token-endpoint answer (RFC 6749 §5.2)."""
        status = response.status_code
        if status < 400:
            return
        name = self.provider.title()
        if status == 429:
            retry_after = float(response.headers.get("Retry-After") or 1)
            raise RateLimited(
                f"{name} asked us to slow down.", provider=self.provider, retry_after=retry_after
            )
        if status >= 500:
            raise Unavailable(f"{name} is not answering (HTTP {status}).", provider=self.provider)
        code = self.error_code(response)
        if code == "invalid_client":
            raise ApiError(
                f"{name} does not recognise this app's client credentials.",
                provider=self.provider,
                status=status,
                code=code,
            )
        raise refusal(
            f"{name} refused the grant ({code or status}).",
            provider=self.provider,
            status=status,
            code=code,
        )

    @staticmethod
    def error_code(response: requests.Response) -> str:
        try:
            data = response.json()
        except ValueError:
            return excerpt(response.text, 40)
        if isinstance(data, dict):
            if isinstance(data.get("error"), str):
                return data["error"]
            errors = data.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                return str(errors[0].get("code", ""))
            if isinstance(data.get("type"), str):
                return data["type"]
        return ""

    def _token_call(self, payload: dict[str, str], *, refusal: type[ApiError]) -> dict:
        response = self.token_request(payload)
        self.raise_for_token_error(response, refusal=refusal)
        try:
            data = response.json()
        except ValueError:
            raise ApiError(
                f"{self.provider.title()} sent an unreadable token response.",
                provider=self.provider,
                status=response.status_code,
            ) from None
        if "access_token" not in data:
            raise refusal(f"{self.provider.title()} sent no access token.", provider=self.provider)
        return data
