"""Finishing a connection: check the state, exchange the code, save, guard the account.

Every branch is explicit (STYLE §6): missing, unknown, expired, replayed or foreign state;
the user cancelled; the provider refused; success; success with a different account than the
one connected, which waits for an explicit "Switch account".
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations import crypto, progress
from integrations.jobs import control, schedules
from integrations.models import IntegrationConfig, IntegrationEvent, OAuthState
from integrations.webhooks import channels
from providers.base import Identity
from providers.errors import ProviderError
from providers.oauth import TokenSet

from . import activity, alerting, apps, tokens

log = logging.getLogger(__name__)


class Outcome:
    CONNECTED = "connected"
    RECONNECTED = "reconnected"
    CANCELLED = "cancelled"
    SWITCH_NEEDED = "switch_needed"
    SWITCHED = "switched"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    outcome: str
    provider: str
    message: str  # shown to staff as is
    mode: str = OAuthState.Mode.POPUP
    pending_id: str = ""
    connected_account: str = ""
    returned_account: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.CONNECTED, Outcome.RECONNECTED, Outcome.SWITCHED)


def invalid_state() -> str:
    """Why a callback's state was refused, and what to do: the attempt must start where the
    provider sends it back (the public origin), in this browser."""
    return (
        "This connection attempt is not valid any more: it expired, was already used, or was "
        f"started in another browser or at another address. Open Sous at "
        f"{settings.PUBLIC_BASE_URL} in this browser and connect again."
    )


def _claim_state(request, key: str, raw_state: str) -> OAuthState | None:
    """Pop the state first: mark it used atomically, so a replay finds nothing."""
    if not raw_state or not request.user.is_authenticated or request.org is None:
        return None
    now = timezone.now()
    claimed = OAuthState.objects.filter(
        state_hash=OAuthState.hash(raw_state),
        used_at__isnull=True,
        expires_at__gt=now,
        provider=key,
        session_key=request.session.session_key or "",
        user=request.user,
        organization=request.org,
    ).update(used_at=now)
    if claimed != 1:
        return None
    return OAuthState.objects.get(state_hash=OAuthState.hash(raw_state))


def complete(request, key: str) -> Result:
    params = request.GET
    name = apps.provider(key).name
    attempt = _claim_state(request, key, params.get("state", ""))
    if attempt is None:
        log.warning(
            "%s.callback.invalid_state", key, extra={"org_id": getattr(request.org, "pk", None)}
        )
        return Result(Outcome.FAILED, key, invalid_state())
    mode = attempt.mode
    error = params.get("error")
    if error == "access_denied":
        activity.record(
            None,
            IntegrationEvent.Kind.CONNECT_CANCELLED,
            f"{name} connection cancelled at the consent screen",
            actor=request.user,
            organization=request.org,
            provider=key,
        )
        return Result(Outcome.CANCELLED, key, "Connection cancelled", mode=mode)
    if error or not params.get("code"):
        return Result(
            Outcome.FAILED,
            key,
            f"{name} did not grant access ({error or 'no code was returned'}). Please try again.",
            mode=mode,
        )
    provider = apps.provider(key)
    verifier = crypto.decrypt(
        attempt.code_verifier_encrypted,
        aad=crypto.associated_data(attempt.organization_id, key, "pkce"),
    )
    try:
        grant = provider.oauth().exchange_code(
            code=params["code"], redirect_uri=apps.redirect_uri(key), code_verifier=verifier or None
        )
        identity = provider.identity(grant.access_token)
    except ProviderError as exc:
        log.warning("%s.callback.exchange_failed", key, extra={"error": type(exc).__name__})
        return Result(
            Outcome.FAILED, key, f"{name} connection failed: {exc} Please try again.", mode=mode
        )

    existing = IntegrationConfig.objects.filter(organization=request.org, provider=key).first()
    if (
        existing
        and existing.external_account_id
        and existing.external_account_id != identity.account_id
    ):
        _park_grant(attempt, grant, identity)
        return Result(
            Outcome.SWITCH_NEEDED,
            key,
            f"You signed in to {name} as {identity.display}, but this organisation is connected "
            f"to {existing.connected_as}.",
            mode=mode,
            pending_id=str(attempt.id),
            connected_account=existing.connected_as,
            returned_account=identity.display,
        )
    config, created = save_connection(request.org, key, grant, identity, actor=request.user)
    outcome = Outcome.CONNECTED if created else Outcome.RECONNECTED
    return Result(outcome, key, f"{name} connected", mode=mode)


@transaction.atomic
def save_connection(org, key: str, grant: TokenSet, identity: Identity, *, actor, kind=None):
    """Create the one connection for (org, provider), or replace its tokens in place.

    Reconnecting keeps settings, cursors and history and clears any Error. Switching to
    another account starts its syncs afresh: the saved locations or folders, incremental
    cursors, kept lookups and "Last synced" described the previous account's data, and its
    jobs stop.
    Records already imported stay.
    """
    config, created = IntegrationConfig.objects.select_for_update().get_or_create(
        organization=org, provider=key, defaults={"connected_by": actor}
    )
    switched = config.external_account_id not in ("", identity.account_id)
    if not created and switched:
        name = apps.provider(key).name
        control.cancel_active(config, reason=f"{name} was switched to another account")
        config.settings, config.cursors, config.last_synced = {}, {}, {}
        config.lookups = {}
        config.last_synced_at = None
        # Read under this row's lock: the grant being replaced, not one another tab stored.
        try:
            replaced = tokens.read(config)
        except tokens.CredentialsUnavailable:
            replaced = None
        if replaced is not None:
            # Nobody here holds it any more: stop what it opened and give it back once the
            # switch is saved.
            opened = list(config.channels.all())

            def give_back() -> None:
                channels.close(config, opened, access_token=replaced.access_token)
                _give_back(key, replaced)

            transaction.on_commit(give_back)
    tokens.store(config, grant)
    config.external_account_id = identity.account_id
    config.account_name = identity.name
    config.account_email = identity.email
    config.status = IntegrationConfig.Status.CONNECTED
    config.last_error = ""
    config.error_since = None
    config.token_refreshed_at = timezone.now()
    config.health_checked_at = None
    if created:
        config.connected_at = timezone.now()
    config.save()
    kind = kind or (
        IntegrationEvent.Kind.CONNECTED if created else IntegrationEvent.Kind.RECONNECTED
    )
    activity.record(config, kind, config.connected_as, actor=actor)
    alerting.reconnected(config, f"{apps.provider(key).name} reconnected as {config.connected_as}")
    # Default schedules on a first connect; plans made for another account start afresh.
    schedules.replan(config)
    channels.reconcile_soon(config)
    transaction.on_commit(
        lambda: progress.publish(config.organization_id, progress.connection_payload(config))
    )
    return config, created


def _grant_aad(attempt: OAuthState) -> bytes:
    return crypto.associated_data(
        attempt.organization_id, attempt.provider, f"pending:{attempt.id}"
    )


def _park_grant(attempt: OAuthState, grant: TokenSet, identity: Identity) -> None:
    payload = json.dumps(
        {
            "access_token": grant.access_token,
            "refresh_token": grant.refresh_token,
            "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
            "refresh_token_expires_at": grant.refresh_token_expires_at.isoformat()
            if grant.refresh_token_expires_at
            else None,
            "scopes": list(grant.scopes),
        }
    )
    attempt.pending_grant_encrypted = crypto.encrypt(payload, aad=_grant_aad(attempt))
    attempt.pending_account = {
        "account_id": identity.account_id,
        "name": identity.name,
        "email": identity.email,
    }
    attempt.save(update_fields=["pending_grant_encrypted", "pending_account"])


def resolve_switch(request, key: str, pending_id: str, *, confirm: bool) -> Result:
    """Apply ("Switch account") or discard the grant that came back with another account."""
    name = apps.provider(key).name
    claimed = (
        OAuthState.objects.filter(
            id=pending_id if _is_uuid(pending_id) else None,
            provider=key,
            session_key=request.session.session_key or "",
            user=request.user,
            organization=request.org,
            resolved_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .exclude(pending_grant_encrypted="")
        .update(resolved_at=timezone.now())
    )
    if claimed != 1:
        return Result(Outcome.FAILED, key, invalid_state())
    attempt = OAuthState.objects.get(id=pending_id)
    data = json.loads(crypto.decrypt(attempt.pending_grant_encrypted, aad=_grant_aad(attempt)))
    attempt.pending_grant_encrypted = ""
    attempt.save(update_fields=["pending_grant_encrypted"])
    grant = TokenSet(
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
        expires_at=_parse_time(data["expires_at"]),
        refresh_token_expires_at=_parse_time(data["refresh_token_expires_at"]),
        scopes=tuple(data["scopes"]),
    )
    identity = Identity(**attempt.pending_account)
    if not confirm:
        # The new grant is not wanted: give it back rather than leave it live at the provider.
        _give_back(key, grant)
        return Result(Outcome.CANCELLED, key, f"Kept the current {name} account", mode=attempt.mode)
    save_connection(
        request.org,
        key,
        grant,
        identity,
        actor=request.user,
        kind=IntegrationEvent.Kind.ACCOUNT_SWITCHED,
    )
    return Result(
        Outcome.SWITCHED, key, f"{name} switched to {identity.display}", mode=attempt.mode
    )


def _give_back(key: str, grant: TokenSet) -> None:
    """Revoke a grant we no longer keep (best effort: it lapses on its own otherwise)."""
    try:
        apps.provider(key).oauth().revoke(
            access_token=grant.access_token, refresh_token=grant.refresh_token
        )
    except ProviderError as exc:
        log.info("%s.grant.revoke_failed", key, extra={"why": type(exc).__name__})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
