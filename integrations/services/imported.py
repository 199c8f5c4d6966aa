"""How much a source has imported, for the disconnect dialog's "what stays" list.

Each receiving domain (catalog, sales, documents) registers a counter in its AppConfig.ready:
a label and a callable(org, source) -> int. The integrations app never imports their models.
"""

from __future__ import annotations

from collections.abc import Callable

COUNTERS: list[tuple[str, Callable]] = []


def register(label: str, counter: Callable) -> None:
    if all(existing != label for existing, _ in COUNTERS):
        COUNTERS.append((label, counter))


def counts(org, source: str) -> list[tuple[str, int]]:
    """[(label, count)] for what this source imported into `org`; zero counts are left out."""
    found = ((label, counter(org, source)) for label, counter in COUNTERS)
    return [(label, n) for label, n in found if n]
