"""Helpers for driving the local Square over real HTTP, as a browser and a client would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import requests

CALLBACK = "http://localhost:8000/integrations/callback/square"
SOUS_SCOPES = ["MERCHANT_PROFILE_READ", "ITEMS_READ", "ORDERS_READ", "PAYMENTS_READ"]


@dataclass
class ConsentForm:
    """What a browser would see of the consent page's form."""

    action: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # hidden inputs
    merchants: list[tuple[str, str]] = field(default_factory=list)  # (value, label) options
    selected_merchant: str | None = None
    buttons: dict[str, str] = field(default_factory=dict)  # label -> decision value


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form = ConsentForm()
        self._option: str | None = None
        self._button: str | None = None
        self._selected = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form.action = attrs.get("action", "")
        elif tag == "input" and attrs.get("type") == "hidden":
            self.form.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "option":
            self._option = attrs["value"]
            self._selected = "selected" in attrs
        elif tag == "button":
            self._button = attrs.get("value")

    def handle_data(self, data):
        if self._option is not None and data.strip():
            self.form.merchants.append((self._option, data.strip()))
            if self._selected:
                self.form.selected_merchant = self._option
            self._option = None
        elif self._button is not None and data.strip():
            self.form.buttons[data.strip()] = self._button
            self._button = None


def parse_consent(html: str) -> ConsentForm:
    parser = _FormParser()
    parser.feed(html)
    return parser.form


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _session() -> requests.Session:
    # One connection per request: kept-alive connections to the test server stall ~40 ms per
    # request (Nagle vs delayed ACK; its listening socket is made without IPPROTO_TCP, so
    # asyncio does not set TCP_NODELAY on accepted connections).
    session = requests.Session()
    session.headers["Connection"] = "close"
    return session


class Square:
    """The Square half as a test sees it: its URL, its app credentials, shortcuts."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.url = f"{sandbox.url}/square"
        client = self.control("GET", "client")
        self.client_id: str = client["client_id"]
        self.client_secret: str = client["client_secret"]

    @property
    def http(self) -> requests.Session:
        """A fresh session per use: safe to share the helper between threads."""
        return _session()

    @property
    def half(self):
        return self.sandbox.half("square")

    def control(self, method: str, path: str, **kwargs):
        url = f"{self.sandbox.url}/_sandbox/square/{path.lstrip('/')}"
        response = self.http.request(method, url, **kwargs)
        response.raise_for_status()
        return response.json()

    def merchants(self) -> list[dict]:
        return self.control("GET", "merchants")["merchants"]

    def resize(self, **sizes) -> dict:
        return self.control("POST", "config", json=sizes)["sizes"]

    def tokens(self, merchant_id: str | None = None, scopes=None, pkce: bool = False) -> dict:
        body = {"merchant_id": merchant_id, "scopes": scopes, "pkce": pkce}
        return self.control("POST", "tokens", json={k: v for k, v in body.items() if v})

    def api(self, access_token: str | None) -> requests.Session:
        session = _session()
        if access_token:
            session.headers["Authorization"] = f"Bearer {access_token}"
        session.headers["Square-Version"] = "2025-08-20"
        return session

    def get(self, token: str | None, path: str, **kwargs) -> requests.Response:
        return self.api(token).get(f"{self.url}{path}", **kwargs)

    def post(self, token: str | None, path: str, body: dict | None = None) -> requests.Response:
        return self.api(token).post(f"{self.url}{path}", json=body or {})

    # --- the browser part of OAuth ------------------------------------------------------------

    def consent(self, **params) -> requests.Response:
        params.setdefault("client_id", self.client_id)
        return self.http.get(f"{self.url}/oauth2/authorize", params=params)

    def decide(
        self, page: requests.Response, decision: str, merchant: str | None = None
    ) -> requests.Response:
        form = parse_consent(page.text)
        data = dict(form.fields)
        data["merchant"] = merchant or form.selected_merchant or data.get("merchant", "")
        data["decision"] = form.buttons[decision]
        return self.http.post(f"{self.sandbox.url}{form.action}", data=data, allow_redirects=False)

    def authorize(self, merchant: str | None = None, **params) -> dict[str, str]:
        """Consent and Allow; the callback's query parameters."""
        params.setdefault("scope", " ".join(SOUS_SCOPES))
        page = self.consent(**params)
        assert page.status_code == 200, page.text
        answer = self.decide(page, "Allow", merchant)
        assert answer.status_code == 302, answer.text
        return query_of(answer.headers["location"])

    def exchange(self, code: str, **extra) -> requests.Response:
        body = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": "authorization_code",
            "code": code,
            **extra,
        }
        return self.http.post(f"{self.url}/oauth2/token", json=body)

    def refresh(self, refresh_token: str, **extra) -> requests.Response:
        body = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            **extra,
        }
        return self.http.post(f"{self.url}/oauth2/token", json=body)

    def revoke(self, secret: str | None = None, **body) -> requests.Response:
        body.setdefault("client_id", self.client_id)
        headers = {"Authorization": f"Client {secret or self.client_secret}"}
        return self.http.post(f"{self.url}/oauth2/revoke", json=body, headers=headers)


def error_of(response: requests.Response) -> dict:
    body = response.json()
    assert list(body) == ["errors"], body
    return body["errors"][0]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def search_all(square: Square, token: str, body: dict) -> tuple[list[dict], int]:
    """Every order (or entry) of a SearchOrders query, following cursors; and the page count."""
    results, pages, cursor = [], 0, None
    while True:
        answer = square.post(
            token, "/v2/orders/search", {**body, "cursor": cursor} if cursor else body
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        results += page.get("orders", page.get("order_entries", []))
        pages += 1
        cursor = page.get("cursor")
        if not cursor:
            return results, pages


def location_named(merchant: dict, **where) -> dict:
    return next(loc for loc in merchant["locations"] if all(loc[k] == v for k, v in where.items()))
