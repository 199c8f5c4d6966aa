"""What the Square half keeps across a restart (`--state-dir`, providers/sandbox/persistence.py).

What Square itself would remember: the app's grants and tokens with their expiry and
revocation, unexpired authorization codes, redirect URIs registered at run time, the seller's
changes (catalog edits, added and changed orders, location edits, data sizes), the events
those changes published, webhook subscriptions, and the OAuth clock's offset. The seeded data
follows from the seed and sizes and is not stored; neither are the payments the live clock
publishes for seeded orders, the delivery queue and log (in-flight deliveries are lost), nor
the knobs.
"""

from __future__ import annotations

from dataclasses import asdict

from providers.sandbox.core import IncompatibleState

from .config import Sizes
from .events import Event
from .oauth import CODE_TTL, AccessToken, Code, RefreshToken
from .state import SquareState
from .timeline import StoredOrder

# POSTs that only read: SearchOrders and friends serve hundreds of pages a second in the bench.
READ_ONLY_POSTS = frozenset(
    {
        "/oauth2/token/status",
        "/v2/catalog/search",
        "/v2/orders/search",
        "/v2/orders/batch-retrieve",
        "/v2/events",
    }
)
READ_ONLY_CONTROL_POSTS = frozenset({"/webhooks/flush"})


def changes_state(method: str, path: str, control: bool) -> bool:
    if method in ("GET", "HEAD"):
        return False
    return path not in (READ_ONLY_CONTROL_POSTS if control else READ_ONLY_POSTS)


def snapshot(state: SquareState) -> dict:
    """Data later changes cannot alter (copies; catalog objects are copy-on-write anyway):
    the file is written outside the lock."""
    with state.lock:
        oauth = state.oauth
        client = oauth.clients[state.config.client_id]
        now = state.oauth_now()
        tokens = []
        for value in oauth.issued:  # in the order issued, which `issued_tokens()` answers
            if value in oauth.access:
                tokens.append({"access": asdict(oauth.access[value])})
            else:
                tokens.append({"refresh": asdict(oauth.refresh[value])})
        return {
            "base_sizes": state.config.sizes.as_dict(),
            "sizes": state.data.sizes.as_dict(),
            "clock_offset": state.clock_offset,
            "redirect_uris": [
                u for u in client.redirect_uris if u not in state.config.redirect_uris
            ],
            "codes": {
                value: asdict(code)
                for value, code in oauth.codes.items()
                if now <= code.issued_at + CODE_TTL  # an older one only answers "expired"
            },
            "tokens": tokens,
            "locations": {k: dict(v) for k, v in state.location_changes.items()},
            "catalogs": {
                str(index): store.saved()
                for index, store in state.catalogs.items()
                if store.changed
            },
            "orders": [asdict(stored) for stored in state.orders_by_id.values()],
            "revisions": dict(state.revisions),
            "added_orders": state.added,
            "events": {
                "last_ms": state.events.last_ms,
                "last_seq": state.events.last_seq,
                "kept": [_event(e) for e in state.events.events if e.durable],
            },
            "subscriptions": state.subscriptions.saved(),
        }


def restore(state: SquareState, saved: dict) -> None:
    if saved["base_sizes"] != state.config.sizes.as_dict():
        raise IncompatibleState("the Square data sizes (--square-* flags) changed")
    with state.lock:
        sizes = Sizes().updated(saved["sizes"])
        if sizes != state.data.sizes:
            state.use_sizes(sizes)
        state.clock_offset = float(saved["clock_offset"])
        oauth = state.oauth
        client = oauth.clients[state.config.client_id]
        client.redirect_uris += [u for u in saved["redirect_uris"] if u not in client.redirect_uris]
        oauth.codes = {
            value: Code(**{**code, "scopes": tuple(code["scopes"])})
            for value, code in saved["codes"].items()
        }
        for token in saved["tokens"]:
            if "access" in token:
                access = AccessToken(
                    **{**token["access"], "scopes": tuple(token["access"]["scopes"])}
                )
                oauth.access[access.value] = access
                oauth.issued.append(access.value)
            else:
                fields = token["refresh"]
                refresh = RefreshToken(**{**fields, "scopes": tuple(fields["scopes"])})
                oauth.refresh[refresh.value] = refresh
                oauth.issued.append(refresh.value)
        state.location_changes = {k: dict(v) for k, v in saved["locations"].items()}
        for index, store in saved["catalogs"].items():
            state.catalogs[int(index)].apply_saved(store)
        for order in saved["orders"]:
            state._store(StoredOrder(**order))
        state.revisions = {k: int(v) for k, v in saved["revisions"].items()}
        state.added = int(saved["added_orders"])
        log = saved["events"]
        state.events.events = [Event(**{**e, "body": e["body"].encode()}) for e in log["kept"]]
        state.events.last_ms = int(log["last_ms"])
        state.events.last_seq = int(log["last_seq"])
        state.subscriptions.apply_saved(saved["subscriptions"])


def _event(event: Event) -> dict:
    return {**asdict(event), "body": event.body.decode()}
