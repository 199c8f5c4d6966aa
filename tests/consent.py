"""Drive a sandbox consent page by plain HTTP, as a person clicking Allow or Deny would."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests


class _ConsentForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.choices: dict[str, list[str]] = {}
        self._select = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action", "")
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select = attrs["name"]
            self.choices[self._select] = []
        elif tag == "option" and self._select:
            self.choices[self._select].append(attrs.get("value", ""))
            if "selected" in attrs or self._select not in self.fields:
                self.fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = ""


def consent(authorize_url: str, decision: str = "allow", choice: int | None = None) -> str:
    """Open the consent page, decide, and return the redirect back to our callback.

    `choice` picks another seeded merchant/account (the page's chooser) by position.
    """
    page = requests.get(authorize_url, timeout=10)
    page.raise_for_status()
    form = _ConsentForm()
    form.feed(page.text)
    data = {**form.fields, "decision": decision}
    if choice is not None:
        name, options = next(iter(form.choices.items()))
        data[name] = options[choice]
    answer = requests.post(
        urljoin(page.url, form.action or page.url), data=data, allow_redirects=False, timeout=10
    )
    assert answer.status_code in (302, 303), answer.text[:300]
    return answer.headers["Location"]


def callback_path(location: str) -> tuple[str, dict[str, str]]:
    """Split the provider's redirect into our callback path and its query parameters."""
    url = urlsplit(location)
    return url.path, {k: v[0] for k, v in parse_qs(url.query).items()}


def connect_through_sandbox(client, key: str, decision: str = "allow", choice: int | None = None):
    """Connect `key` for the client's organisation the way staff do: Connect, consent, callback."""
    start = client.get(f"/integrations/connect/{key}/")
    assert start.status_code == 302, start.content[:300]
    path, params = callback_path(consent(start["Location"], decision, choice))
    return client.get(path, params)
