"""Pages asked for under another loopback name than PUBLIC_BASE_URL's move to the public one.

Cookies belong to a host name: someone who logs in at http://127.0.0.1:8000 while the public
origin is http://localhost:8000 has no session where the provider sends the Connect popup
back (the redirect URI is built from PUBLIC_BASE_URL), and the attempt fails as if it had been
started in another browser. Moving them before they log in keeps one origin for everything.
Only loopback names are moved: any other Host is refused or served by the usual rules.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponseRedirect

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
# Monitors probe the process on whatever address it listens on.
UNMOVED_PATHS = ("/healthz",)


def _host_and_port(netloc: str) -> tuple[str, int | None]:
    parts = urlsplit(f"//{netloc}")
    return (parts.hostname or "").lower(), parts.port


class PublicOriginMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        target = self._public_twin(request)
        if target is not None:
            return HttpResponseRedirect(target)
        return self.get_response(request)

    @staticmethod
    def _public_twin(request) -> str | None:
        if request.method not in ("GET", "HEAD") or request.path.startswith(UNMOVED_PATHS):
            return None
        public = urlsplit(settings.PUBLIC_BASE_URL)
        public_host, public_port = (public.hostname or "").lower(), public.port
        host, port = _host_and_port(request.get_host())
        if host == public_host or not {host, public_host} <= LOOPBACK_NAMES:
            return None
        if port != public_port or request.scheme != public.scheme:
            return None  # another server on this machine, not another name for this one
        return f"{public.scheme}://{public.netloc}{request.get_full_path()}"
