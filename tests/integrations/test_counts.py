"""A job's counts as stored in SyncJob.counts: what the importers counted and the Tally the
finishing summary reads, read back whichever release wrote them."""

from __future__ import annotations

import json

from integrations.sync import Counts
from providers.records.tally import Tally


def test_counts_come_back_as_they_were_stored():
    counts = Counts(created=3, updated=1, totals=Tally(orders=4, orders_new=3, orders_changed=1))
    counts.add(Counts(deleted=2, totals=Tally(orders=2, unavailable_folders=("recipe",))))

    stored = json.loads(json.dumps(counts.as_json()))  # as the JSONField keeps it

    assert stored["totals"] == {
        "orders": 6,
        "orders_new": 3,
        "orders_changed": 1,
        "unavailable_folders": ["recipe"],
    }
    assert Counts.from_json(stored) == counts


def test_counts_an_older_release_stored_keep_what_still_has_a_name():
    older = {
        "created": 3,
        "unchanged": 2,
        "totals": {"orders": 5, "new orders": 3, "line items": 9, "unavailable:recipe": 1},
    }

    counts = Counts.from_json(older)

    assert (counts.created, counts.unchanged) == (3, 2)
    assert counts.totals == Tally(orders=5)
