"""The bench's organisation and its Square connection, with real sandbox tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from integrations.services import callback
from providers.base import Identity
from providers.oauth import TokenSet
from sous.orgs.models import Organization


def connect(sandbox):
    merchant = sandbox.control("GET", "square/merchants")["merchants"][0]
    grant = sandbox.control("POST", "square/tokens", json={"merchant_id": merchant["id"]})
    org = Organization.objects.create(name="Bench Bistro", slug="bench-bistro")
    tokens = TokenSet(
        access_token=grant["access_token"],
        refresh_token=grant["refresh_token"],
        expires_at=datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00")).astimezone(
            UTC
        ),
    )
    identity = Identity(merchant["id"], merchant["business_name"])
    config, _ = callback.save_connection(org, "square", tokens, identity, actor=None)
    return config
