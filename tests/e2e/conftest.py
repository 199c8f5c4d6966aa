"""Browser tests: Debian's Chromium driven by Playwright against the real app.

The app is served by uvicorn (ASGI: HTTP and websockets) in a thread of this process, so it
shares the test database; the provider sandbox and a Celery worker run beside it. Each test
saves screenshots under test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# "Last synced" of something synced a moment ago, as naturaltime or times.js put it.
LAST_SYNCED_NOW = re.compile(r"Last synced\s+(just now|now|a second ago|\d+\s+seconds? ago)")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# axe-core from the npm registry (package.json; `make browsers` installs it): UI.md's WCAG 2.1
# AA check.
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
_AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
  });
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    where: v.nodes.slice(0, 4).map((n) => n.target.join(" ")),
  }));
}"""


def assert_accessible(page) -> None:
    """The page as it is now has no WCAG 2.1 A/AA violation axe-core can find."""
    assert AXE.exists(), "axe-core is missing: run `make browsers` (npm ci)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(_AXE_RUN)
    assert violations == [], violations


# Playwright's sync API keeps an event loop in this thread; the test body still talks to the
# database synchronously, which is safe here (nothing else runs on that loop).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason="Debian's chromium is not installed (make test installs it)")
        for item in items:
            if "e2e" in str(item.fspath):
                item.add_marker(skip)


class LiveApp:
    """The ASGI app served by uvicorn in a thread, on one loopback port for its whole life.

    `stop()` and `start()` restart it as a deploy would: every open socket is closed by the
    server, and the port refuses connections until it is back."""

    def __init__(self, application) -> None:
        self.application = application
        self.port = 0
        self.server = self.thread = self.sock = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.application,
                log_level="warning",
                lifespan="off",
                ws="websockets-sansio",
                timeout_graceful_shutdown=5,
            )
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=20, message="the app server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)
        self.sock.close()


@pytest.fixture
def live_app(transactional_db, settings, sandbox):
    """The ASGI app on a free loopback port, pointed at the sandbox, callbacks registered."""
    from channels.routing import ProtocolTypeRouter
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application

    from sous.asgi import application as sous_app

    # Static files from the finders (no collectstatic in tests), websockets as in production.
    app = LiveApp(
        ProtocolTypeRouter(
            {
                "http": ASGIStaticFilesHandler(get_asgi_application()),
                "websocket": sous_app.application_mapping["websocket"],
            }
        )
    )
    app.start()
    url = app.url
    settings.PUBLIC_BASE_URL = url
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.CSRF_TRUSTED_ORIGINS = [url]
    settings.PROVIDER_SANDBOX_URL = sandbox.url
    for key in ("square", "google"):
        sandbox.control(
            "POST", f"{key}/redirect-uris", json={"uri": f"{url}/integrations/callback/{key}"}
        )
    yield app
    app.stop()


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Playwright's sync API keeps an event loop running in this
    thread while it lives, which would break async_to_sync in the rest of the suite."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class Screens:
    """Saves named screenshots of a page: test-artifacts/screenshots/<test>--<name>.png."""

    def __init__(self, test_name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.prefix = test_name

    def __call__(self, page, name: str) -> Path:
        path = ARTIFACTS / f"{self.prefix}--{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
def shot(request):
    return Screens(request.node.name)


@pytest.fixture
def page(browser, live_app):
    """A fresh browser context; console errors fail the test."""
    # Staff of a Los Angeles restaurant: anything shown in UTC instead of their own time
    # shows up as the wrong day in the evening.
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, timezone_id="America/Los_Angeles"
    )
    page = context.new_page()
    errors: list[str] = []

    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"HTTP {r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.console_errors = errors
    yield page
    context.close()
    assert not errors, f"console errors: {errors}"


@pytest.fixture
def logged_in(page, live_app, owner):
    """The owner logged in through the real login form, on Admin > Integrations."""
    page.goto(f"{live_app.url}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_app.url}/admin/integrations/")
    return page
