"""What the Google half keeps across a restart (`--state-dir`, providers/sandbox/persistence.py).

What Google itself would remember: consents waiting for Allow, unexpired codes, grants (with
their refresh tokens and revocation), access tokens and their expiry, redirect URIs registered
at run time, every change made to Drive (files added, edited, trashed, moved, deleted or
unshared, and the changes feed that reports them), push channels, and the clock's offset. The
seeded Drive follows from the seed and data flags and is not stored; neither are the push
delivery queue and log, nor the knobs.
"""

from __future__ import annotations

from dataclasses import asdict

from providers.sandbox.core import IncompatibleState

from .auth_store import AccessToken, AuthCode, Grant, PendingAuth
from .push import Channel
from .state import GoogleState

READ_ONLY_POSTS = frozenset({"/oauth2/v3/userinfo", "/v1/userinfo"})
# The consent page remembers the request it shows; a revoke may come as a GET.
WRITING_GETS = frozenset({"/o/oauth2/v2/auth", "/revoke"})
READ_ONLY_CONTROL_POSTS = frozenset({"/notifications/flush"})


def changes_state(method: str, path: str, control: bool) -> bool:
    reads = method in ("GET", "HEAD")
    if control:
        return not reads and path not in READ_ONLY_CONTROL_POSTS
    if reads:
        return path in WRITING_GETS
    return path not in READ_ONLY_POSTS


def snapshot(state: GoogleState) -> dict:
    """Data later changes cannot alter (copies only): the file is written outside the lock."""
    with state.lock:
        auth = state.auth
        now = state.clock.time()
        tokens = []
        for value in auth.issued:  # in the order issued, which `issued_tokens()` answers
            if value in auth.access:
                tokens.append({"access": asdict(auth.access[value])})
            else:
                tokens.append({"refresh": value})  # its grant holds the rest
        return {
            "data": asdict(state.config.data),
            "clock_offset": state.clock.offset,
            "redirect_uris": list(state.extra_redirect_uris),
            "pending": [
                {**asdict(p), "prompt": sorted(p.prompt)}
                for p in auth.pending.values()
                if p.expires_at > now
            ],
            # An expired code answers as an unknown one would: invalid_grant.
            "codes": [asdict(c) for c in auth.codes.values() if c.expires_at > now],
            "grants": [asdict(g) for g in auth.grants.values()],
            "tokens": tokens,
            "drive": state.drive.saved(),
            "channels": [asdict(c) for c in state.channels.by_id.values()],
        }


def restore(state: GoogleState, saved: dict) -> None:
    if saved["data"] != asdict(state.config.data):
        raise IncompatibleState("the Google data flags (--google-*) changed")
    with state.lock:
        state.clock.offset = float(saved["clock_offset"])
        for uri in saved["redirect_uris"]:
            state.register_redirect_uri(uri)
        auth = state.auth
        for fields in saved["pending"]:
            pending = PendingAuth(
                **{
                    **fields,
                    "scopes": tuple(fields["scopes"]),
                    "prompt": frozenset(fields["prompt"]),
                }
            )
            auth.pending[pending.id] = pending
        for fields in saved["codes"]:
            code = AuthCode(**{**fields, "scopes": tuple(fields["scopes"])})
            auth.codes[code.code] = code
        for fields in saved["grants"]:
            grant = Grant(**{**fields, "scopes": tuple(fields["scopes"])})
            auth.grants[grant.id] = grant
            if grant.refresh_token:
                auth.refresh[grant.refresh_token] = grant.id
        for token in saved["tokens"]:
            if "access" in token:
                fields = token["access"]
                access = AccessToken(**{**fields, "scopes": tuple(fields["scopes"])})
                auth.access[access.token] = access
                auth.issued.append(access.token)
            else:
                auth.issued.append(token["refresh"])
        state.drive.apply_saved(saved["drive"])
        state.channels.by_id = {c["id"]: Channel(**c) for c in saved["channels"]}
