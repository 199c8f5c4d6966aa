"""name -> provider. The Integrations grid, the OAuth flow and the job machinery read this table.

Providers are listed by dotted path and imported on first use (no registration by import side
effect). Adding one is a package under providers/ and a line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module

from .base import AppCredentials, Provider

PROVIDERS: dict[str, str] = {
    "square": "providers.square.provider.SquareProvider",
    "google": "providers.google.provider.GoogleProvider",
}


@dataclass(frozen=True)
class ComingSoon:
    """A provider we intend to support: shown on the grid, not connectable yet."""

    key: str
    name: str
    tagline: str

    @property
    def logo(self) -> str:
        return f"providers/{self.key}.svg"


COMING_SOON: tuple[ComingSoon, ...] = (
    ComingSoon("toast", "Toast", "Point of Sale"),
    ComingSoon("quickbooks", "QuickBooks", "Accounting & Invoices"),
)


class UnknownProvider(LookupError):
    pass


@cache
def provider_class(key: str) -> type[Provider]:
    try:
        dotted = PROVIDERS[key]
    except KeyError:
        raise UnknownProvider(key) from None
    module_path, _, name = dotted.rpartition(".")
    return getattr(import_module(module_path), name)


def provider_keys() -> list[str]:
    return list(PROVIDERS)


def get(key: str, credentials: AppCredentials) -> Provider:
    return provider_class(key)(credentials)
