"""A member of staff for the web run, and what staff would have done before opening the page.

The owner of the bench's organisation logs in through the real login form (allauth), and the
session is kept (its cookie and CSRF token) for every request after. Through the web process,
as that session: Google connected through the real consent flow (the sandbox's consent page,
Allow, the callback), and rounds of Catalog sync and Sync Today started from the drawer's
forms, each one a real job run by the workers and a "Sync requested" in the activity.
Import after `django.setup()`.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from integrations.models import IntegrationConfig, SyncJob
from sous.orgs.models import Membership

JOBS_TIMEOUT_S = 120


@dataclass
class Staff:
    user: object
    organization: object
    session: requests.Session  # holds the session and CSRF cookies

    @property
    def cookies(self) -> dict[str, str]:
        return {c.name: c.value for c in self.session.cookies}

    @property
    def csrf_token(self) -> str:
        return self.cookies[settings.CSRF_COOKIE_NAME]

    def headers(self, htmx: bool = False) -> dict[str, str]:
        """What a browser sends with each request: the cookies (and htmx's header, for what
        htmx loads)."""
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return {"Cookie": cookie, **({"HX-Request": "true"} if htmx else {})}

    def post(self, base_url: str, path: str, data: dict) -> requests.Response:
        return self.session.post(
            f"{base_url}{path}",
            data=data,
            headers={"X-CSRFToken": self.csrf_token, "HX-Request": "true"},
            allow_redirects=False,
            timeout=30,
        )


def log_in(base_url: str, organization) -> Staff:
    """A new owner of `organization`, logged in through the login form."""
    password = secrets.token_urlsafe(16)
    email = f"owner-{secrets.token_hex(3)}@bench.example"
    user = get_user_model().objects.create_user(username=email, email=email, password=password)
    Membership.objects.create(organization=organization, user=user, role=Membership.Role.OWNER)
    session = requests.Session()
    form = session.get(f"{base_url}{reverse('account_login')}", timeout=30)
    form.raise_for_status()
    answer = session.post(
        form.url,
        data={"csrfmiddlewaretoken": _form_token(form.text), "login": email, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302 or settings.SESSION_COOKIE_NAME not in session.cookies:
        raise RuntimeError(f"logging in did not work: {answer.status_code}")
    return Staff(user, organization, session)


def _form_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token in the form")
    return match.group(1)


def connect_google(staff: Staff, base_url: str) -> IntegrationConfig:
    """Connect Google as staff do: the Connect redirect, the sandbox's consent page, Allow,
    and the callback (served by the web process, as the popup would be)."""
    consent = staff.session.get(
        f"{base_url}{reverse('integrations:connect', args=['google'])}", timeout=30
    )
    consent.raise_for_status()
    request_id = re.search(r'name="request_id" value="([^"]+)"', consent.text)
    if not request_id:
        raise RuntimeError("the sandbox showed no Google consent form")
    allowed = staff.session.post(
        consent.url,
        data={"request_id": request_id.group(1), "decision": "allow"},
        allow_redirects=False,
        timeout=30,
    )
    # Back to the registered redirect URI (PUBLIC_BASE_URL's origin): the same path here.
    callback = urlsplit(allowed.headers["location"])
    done = staff.session.get(f"{base_url}{callback.path}?{callback.query}", timeout=30)
    done.raise_for_status()
    return IntegrationConfig.objects.get(organization=staff.organization, provider="google")


def history(staff: Staff, base_url: str, config: IntegrationConfig, rounds: int) -> int:
    """`rounds` of Catalog sync and Sync Today, started from the drawer as staff would (the
    two run side by side on the workers); waits for each round to end. Returns the jobs."""
    actions = {"catalog": {}, "sales": {"mode": "today"}}
    before = SyncJob.objects.filter(config=config, parent__isnull=True).count()
    for _ in range(rounds):
        for action, data in actions.items():
            path = reverse("integrations:action", args=[config.provider, action])
            answer = staff.post(base_url, path, {"csrfmiddlewaretoken": staff.csrf_token, **data})
            if answer.status_code != 202:
                raise RuntimeError(f"starting {action}: {answer.status_code}")
        wait_idle(config)
    failed = SyncJob.objects.filter(config=config, status=SyncJob.Status.FAILED)
    if failed.exists():
        job = failed.first()
        raise RuntimeError(f"a history job failed: {job.kind} {job.error} {job.error_detail}")
    return SyncJob.objects.filter(config=config, parent__isnull=True).count() - before


def wait_idle(config: IntegrationConfig, timeout_s: float = JOBS_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while SyncJob.objects.filter(config=config, status__in=SyncJob.ACTIVE).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the bench's jobs did not finish")
        time.sleep(0.2)


def load_triggered(html: str) -> list[str]:
    """The URLs a page's htmx loads as soon as it shows (`hx-trigger="load"`), in order."""
    urls = []
    for tag in re.findall(r"<[a-z]+\b[^>]*>", html):
        if re.search(r'hx-trigger="load\b', tag):
            found = re.search(r'hx-get="([^"]+)"', tag)
            if found:
                urls.append(unescape(found.group(1)))
    return urls
