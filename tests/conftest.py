"""Shared fixtures: the provider sandbox over real HTTP, personas, factories."""

from __future__ import annotations

import base64
import itertools

import pytest

from providers.sandbox.testing import run_sandbox
from tests import s3
from tests import smtp as smtp_server
from tests.notification_receiver import Receiver

# A fixed key ring for the tests; subprocess workers get it through the environment.
TEST_ENCRYPTION_KEYS = [base64.b64encode(bytes(range(32))).decode()]
PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: they are the slowest and keep an event loop while they run."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.fspath))


# The local sandbox's OAuth apps (providers/<key>/sandbox defaults).
SANDBOX_APPS = {
    "SQUARE_CLIENT_ID": "sq0idp-sous-local",
    "SQUARE_CLIENT_SECRET": "sq0csp-sous-local-secret",
    "GOOGLE_CLIENT_ID": "sous-local.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "GOCSPX-sous-local-secret",
}
UNREACHABLE_SANDBOX = "http://127.0.0.1:9"  # discard port: unit tests mock HTTP with responses


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.INTEGRATIONS_ENCRYPTION_KEYS = list(TEST_ENCRYPTION_KEYS)
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.PROVIDER_SANDBOX_URL = UNREACHABLE_SANDBOX
    settings.SQUARE_ENVIRONMENT = settings.GOOGLE_ENVIRONMENT = "local"
    for name, value in SANDBOX_APPS.items():
        setattr(settings, name, value)
    # Static files from the source folders, by their own names: production's hashed names
    # exist only after a collectstatic (tests/sous/test_web_process.py runs one).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


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


@pytest.fixture
def smtp(settings):
    """A real SMTP server; Django sends through it (Django's own SMTP backend)."""
    port = free_port()
    controller, inbox = smtp_server.start(port)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible server (moto's server mode) for the whole run."""
    with s3.run(free_port()) as server:
        yield server


@pytest.fixture
def s3_storage(s3_server, settings) -> str:
    """Django's default storage in a fresh bucket of that server, for one test: the bucket."""
    bucket = s3_server.new_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage(bucket)}
    return bucket


@pytest.fixture
def receiver():
    """A notification URL that records what the sandbox posts to it."""
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def product_on_sandbox(sandbox, settings):
    """Point the product at the running sandbox and register its callback URIs there."""
    settings.PROVIDER_SANDBOX_URL = sandbox.url
    for key in ("square", "google"):
        uri = f"{settings.PUBLIC_BASE_URL}/integrations/callback/{key}"
        sandbox.control("POST", f"{key}/redirect-uris", json={"uri": uri})
    return sandbox


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


@pytest.fixture
def make_connection(db):
    """Factory: a stored connection with encrypted tokens, as a callback would leave it."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.services import callback
    from providers.base import Identity
    from providers.oauth import TokenSet

    def make(
        org,
        key="square",
        *,
        access="EAAA-access-1",
        refresh="EQAA-refresh-1",
        expires_in=timedelta(days=30),
        account_id="MERCHANT-1",
        name="Acme Bistro",
        email="owner@acme.example",
        actor=None,
    ):
        grant = TokenSet(
            access_token=access,
            refresh_token=refresh,
            expires_at=timezone.now() + expires_in if expires_in is not None else None,
        )
        config, _ = callback.save_connection(
            org, key, grant, Identity(account_id, name, email), actor=actor
        )
        return config

    return make


@pytest.fixture
def client_factory():
    """Another browser: a fresh test client with its own session."""
    from django.test import Client

    return Client


def database_url() -> str:
    """The test database (pytest's `test_<name>`, or SQLite's test file) as a URL, for a
    product process a test starts (a worker, the web process)."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{quote(db['NAME'])}"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float = 30.0, interval: float = 0.05, message: str = ""):
    """Poll `condition` until it returns something truthy, or fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        time.sleep(interval)


def running_worker(concurrency: int = 2):
    """A real Celery worker (threads in this process) on the integrations queue and real Redis,
    as a context manager."""
    from celery.contrib.testing.worker import start_worker

    from sous.celery import app

    return start_worker(
        app,
        queues=["integrations", "default"],
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
    )


@pytest.fixture
def integrations_worker(transactional_db):
    """A worker for the whole test, started with an empty queue."""
    from sous.celery import app

    app.control.purge()  # tasks left by earlier tests would only find their jobs gone
    with running_worker() as worker:
        yield worker
