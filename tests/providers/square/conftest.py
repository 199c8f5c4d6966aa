"""Fixtures for the local Square's tests; the `sandbox` fixture resets it around each test."""

from __future__ import annotations

import pytest

from .support import Square


@pytest.fixture
def square(sandbox) -> Square:
    return Square(sandbox)


@pytest.fixture
def token(square) -> str:
    """An access token of the first merchant with the scopes Sous asks for."""
    return square.tokens()["access_token"]


@pytest.fixture
def first_merchant(square) -> dict:
    return square.merchants()[0]
