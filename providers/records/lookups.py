"""What a cached lookup (`Provider.cached_lookups`) holds, as a job just read it from the
provider: the connection keeps it, so the drawer shows it without asking the provider again.

Example, the first page of a Square sales sync, which lists the locations anyway:

    LookupData("locations", {"locations": [{"id": "L1", "name": "Harbour", ...}]}, "MERCHANT-1")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LookupData:
    name: str  # the lookup's name ("locations")
    data: Any  # JSON, as the provider's `fetch_lookup(name, ...)` returns it
    # Whose data it is (SyncRequest.account_id): kept only while the connection is still
    # connected to that account.
    account_id: str
