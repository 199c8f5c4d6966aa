"""Neutral records: what providers hand to the integrations importers, whatever the provider.

Plain frozen value objects, one module per receiving domain (catalog, sales, documents):
dataclasses, and msgspec Structs for sales, whose records come by the hundred thousand. Money is
always integer minor units plus an ISO currency code; times are aware datetimes in UTC.
"""
