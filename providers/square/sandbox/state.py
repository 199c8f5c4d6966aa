"""Everything the Square half knows, behind one lock.

Immutable seeded data (merchants, the pristine catalog, the order generator) is built once per
(seed, sizes) and shared. On top of it sit the mutable overlays the control API writes: the live
catalogs, added and changed orders, the OAuth state and a clock offset for expiry tests.
`reset()` drops the overlays and returns to the flags' sizes.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from . import ids
from .catalog import CatalogStore, Menu, build_catalog
from .config import Sizes, SquareConfig
from .ground_truth import GroundTruth, ground_truth
from .merchants import Location, Merchant, build_merchants
from .oauth import Client, OAuthStore
from .orders import ADDED_SERIAL_BASE, CLOSED_STATES, INDEX_LIMIT, VERSION, OrderGenerator
from .rendered import RenderedOrders
from .timefmt import now_ms
from .timeline import Overlay, StoredOrder

ORDER_STATES = ("OPEN", "COMPLETED", "CANCELED")
DEFAULT_CLOSE_DELAY_MS = 20 * 60_000


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
    def __init__(self, config: SquareConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.rendered = RenderedOrders(config.render_cache_mb * 1024 * 1024)
        self.reset()

    # --- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.clock_offset = 0.0
            self._load(self.config.sizes)
            self.oauth = OAuthStore(
                clock=self.oauth_now,
                merchant_ids=frozenset(m.id for m in self.data.merchants),
            )
            self.oauth.clients[self.config.client_id] = Client(
                self.config.client_id, self.config.client_secret, list(self.config.redirect_uris)
            )

    def _load(self, sizes: Sizes) -> None:
        self.data = dataset(self.config.seed, sizes)
        self.catalogs = {
            index: CatalogStore(copy.deepcopy(objects))
            for index, objects in self.data.catalogs.items()
        }
        self.orders_by_id: dict[str, StoredOrder] = {}
        self.orders_by_serial: dict[tuple[int, int], StoredOrder] = {}
        self.added = 0

    def configure(self, values: dict) -> Sizes:
        """Change the data sizes until the next reset; grants and tokens survive."""
        with self.lock:
            sizes = self.data.sizes.updated(values)
            self._load(sizes)
            self.oauth.merchant_ids = frozenset(m.id for m in self.data.merchants)
            return sizes

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
            return self._store(
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
        """A new version of an order, updated now (the way an edit on the POS would)."""
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
            else:
                loc = gen.locations[stored.loc_key]
                serial, created, state = stored.serial, stored.created_ms, stored.state
                version, updated = stored.order.get("version", 1), stored.updated_ms
                closed_ms = stored.closed_ms
            new_state = changes.get("state", state)
            if new_state not in ORDER_STATES:
                raise ValueError(f"state must be one of {ORDER_STATES}")
            updated = max(now, updated + 1)
            if new_state in CLOSED_STATES:
                closed_ms = closed_ms if state in CLOSED_STATES and closed_ms else updated
            else:
                closed_ms = None
            kwargs = dict(
                state=new_state, closed_ms=closed_ms, updated_ms=updated, version=version + 1
            )
            if serial >= ADDED_SERIAL_BASE:
                order, total = gen.build_added(loc, serial, order_id, created_ms=created, **kwargs)
            else:
                order, total = gen.build_as(loc, *divmod(serial, INDEX_LIMIT), **kwargs)
            if "ticket_name" in changes:
                order["ticket_name"] = str(changes["ticket_name"])
            if isinstance(changes.get("metadata"), dict):
                order["metadata"] = {str(k): str(v) for k, v in changes["metadata"].items()}
            return self._store(
                StoredOrder(order, loc.key, serial, created, updated, closed_ms, new_state, total)
            )

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
