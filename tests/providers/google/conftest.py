"""Fixtures for the Google sandbox tests: the shared `sandbox`, seen as Google over HTTP."""

from __future__ import annotations

import pytest

from .helpers import GoogleSandbox


@pytest.fixture
def google(sandbox) -> GoogleSandbox:
    """The Google half of the shared sandbox (reset to its seed for each test)."""
    return GoogleSandbox(sandbox.url)


@pytest.fixture
def tokens(google: GoogleSandbox) -> dict:
    """Maria connected with openid, email, profile and drive.readonly, offline."""
    return google.connect()


@pytest.fixture
def access_token(tokens: dict) -> str:
    return tokens["access_token"]
