"""The one HTTP session every provider client uses: timeouts, retries, User-Agent, logging.

Two profiles. `interactive` (health checks, OAuth exchanges during a request) fails fast: a short
timeout, a single retry on connection errors, and a 429 surfaces at once as `RateLimited`.
`background` (syncs in workers) is patient: it honours `Retry-After` on 429 and backs off
exponentially with jitter on 5xx and connection errors, a bounded number of times.
Logs name the method, host, path and status, never the query string (Google's revoke puts the
token there) or any header.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .errors import Unavailable

log = logging.getLogger(__name__)

USER_AGENT = "Sous-Integrations/1.0 (+https://sous.tools)"
RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Profile:
    name: str
    timeout: tuple[float, float]  # (connect, read) seconds
    retry: Retry


INTERACTIVE = Profile(
    "interactive",
    timeout=(5.0, 15.0),
    retry=Retry(total=1, connect=1, read=0, status=0, allowed_methods=None, raise_on_status=False),
)

BACKGROUND = Profile(
    "background",
    timeout=(10.0, 60.0),
    retry=Retry(
        total=8,
        connect=5,
        read=3,
        status=8,
        status_forcelist=RETRY_STATUSES,
        # Provider reads we make with POST (SearchOrders, SearchCatalogObjects) are idempotent.
        allowed_methods=None,
        backoff_factor=0.5,
        backoff_max=30,
        backoff_jitter=1.0,
        respect_retry_after_header=True,
        retry_after_max=120,
        raise_on_status=False,
    ),
)


class ProviderSession(requests.Session):
    """A requests session with the profile's timeout applied to every call and errors mapped."""

    def __init__(self, provider: str, profile: Profile = INTERACTIVE) -> None:
        super().__init__()
        self.provider = provider
        self.profile = profile
        self.headers["User-Agent"] = USER_AGENT
        adapter = HTTPAdapter(max_retries=profile.retry, pool_maxsize=8)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", self.profile.timeout)
        parts = urlsplit(url)
        started = time.monotonic()
        try:
            response = super().request(method, url, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.warning(
                "%s.http.unavailable",
                self.provider,
                extra={"method": method, "host": parts.hostname, "path": parts.path},
            )
            raise Unavailable(
                f"{self.provider.title()} could not be reached ({type(exc).__name__}).",
                provider=self.provider,
            ) from None
        log.info(
            "%s.http %s %s%s -> %s in %.0f ms",
            self.provider,
            method,
            parts.netloc,
            parts.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response


def session_for(provider: str, profile: Profile = INTERACTIVE) -> ProviderSession:
    return ProviderSession(provider, profile)
