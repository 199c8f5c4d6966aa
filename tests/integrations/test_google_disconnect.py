"""Disconnecting Google keeps every imported document and its stored content."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from integrations.models import IntegrationConfig
from sous.documents.models import Document
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
    scan,
    watch,
)

pytestmark = pytest.mark.django_db


def test_disconnect_keeps_every_document_and_its_content(
    owner_client, google_config, drive, sandbox, org
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes/Desserts")
    watch(google_config, drive, "invoice", "Accounting/Invoices/2025-12")
    scan(google_config)
    before = {d.external_id: d.content.name for d in Document.objects.all()}
    assert len(before) == 8 and all(before.values())

    drawer = owner_client.get("/integrations/google/manage/").content.decode()
    assert "<li>8 documents</li>" in drawer  # the dialog's "Stays" list

    response = owner_client.post("/integrations/google/disconnect/")
    assert response.status_code == 302
    assert not IntegrationConfig.objects.exists()
    assert sandbox.counters()["google.oauth.revoke"] == 1
    after = {d.external_id: d.content.name for d in Document.objects.filter(organization=org)}
    assert after == before
    assert all(default_storage.exists(name) for name in after.values())
    assert {d.status for d in Document.objects.all()} == {"active"}


def test_a_reconnect_reattaches_the_same_documents(
    owner_client, google_config, drive, org, make_connection
):
    watch(google_config, drive, "recipe", "Kitchen/Recipes/Desserts")
    scan(google_config)
    ids = set(Document.objects.values_list("pk", flat=True))
    owner_client.post("/integrations/google/disconnect/")

    grant = drive.connect()
    config = make_connection(
        org, "google", access=grant["access_token"], refresh=grant["refresh_token"]
    )
    watch(config, drive, "recipe", "Kitchen/Recipes/Desserts")
    job = scan(config)
    assert job.summary == "Drive scanned: 4 recipes, 0 invoices (0 new)"
    assert set(Document.objects.values_list("pk", flat=True)) == ids
