"""Plain-HTTP helpers for the Google sandbox tests: an OAuth flow driven with `requests`."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests

CLIENT_ID = "sous-local.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-sous-local-secret"
REDIRECT_URI = "http://localhost:8000/integrations/callback/google"
DRIVE_READONLY = "https://www.googleapis.com/auth/drive.readonly"
IDENTITY_SCOPES = "openid email profile"
SCOPES = f"{IDENTITY_SCOPES} {DRIVE_READONLY}"
MARIA = "maria@acmebistro.example"
SAM = "sam@acmebistro.example"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def form_fields(html: str) -> dict[str, str]:
    """The consent form's hidden request id (what a browser would submit with the buttons)."""
    match = re.search(r'name="request_id" value="([^"]+)"', html)
    assert match, "no consent form on the page"
    return {"request_id": match.group(1)}


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class GoogleSandbox:
    """The Google half of a running sandbox, seen from outside over HTTP."""

    url: str  # the sandbox root, e.g. http://127.0.0.1:41234
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def base(self) -> str:
        return f"{self.url}/google"

    def control(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, f"{self.url}/_sandbox/google/{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def find(self, path: str, account: str | None = None) -> dict:
        params = {"path": path, **({"account": account} if account else {})}
        return self.control("GET", "lookup", params=params)

    # --- OAuth -----------------------------------------------------------------------------

    def consent_page(self, **params: str) -> requests.Response:
        query = {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPES,
            "state": secrets.token_urlsafe(16),
            **params,
        }
        query = {k: v for k, v in query.items() if v is not None}
        return self.http.get(f"{self.base}/o/oauth2/v2/auth", params=query, allow_redirects=False)

    def answer(
        self, page: requests.Response, decision: str = "allow", **extra
    ) -> requests.Response:
        data = {**form_fields(page.text), "decision": decision, **extra}
        return self.http.post(f"{self.base}/o/oauth2/v2/auth", data=data, allow_redirects=False)

    def authorize_code(
        self, answer: dict[str, str] | None = None, **params: str
    ) -> tuple[str, dict[str, str]]:
        """Consent with Allow; returns (the PKCE verifier, the redirect's query)."""
        verifier, challenge = pkce_pair()
        page = self.consent_page(code_challenge=challenge, code_challenge_method="S256", **params)
        assert page.status_code == 200, page.text
        redirect = self.answer(page, **(answer or {}))
        assert redirect.status_code == 302, redirect.text
        return verifier, query_of(redirect.headers["location"])

    def exchange(self, code: str, verifier: str | None, **overrides) -> requests.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code_verifier": verifier,
            **overrides,
        }
        return self.http.post(f"{self.base}/token", data={k: v for k, v in data.items() if v})

    def refresh(self, refresh_token: str) -> requests.Response:
        return self.http.post(
            f"{self.base}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        )

    def connect_as(self, email: str, **params: str) -> dict:
        """`connect()`, choosing another account in the consent page's account chooser."""
        accounts = self.control("GET", "accounts")["accounts"]
        sub = next(a["sub"] for a in accounts if a["email"] == email)
        return self.connect(answer={"account": sub}, **params)

    def connect(self, scope: str = SCOPES, **params) -> dict:
        """A whole consent + exchange as Maria (offline); returns the token response."""
        params.setdefault("access_type", "offline")
        verifier, redirect = self.authorize_code(scope=scope, **params)
        response = self.exchange(redirect["code"], verifier)
        assert response.status_code == 200, response.text
        return response.json()

    # --- Drive -----------------------------------------------------------------------------

    def drive(self, access_token: str, path: str, **params) -> requests.Response:
        return self.http.get(
            f"{self.base}/drive/v3/{path.lstrip('/')}",
            params=params,
            headers={"Authorization": f"Bearer {access_token}"},
        )

    def page(self, access_token: str, path: str, page_token: str | None, **params):
        """One page of a listing: `pageToken` is sent only when there is one."""
        if page_token:
            params["pageToken"] = page_token
        return self.drive(access_token, path, **params)

    def list_all(self, access_token: str, **params) -> list[dict]:
        """files.list followed to the end, asserting every page's shape."""
        files, token = [], None
        params.setdefault("fields", "nextPageToken,files(id,name,mimeType,parents)")
        while True:
            response = self.page(access_token, "files", token, **params)
            assert response.status_code == 200, response.text
            body = response.json()
            files += body["files"]
            token = body.get("nextPageToken")
            if not token:
                return files
