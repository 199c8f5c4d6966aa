"""Neutral records: what providers hand to the integrations importers, whatever the provider.

Plain frozen dataclasses, one module per receiving domain (catalog, sales, documents). Money is
always integer minor units plus an ISO currency code; times are aware datetimes in UTC.
"""
