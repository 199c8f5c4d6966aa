"""Everything the Square half knows, behind one lock.

Immutable seeded data (merchants, the pristine catalog, the order generator) is built once per
(seed, sizes) and shared. On top of it sit the mutable overlays the control API writes: the live
catalogs, added and changed orders, location edits, the OAuth state and a clock offset for
expiry tests. Every change a seller could make publishes Square's event (README §10) to the
apps allowed to see it: recorded for the Events API, delivered to their webhook subscriptions.
`reset()` drops the overlays, events, subscriptions and queued deliveries, and returns to the
flags' sizes.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from providers.sandbox.core import Knobs
from providers.sandbox.delivery import Dispatcher

from . import events, ids
from .catalog import CatalogStore, Menu, build_catalog
from .config import Sizes, SquareConfig
from .delivery import SquareCourier
from .ground_truth import GroundTruth, ground_truth
from .live import LiveClock
from .merchants import Location, Merchant, build_merchants
from .oauth import Client, OAuthStore
from .orders import ADDED_SERIAL_BASE, CLOSED_STATES, INDEX_LIMIT, VERSION, OrderGenerator
from .payments import payment_from_order
from .rendered import RenderedOrders
from .timefmt import now_ms
from .timeline import Overlay, StoredOrder, resolve
from .webhooks import Subscriptions

ORDER_STATES = ("OPEN", "COMPLETED", "CANCELED")
DEFAULT_CLOSE_DELAY_MS = 20 * 60_000
# What a seller can change about a location in the Square Dashboard (UpdateLocation). A new
# time zone shows wherever Square shows the location (and in the control API's local times);
# the order generator keeps the seeded opening hours, in UTC, as a move does not change when
# the shop opened yesterday.
LOCATION_FIELDS = (
    "name",
    "status",
    "timezone",
    "description",
    "phone_number",
    "business_email",
    "website_url",
)
LOCATION_STATUSES = ("ACTIVE", "INACTIVE")


@dataclass(frozen=True)
class Dataset:
    sizes: Sizes
    merchants: tuple[Merchant, ...]
    catalogs: dict[int, list[dict]]  # merchant index -> pristine top-level catalog objects
    generator: OrderGenerator


@lru_cache(maxsize=4)
def dataset(seed: int, sizes: Sizes) -> Dataset:
    """Built once per (seed, sizes): tests switching sizes back and forth reuse the day cache."""
    merchants = build_merchants(seed, sizes)
    catalogs: dict[int, list[dict]] = {}
    menus: dict[int, Menu] = {}
    for merchant in merchants:
        catalogs[merchant.index], menus[merchant.index] = build_catalog(seed, merchant.index, sizes)
    return Dataset(sizes, merchants, catalogs, OrderGenerator(seed, sizes, merchants, menus))


class SquareState:
    def __init__(self, config: SquareConfig, knobs: Knobs) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.rendered = RenderedOrders(config.render_cache_mb * 1024 * 1024)
        self.dispatcher = Dispatcher(knobs, SquareCourier(self._target), config.seed)
        self.live = LiveClock(self)
        self.reset()
        self.live.start()

    # --- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.clock_offset = 0.0
            self._load(self.config.sizes)
            self.oauth = OAuthStore(
                clock=self.oauth_now,
                merchant_ids=frozenset(m.id for m in self.data.merchants),
                on_revoke=self._revoked,
            )
            self.oauth.clients[self.config.client_id] = Client(
                self.config.client_id, self.config.client_secret, list(self.config.redirect_uris)
            )
            self.location_changes: dict[str, dict] = {}
            self.events = events.EventLog()
            self.subscriptions = Subscriptions()
            self.dispatcher.reset()
            self.live.reset()

    def _load(self, sizes: Sizes) -> None:
        self.data = dataset(self.config.seed, sizes)
        self.catalogs = {
            index: CatalogStore(copy.deepcopy(objects))
            for index, objects in self.data.catalogs.items()
        }
        self.orders_by_id: dict[str, StoredOrder] = {}
        self.orders_by_serial: dict[tuple[int, int], StoredOrder] = {}
        self.revisions: dict[str, int] = {}  # order id -> how often its line items were redrawn
        self.added = 0

    def configure(self, values: dict) -> Sizes:
        """Change the data sizes until the next reset; grants and tokens survive."""
        with self.lock:
            sizes = self.data.sizes.updated(values)
            before = {loc.id for m in self.data.merchants for loc in m.locations}
            self.use_sizes(sizes)
            for merchant in self.data.merchants:  # more locations: the seller opened them now
                for loc in merchant.locations:
                    if loc.id not in before:
                        self.publish(
                            merchant.id,
                            "location.created",
                            events.location_data(loc.id),
                            location_id=loc.id,
                        )
            return sizes

    def use_sizes(self, sizes: Sizes) -> None:
        """Other seeded data: the overlays on the old data go, grants and tokens stay."""
        with self.lock:
            self._load(sizes)
            self.oauth.merchant_ids = frozenset(m.id for m in self.data.merchants)

    def oauth_now(self) -> float:
        return time.time() + self.clock_offset

    # --- lookups --------------------------------------------------------------------------------

    @property
    def generator(self) -> OrderGenerator:
        return self.data.generator

    def merchant(self, merchant_id: str | None = None) -> Merchant:
        merchants = self.data.merchants
        if merchant_id is None:
            return merchants[0]
        for merchant in merchants:
            if merchant.id == merchant_id:
                return merchant
        raise KeyError(merchant_id)

    def location(self, location_id: str) -> Location:
        for merchant in self.data.merchants:
            for loc in merchant.locations:
                if loc.id == location_id:
                    return loc
        raise KeyError(location_id)

    def catalog_of(self, object_id: str) -> CatalogStore:
        for store in self.catalogs.values():
            if store.get(object_id) is not None:
                return store
        raise KeyError(object_id)

    def overlay(self) -> Overlay:
        with self.lock:
            return Overlay(dict(self.orders_by_serial))

    # --- orders overlay -------------------------------------------------------------------------

    def _store(self, stored: StoredOrder) -> StoredOrder:
        self.orders_by_id[stored.order["id"]] = stored
        self.orders_by_serial[(stored.loc_key, stored.serial)] = stored
        return stored

    def add_order(
        self, loc: Location, created_ms: int, state: str, closed_ms: int | None = None
    ) -> StoredOrder:
        if state not in ORDER_STATES:
            raise ValueError(f"state must be one of {ORDER_STATES}")
        if state in CLOSED_STATES:
            closed_ms = closed_ms if closed_ms is not None else created_ms + DEFAULT_CLOSE_DELAY_MS
            if closed_ms < created_ms:
                raise ValueError("closed_at is before created_at")
        else:
            closed_ms = None
        with self.lock:
            self.added += 1
            serial = ADDED_SERIAL_BASE + self.added
            order_id = ids.random_base62(27)
            order, total = self.generator.build_added(
                loc,
                serial,
                order_id,
                state=state,
                created_ms=created_ms,
                closed_ms=closed_ms,
                updated_ms=closed_ms or created_ms,
                version=VERSION[state],
            )
            stored = self._store(
                StoredOrder(
                    order,
                    loc.key,
                    serial,
                    created_ms,
                    closed_ms or created_ms,
                    closed_ms,
                    state,
                    total,
                )
            )
            self._publish_order("created", None, stored)
            return stored

    def current_order(self, order_id: str) -> dict | None:
        with self.lock:
            stored = self.orders_by_id.get(order_id)
        if stored is not None:
            return stored.order
        found = self.generator.locate(order_id)
        if found is None:
            return None
        loc, day, index = found
        now = now_ms()
        if self.generator.day_keys(loc.key, day).created[index] > now:
            return None
        return self.generator.build(loc, day, index, now)

    def change_order(self, order_id: str, changes: dict) -> StoredOrder:
        """A new version of an order, updated now (the way an edit on the POS would).
        `redraw_line_items` gives it other line items, so other totals and payment."""
        with self.lock:
            now = now_ms()
            stored = self.orders_by_id.get(order_id)
            gen = self.generator
            if stored is None:
                found = gen.locate(order_id)
                if found is None:
                    raise KeyError(order_id)
                loc, day, index = found
                created, closed, state = gen.light(loc, day, index, now)
                if created > now:
                    raise KeyError(order_id)
                serial = day * INDEX_LIMIT + index
                version, updated = VERSION[state], closed if state != "OPEN" else created
                closed_ms: int | None = closed if state != "OPEN" else None
                before = gen.build(loc, day, index, now)
            else:
                loc = gen.locations[stored.loc_key]
                serial, created, state = stored.serial, stored.created_ms, stored.state
                version, updated = stored.order.get("version", 1), stored.updated_ms
                closed_ms = stored.closed_ms
                before = stored.order
            new_state = changes.get("state", state)
            if new_state not in ORDER_STATES:
                raise ValueError(f"state must be one of {ORDER_STATES}")
            updated = max(now, updated + 1)
            if new_state in CLOSED_STATES:
                closed_ms = closed_ms if state in CLOSED_STATES and closed_ms else updated
            else:
                closed_ms = None
            revision = self.revisions.get(order_id, 0)
            if changes.get("redraw_line_items"):
                revision += 1
            if revision:
                self.revisions[order_id] = revision
            kwargs = dict(
                state=new_state,
                closed_ms=closed_ms,
                updated_ms=updated,
                version=version + 1,
                revision=revision,
            )
            if serial >= ADDED_SERIAL_BASE:
                order, total = gen.build_added(loc, serial, order_id, created_ms=created, **kwargs)
            else:
                order, total = gen.build_as(loc, *divmod(serial, INDEX_LIMIT), **kwargs)
            if "ticket_name" in changes:
                order["ticket_name"] = str(changes["ticket_name"])
            if isinstance(changes.get("metadata"), dict):
                order["metadata"] = {str(k): str(v) for k, v in changes["metadata"].items()}
            changed = self._store(
                StoredOrder(order, loc.key, serial, created, updated, closed_ms, new_state, total)
            )
            self._publish_order("updated", before, changed)
            return changed

    def batch_orders(self, order_ids: list[str], loc_keys: set[int], now: int) -> list:
        """BatchRetrieveOrders: those of `order_ids` that exist now at the given locations, in
        the order asked, rendered as SearchOrders renders them (kept JSON where it has some)."""
        with self.lock:
            gen = self.generator
            overlay = Overlay(dict(self.orders_by_serial))
            stored = {i: self.orders_by_id[i] for i in order_ids if i in self.orders_by_id}
        keys = []
        for order_id in dict.fromkeys(order_ids):
            if order_id in stored:
                key = (stored[order_id].loc_key, stored[order_id].serial)
            else:
                found = gen.locate(order_id)
                if found is None:
                    continue
                loc, day, index = found
                first, last = gen.history(loc, now)
                if not first <= day <= last or gen.day_keys(loc.key, day).created[index] > now:
                    continue  # outside the history, or not taken yet
                key = (loc.key, day * INDEX_LIMIT + index)
            if key[0] in loc_keys:
                keys.append(key)
        return [resolve(gen, overlay, (0, *key), now, self.rendered) for key in keys]

    # --- locations --------------------------------------------------------------------------------

    def location_body(self, loc: Location) -> dict:
        """The Location as ListLocations shows it now: as seeded, with the seller's edits."""
        return {**loc.body, **self.location_changes.get(loc.id, {})}

    def update_location(self, location_id: str, changes: dict) -> dict:
        """An edit in the Square Dashboard's location settings."""
        loc = self.location(location_id)
        unknown = sorted(set(changes) - set(LOCATION_FIELDS))
        if unknown:
            raise ValueError(f"{unknown[0]!r} cannot be changed; only {', '.join(LOCATION_FIELDS)}")
        if "status" in changes and changes["status"] not in LOCATION_STATUSES:
            raise ValueError(f"status must be one of {LOCATION_STATUSES}")
        for name, value in changes.items():
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        if "name" in changes and not changes["name"].strip():
            raise ValueError("name must not be empty")
        if "timezone" in changes:
            try:
                ZoneInfo(changes["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("timezone must be an IANA zone, e.g. America/Chicago") from None
        with self.lock:
            self.location_changes[loc.id] = {**self.location_changes.get(loc.id, {}), **changes}
            self.publish(
                loc.merchant_id,
                "location.updated",
                events.location_data(loc.id),
                location_id=loc.id,
            )
            return self.location_body(loc)

    # --- events (README §10) --------------------------------------------------------------------

    def publish(
        self,
        merchant_id: str,
        kind: str,
        data: dict,
        *,
        location_id: str | None = None,
        clients: list[str] | None = None,
        durable: bool = True,
    ) -> None:
        """Record the event for every app allowed to see it now (see events.py) and queue it
        for each of their subscriptions to its type."""
        with self.lock:
            if clients is None:
                clients = self.oauth.clients_with_grant(merchant_id, events.SCOPES[kind])
            for client_id in clients:
                event = self.events.record(
                    client_id, merchant_id, kind, data, now_ms(), location_id, durable
                )
                for subscription in self.subscriptions.matching(client_id, kind):
                    self.dispatcher.enqueue(event, subscription.id)

    def _publish_order(self, kind: str, before: dict | None, stored: StoredOrder) -> None:
        loc = self.generator.locations[stored.loc_key]
        data = events.order_data(kind, stored.order)
        self.publish(loc.merchant_id, f"order.{kind}", data, location_id=loc.id)
        self.publish_payment(before, stored.order, self.merchant(loc.merchant_id))

    def publish_payment(
        self, before: dict | None, after: dict, merchant: Merchant, durable: bool = True
    ) -> None:
        """payment.created when an order gains its payment, then payment.updated once a card
        is captured (spec examples: APPROVED, then COMPLETED); payment.updated when a change
        alters the payment an order already had."""
        if not after.get("tenders"):
            return
        payment = payment_from_order(after, merchant.business_name)
        where = payment["location_id"]
        if before is None or not before.get("tenders"):
            card = "card_details" in payment
            first = events.approved(payment) if card else payment
            self.publish(
                merchant.id,
                "payment.created",
                events.payment_data(first),
                location_id=where,
                durable=durable,
            )
            if not card:
                return
        elif payment == payment_from_order(before, merchant.business_name):
            return
        self.publish(
            merchant.id,
            "payment.updated",
            events.payment_data(payment),
            location_id=where,
            durable=durable,
        )

    def catalog_changed(self, store: CatalogStore) -> None:
        """README §10: any catalog create, update or delete publishes catalog.version.updated."""
        with self.lock:
            index = next(i for i, s in self.catalogs.items() if s is store)
            data = events.catalog_data(store.latest_ms)
            self.publish(self.data.merchants[index].id, "catalog.version.updated", data)

    def _revoked(self, merchant_id: str, client_id: str, revoker_type: str) -> None:
        data = events.revocation_data(now_ms(), revoker_type)
        # The app no longer has the grant, but this one event is its to see (README §4.3).
        self.publish(merchant_id, "oauth.authorization.revoked", data, clients=[client_id])

    def _target(self, subscription_id: str) -> tuple[str, str] | None:
        with self.lock:
            return self.subscriptions.target(subscription_id)

    # --- ground truth ---------------------------------------------------------------------------

    def ground_truth(
        self,
        location_id: str,
        start_ms: int,
        end_ms: int,
        field: str = "closed_at",
        states: frozenset[str] | None = None,
        with_ids: bool = False,
        at_ms: int | None = None,
    ) -> GroundTruth:
        if field not in ("created_at", "updated_at", "closed_at"):
            raise ValueError("field must be created_at, updated_at or closed_at")
        return ground_truth(
            self.generator,
            self.overlay(),
            self.location(location_id),
            start_ms,
            end_ms,
            field,
            states,
            at_ms if at_ms is not None else now_ms(),
            with_ids,
        )
