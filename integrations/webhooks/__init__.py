"""Provider notifications (webhooks): verified, stored once per event id, then processed.

`receive` answers the provider fast (verify the raw body, store, hand to a task); `process`
routes an event to the connections of its account and turns it into engine triggers, where
coalescing makes a burst of notifications one job.
"""
