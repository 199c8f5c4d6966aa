"""Provider lookups that rarely change (Square's locations, the watched Drive folders), kept on
the connection (`IntegrationConfig.lookups`) so that opening the drawer does not wait on the
provider.

A lookup is fetched the first time the drawer asks for it (or when what is kept no longer
covers the connection's settings: a folder chosen since), then refreshed by the jobs that read
the same data anyway (their pages carry `LookupData` records: integrations/sync/lookups.py) and
by the drawer's Refresh. Each write is one UPDATE of that lookup's key alone, filtered on the
account the data was read for: a token refresh or status change saved meanwhile is not
overwritten, and data read for an account the connection has switched away from is dropped.
A kept entry is {"data": ..., "fetched_at": iso, "account": account id}.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import NotSupportedError, models
from django.db.models import F, Func, Value
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integrations.models import IntegrationConfig
from providers.errors import ProviderError

from . import apps, tokens

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kept:
    """A lookup as the drawer shows it."""

    data: Any  # None: never fetched (the fetch just failed)
    fetched_at: datetime | None
    # The provider's failure just now, in words for staff; `data` is what was kept before it.
    error: str = ""


def kept(config: IntegrationConfig, name: str) -> Kept | None:
    """What the connection keeps for `name`, if it was read for the account connected now."""
    entry = (config.lookups or {}).get(name)
    if not isinstance(entry, dict) or "data" not in entry:
        return None
    if entry.get("account") != config.external_account_id:
        return None
    return Kept(entry["data"], parse_datetime(entry.get("fetched_at") or ""))


def read(config: IntegrationConfig, name: str) -> Kept:
    """The kept data, fetched first if there is none that covers the connection's settings."""
    provider = apps.provider(config.provider)
    found = kept(config, name)
    if found is not None and provider.lookup_covers(name, found.data, settings=config.settings):
        return found
    return refresh(config, name)


def refresh(config: IntegrationConfig, name: str) -> Kept:
    """Ask the provider again; on failure the kept data stays, with the reason."""
    provider = apps.provider(config.provider)
    settings = dict(config.settings)
    try:
        data = tokens.call(
            config, lambda token: provider.fetch_lookup(name, token, settings=settings)
        )
    except (ProviderError, tokens.CredentialsUnavailable) as exc:
        log.info(
            "%s.lookup.refresh_failed",
            config.provider,
            extra={"config_id": config.pk, "lookup": name, "why": type(exc).__name__},
        )
        before = kept(config, name)
        if before is None:
            return Kept(None, None, str(exc))
        return Kept(before.data, before.fetched_at, str(exc))
    entry = store(
        config.organization_id,
        config.provider,
        name,
        data,
        account_id=config.external_account_id,
    )
    if entry is None:
        # Disconnected or switched to another account while the provider answered.
        return Kept(None, None, "The connection changed meanwhile. Close and reopen this.")
    config.lookups = {**(config.lookups or {}), name: entry}
    return Kept(data, parse_datetime(entry["fetched_at"]))


def store(
    organization_id: int, provider: str, name: str, data: Any, *, account_id: str
) -> dict | None:
    """Keep `data` for the connection while it is connected to `account_id`: the entry kept,
    or None when it is not (disconnected, or switched to another account since the data was
    read)."""
    entry = {"data": data, "fetched_at": timezone.now().isoformat(), "account": account_id}
    updated = IntegrationConfig.objects.filter(
        organization_id=organization_id, provider=provider, external_account_id=account_id
    ).update(lookups=_WithKey("lookups", name, entry))
    return entry if updated else None


class _WithKey(Func):
    """A JSON object column with one key set to a JSON value, computed by the database, so
    writers of the other keys are not overwritten."""

    output_field = models.JSONField()

    def __init__(self, column: str, key: str, value: Any) -> None:
        super().__init__(F(column), Value(key), Value(json.dumps(value)))

    def _parts(self, compiler, connection):
        compiled = [compiler.compile(expr) for expr in self.get_source_expressions()]
        params = tuple(param for _, part in compiled for param in part)
        return [sql for sql, _ in compiled], params

    def as_postgresql(self, compiler, connection, **extra):
        (column, key, value), params = self._parts(compiler, connection)
        merged = f"jsonb_build_object({key}::text, {value}::jsonb)"
        return f"(COALESCE({column}, '{{}}'::jsonb) || {merged})", params

    def as_sqlite(self, compiler, connection, **extra):
        (column, key, value), params = self._parts(compiler, connection)
        # Names are slugs ("locations"): a plain JSON path member.
        return f"json_set(COALESCE({column}, '{{}}'), '$.' || {key}, json({value}))", params

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"setting one JSON key is not written for {connection.vendor}")
