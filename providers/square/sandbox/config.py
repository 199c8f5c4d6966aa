"""The Square half's flags (each with a `SANDBOX_SQUARE_*` environment default) and sizes."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields, replace

DEFAULT_CLIENT_ID = "sq0idp-sous-local"
DEFAULT_CLIENT_SECRET = "sq0csp-sous-local-secret"
DEFAULT_REDIRECT_URIS = (
    "http://localhost:8000/integrations/callback/square",
    "http://127.0.0.1:8000/integrations/callback/square",
)
# About 70,000 closed orders of the default sizes (a few KB of JSON each).
DEFAULT_RENDER_CACHE_MB = 256


@dataclass(frozen=True)
class Sizes:
    """How much seeded data each merchant has. Orders are generated on demand, never stored."""

    merchants: int = 2
    locations: int = 3  # per merchant
    categories: int = 14
    items: int = 60
    variations_per_item: int = 2
    modifier_lists: int = 8
    orders_per_day: int = 120  # per location, on average (weekends are busier)
    days: int = 730  # of history, ending today
    line_items: int = 6  # at most, per order

    # (minimum, maximum) accepted for each size; the maxima keep ids and cursors in range.
    LIMITS = {
        "merchants": (1, 20),
        "locations": (1, 50),
        "categories": (1, 200),
        "items": (1, 5000),
        "variations_per_item": (1, 10),
        "modifier_lists": (0, 100),
        "orders_per_day": (0, 20_000),
        "days": (1, 3650),
        "line_items": (1, 50),
    }

    def updated(self, values: dict) -> Sizes:
        """A copy with `values` applied; ValueError for unknown names or values out of range."""
        known = {f.name for f in fields(self)}
        clean = {}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown size {name!r}")
            low, high = self.LIMITS[name]
            number = int(value)
            if not low <= number <= high:
                raise ValueError(f"{name} must be between {low} and {high}")
            clean[name] = number
        return replace(self, **clean)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class SquareConfig:
    seed: int
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    sizes: Sizes
    render_cache_mb: int = DEFAULT_RENDER_CACHE_MB


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    group = parser.add_argument_group("square", "the local Square (served at /square)")
    group.add_argument(
        "--square-client-id",
        default=env("SANDBOX_SQUARE_CLIENT_ID", DEFAULT_CLIENT_ID),
        help="the registered OAuth application id (env SANDBOX_SQUARE_CLIENT_ID)",
    )
    group.add_argument(
        "--square-client-secret",
        default=env("SANDBOX_SQUARE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET),
        help="its application secret (env SANDBOX_SQUARE_CLIENT_SECRET)",
    )
    group.add_argument(
        "--square-redirect-uri",
        action="append",
        dest="square_redirect_uris",
        default=None,
        metavar="URI",
        help="a registered redirect URI, repeatable (env SANDBOX_SQUARE_REDIRECT_URIS, "
        "comma-separated; default: localhost:8000 and 127.0.0.1:8000 callbacks)",
    )
    group.add_argument(
        "--square-render-cache-mb",
        type=int,
        default=_env_int("SANDBOX_SQUARE_RENDER_CACHE_MB", DEFAULT_RENDER_CACHE_MB),
        help="memory for closed orders kept as served JSON, so each is rendered once "
        f"(env SANDBOX_SQUARE_RENDER_CACHE_MB; default {DEFAULT_RENDER_CACHE_MB}; 0: none)",
    )
    defaults = Sizes()
    for size in fields(Sizes):
        flag = size.name.replace("_", "-")
        variable = f"SANDBOX_SQUARE_{size.name.upper()}"
        group.add_argument(
            f"--square-{flag}",
            dest=f"square_{size.name}",
            type=int,
            default=_env_int(variable, getattr(defaults, size.name)),
            help=f"seeded data size (env {variable}; default {getattr(defaults, size.name)})",
        )


def redirect_uris_from(args: argparse.Namespace) -> tuple[str, ...]:
    given = getattr(args, "square_redirect_uris", None)
    if given:
        return tuple(given)
    from_env = os.environ.get("SANDBOX_SQUARE_REDIRECT_URIS", "")
    uris = tuple(u.strip() for u in from_env.split(",") if u.strip())
    return uris or DEFAULT_REDIRECT_URIS


def config_from(args: argparse.Namespace, seed: int) -> SquareConfig:
    defaults = Sizes()
    values = {
        f.name: getattr(args, f"square_{f.name}", getattr(defaults, f.name)) for f in fields(Sizes)
    }
    return SquareConfig(
        seed=seed,
        client_id=getattr(args, "square_client_id", DEFAULT_CLIENT_ID),
        client_secret=getattr(args, "square_client_secret", DEFAULT_CLIENT_SECRET),
        redirect_uris=redirect_uris_from(args),
        sizes=defaults.updated(values),
        render_cache_mb=getattr(args, "square_render_cache_mb", DEFAULT_RENDER_CACHE_MB),
    )
