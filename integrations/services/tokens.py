"""Tokens: encrypt into a row, decrypt for one provider call, refresh once under a row lock.

Plaintext tokens exist only in the memory of the call that needs them: they are never
returned to views, logged, put in a task message or raised in an exception's text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from integrations import crypto
from integrations.models import IntegrationConfig, IntegrationEvent
from providers.errors import GrantRefused, Unauthorized
from providers.oauth import TokenSet

from . import activity, apps, status

log = logging.getLogger(__name__)

# Refresh when a token has less than this left, so a long page of work never starts on a
# token about to lapse.
REFRESH_MARGIN = timedelta(minutes=10)
UNREADABLE = "Credentials unreadable, reconnect"
T = TypeVar("T")


class CredentialsUnavailable(Exception):
    """The connection has no usable credentials; its Error state says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _aad(config: IntegrationConfig, purpose: str) -> bytes:
    return crypto.associated_data(config.organization_id, config.provider, purpose)


def store(config: IntegrationConfig, tokens: TokenSet) -> None:
    """Put a token set into the row's encrypted fields (the caller saves)."""
    config.access_token_encrypted = crypto.encrypt(tokens.access_token, aad=_aad(config, "access"))
    config.refresh_token_encrypted = crypto.encrypt(
        tokens.refresh_token, aad=_aad(config, "refresh")
    )
    config.token_expires_at = tokens.expires_at
    config.refresh_token_expires_at = tokens.refresh_token_expires_at
    if tokens.scopes:
        config.scopes = list(tokens.scopes)


def _decrypt(config: IntegrationConfig) -> TokenSet:
    return TokenSet(
        access_token=crypto.decrypt(config.access_token_encrypted, aad=_aad(config, "access")),
        refresh_token=crypto.decrypt(config.refresh_token_encrypted, aad=_aad(config, "refresh")),
        expires_at=config.token_expires_at,
        refresh_token_expires_at=config.refresh_token_expires_at,
    )


def _unreadable(config: IntegrationConfig, exc: Exception) -> CredentialsUnavailable:
    log.error(
        "%s.credentials_unreadable",
        config.provider,
        extra={"config_id": config.pk, "why": str(exc)},
    )
    status.mark_error(config, UNREADABLE, kind=IntegrationEvent.Kind.CREDENTIALS_UNREADABLE)
    return CredentialsUnavailable(UNREADABLE)


def read(config: IntegrationConfig) -> TokenSet:
    """Decrypt the row's tokens; unreadable ciphertext puts the connection in Error."""
    try:
        return _decrypt(config)
    except crypto.Undecryptable as exc:
        raise _unreadable(config, exc) from None


def needs_refresh(config: IntegrationConfig, margin: timedelta = REFRESH_MARGIN) -> bool:
    return (
        config.token_expires_at is not None and config.token_expires_at - margin <= timezone.now()
    )


def access_token(config: IntegrationConfig, *, stale: bool = False) -> str:
    """A usable access token for one call, refreshed first if it is about to expire.

    `stale=True` when the provider just refused the token we hold as expired (before its time):
    it is refreshed unless another caller already replaced it.
    """
    if config.in_error and config.last_error == UNREADABLE:
        raise CredentialsUnavailable(UNREADABLE)
    if stale:
        refresh(config, replacing=config.access_token_encrypted)
    elif needs_refresh(config):
        refresh(config)
    return read(config).access_token


def call(config: IntegrationConfig, use: Callable[[str], T]) -> T:
    """`use(access_token)`; when the provider refuses the token as expired before its time
    (a clock ahead of ours), it is refreshed once and `use` runs again."""
    try:
        return use(access_token(config))
    except Unauthorized as exc:
        if isinstance(exc, GrantRefused) or not exc.expired:
            raise
        return use(access_token(config, stale=True))


def refresh(
    config: IntegrationConfig,
    *,
    actor_label: str = "",
    replacing: str | None = None,
    margin: timedelta = REFRESH_MARGIN,
) -> bool:
    """Refresh under a row lock, re-checking once the lock is held.

    Twenty workers holding the same expiring token queue on the lock; the first refreshes, the
    others re-read the row and find a fresh token. With `replacing`, refresh only if the row
    still holds that (stale) ciphertext; otherwise only if the token expires within `margin`.
    Returns True when this call refreshed. A refusal (revoked or expired grant) is permanent:
    the connection goes to Error, recorded once. Timeouts and 5xx propagate as transient errors
    and leave the state alone.
    """
    refused: GrantRefused | None = None
    refused_grant = ""
    unreadable: crypto.Undecryptable | None = None
    with transaction.atomic():
        locked = IntegrationConfig.objects.select_for_update().get(pk=config.pk)
        if replacing is not None:
            still_needed = locked.access_token_encrypted == replacing
        else:
            still_needed = needs_refresh(locked, margin)
        if not still_needed:
            _copy_tokens(locked, config)
            return False
        try:
            current = _decrypt(locked)
            if not current.refresh_token:
                raise GrantRefused("no refresh token is stored", provider=locked.provider)
            fresh = apps.provider(locked.provider).oauth().refresh(current.refresh_token)
        except crypto.Undecryptable as exc:
            unreadable = exc
        except GrantRefused as exc:
            refused, refused_grant = exc, locked.refresh_token_encrypted
        else:
            store(locked, fresh)
            locked.token_refreshed_at = timezone.now()
            locked.save()
            activity.record(
                locked,
                IntegrationEvent.Kind.TOKEN_REFRESHED,
                "Access token refreshed",
                actor_label=actor_label,
            )
            status.mark_recovered(locked, "Token refresh succeeded", actor_label=actor_label)
            _copy_tokens(locked, config)
            return True
    # Outside the transaction, so the Error state is committed.
    config.refresh_from_db()
    if unreadable is not None:
        raise _unreadable(config, unreadable) from None
    if config.refresh_token_encrypted != refused_grant:
        # A reconnect stored a new grant since the lock was released: the refusal was the old
        # grant's, and must not put the new connection in Error.
        return False
    status.mark_error(
        config,
        f"{status.REAUTH}: {refused}",
        kind=IntegrationEvent.Kind.REFRESH_REFUSED,
        actor_label=actor_label,
    )
    raise refused


def _copy_tokens(source: IntegrationConfig, target: IntegrationConfig) -> None:
    for name in (
        "access_token_encrypted",
        "refresh_token_encrypted",
        "token_expires_at",
        "refresh_token_expires_at",
        "token_refreshed_at",
        "status",
        "last_error",
        "error_since",
    ):
        setattr(target, name, getattr(source, name))
