"""Orders Square said changed (webhooks): read each by id and file it under its business day.

Never a range: a notification names its order, and BatchRetrieveOrders reads up to 100 at a
time. Requests that arrive while a job waits join it (the union of their ids), so a burst of
notifications is one job; one arriving while a job runs waits for the next, as the running one
may have read that order before it changed. The importer never lets an older version of an
order overwrite a newer one, whatever order the notifications come in.
"""

from __future__ import annotations

from collections.abc import Iterator

from providers.base import Action, Checkpoint, Page, Progress, SyncRequest
from providers.records.tally import Tally

from .client import MAX_ORDERS_PER_BATCH, SquareClient
from .locations import listed_records
from .sales import attribution_time, locations_with_settings, order_record

# One job's ids at most: beyond, the next waiting job takes them (a burst still makes few jobs).
MAX_IDS_PER_JOB = 5000


class ChangedOrdersCheckpoint(Checkpoint):
    read: int = 0  # ids read so far, in the job's order


class ChangedOrdersAction(Action):
    key = "orders"
    label = "Order updates"
    description = "Orders Square said changed, read by id."
    manual = False
    incremental = True
    Checkpoint = ChangedOrdersCheckpoint

    def overlaps(self, a: dict, b: dict) -> bool:
        return set(b["order_ids"]) <= set(a["order_ids"])

    def merge(self, pending: dict, new: dict) -> dict | None:
        ids = list(dict.fromkeys([*pending["order_ids"], *new["order_ids"]]))
        return {"order_ids": ids} if len(ids) <= MAX_IDS_PER_JOB else None

    def describe_request(self, params: dict) -> str:
        count = len(params["order_ids"])
        return f"{count} order{'s' if count != 1 else ''} changed"

    def summary(self, tally: Tally) -> str:
        return (
            f"Order updates: {tally.orders:,} order{'s' if tally.orders != 1 else ''} "
            f"({tally.orders_new:,} new, {tally.orders_changed:,} changed)"
        )

    def pages(self, client: SquareClient, request: SyncRequest) -> Iterator[Page]:
        ids = request.params["order_ids"]
        at: ChangedOrdersCheckpoint = request.checkpoint
        listed = client.locations()
        clocks = {
            location.id: location.clock
            for location, included in locations_with_settings(listed, request.settings)
            if included
        }
        # An order may be the first Sous hears of its location (no location events subscribed):
        # the location is recorded as new with the first page, its orders wait until included.
        found = listed_records(listed, request.account_id)
        while at.read < len(ids):
            batch = ids[at.read : at.read + MAX_ORDERS_PER_BATCH]
            records = [
                order_record(order, clocks[order.location_id].date_of(attribution_time(order)))
                for order in client.batch_retrieve_orders(batch)
                if order.location_id in clocks  # staff left its location out
            ]
            at = ChangedOrdersCheckpoint(read=at.read + len(batch))
            records, found = [*found, *records], []
            yield Page(
                records=records,
                checkpoint=at,
                progress=Progress(done=at.read, total=len(ids), unit="orders"),
            )
