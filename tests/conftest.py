"""Shared fixtures: the provider sandbox over real HTTP, personas, factories."""

from __future__ import annotations

import base64
import itertools

import pytest

from providers.sandbox.testing import run_sandbox

# A fixed key ring for the tests; subprocess workers get it through the environment.
TEST_ENCRYPTION_KEYS = [base64.b64encode(bytes(range(32))).decode()]
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _encryption_keys(settings):
    settings.INTEGRATIONS_ENCRYPTION_KEYS = list(TEST_ENCRYPTION_KEYS)


@pytest.fixture(scope="session")
def sandbox_server():
    """One sandbox for the whole run, on a free loopback port."""
    with run_sandbox() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server):
    """The sandbox, reset to its seeded state (data, grants, knobs, counters) for each test."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()


_sequence = itertools.count(1)


@pytest.fixture
def make_org(db):
    """Factory: make_org(name=...) -> Organization."""
    from sous.orgs.models import Organization

    def make(name: str | None = None) -> Organization:
        n = next(_sequence)
        name = name or f"Bistro {n}"
        return Organization.objects.create(name=name, slug=f"org-{n}")

    return make


@pytest.fixture
def make_user(db):
    """Factory: make_user(org, role="owner") -> User with a membership in `org`."""
    from django.contrib.auth import get_user_model

    from sous.orgs.models import Membership

    def make(org=None, role: str = "owner", email: str | None = None):
        email = email or f"staff{next(_sequence)}@example.com"
        user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
        if org is not None:
            Membership.objects.create(organization=org, user=user, role=role)
        return user

    return make


@pytest.fixture
def org(make_org):
    return make_org("Acme Bistro")


@pytest.fixture
def owner(org, make_user):
    return make_user(org, "owner", email="maria@acme.example")


@pytest.fixture
def member(org, make_user):
    return make_user(org, "member", email="sam@acme.example")


@pytest.fixture
def other_org(make_org):
    return make_org("Rival Diner")


@pytest.fixture
def outsider(other_org, make_user):
    """Owner of another organisation: everything of `org` must be a 404 to them."""
    return make_user(other_org, "owner", email="olga@rival.example")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client
