"""The grid, a card, the drawer and the drawer's own fragments (health, the ledger calendar)
run the same few queries whatever the data volume: a hundred times more orders, jobs,
activity, ledger days, documents, webhook deliveries and resolved alerts change nothing.

Each budget is exact, so a query that creeps in (a count, a per-action lookup, a write on a
GET) fails here first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import (
    IntegrationEvent,
    NotificationChannel,
    SyncJob,
    WebhookEvent,
)
from sous.documents.models import Document
from sous.notifications.models import Alert
from sous.sales.models import Order, SalesDay
from tests.integrations.google_drive import (
    drive_fixture,  # noqa: F401
    google_config_fixture,  # noqa: F401
)
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    square_config_fixture,  # noqa: F401
)

pytestmark = pytest.mark.django_db

# (url, queries): each counts the session, the user and the membership; the grid, a whole
# page, also the bell's two. A fragment never reads the bell.
BUDGETS = {
    # + connections with their schedules, open alerts, active jobs, the sales ledger's
    # last two weeks, the switcher's memberships.
    "grid": ("/admin/integrations/", 11),
    "square card": ("/integrations/square/card/", 8),
    "google card": ("/integrations/google/card/", 7),
    # + the kept figures, recent jobs, activity, the last webhook events (the connection's
    # and each action's); Google: its channel, the documents' figures and latest files.
    "square drawer": ("/integrations/square/manage/", 14),
    "google drawer": ("/integrations/google/manage/", 16),
    # + the connection, and the check's record of itself.
    "square health": ("/integrations/square/health/?force=1", 5),
    "google health": ("/integrations/google/health/?force=1", 5),
    # + the connection and every location's 13 weeks, in one query.
    "ledger calendar": ("/integrations/square/ledger/", 5),
}


@pytest.fixture
def connections(square_config, google_config, merchant, settings):
    """Square syncing every location, with its webhooks expected; Google watching folders
    through an open push channel: every part of each drawer has something to read."""
    settings.SQUARE_WEBHOOK_SIGNATURE_KEYS = ["whsec-test"]
    square_config.settings = {
        **square_config.settings,
        "locations": {
            loc["id"]: {"name": loc["name"], "timezone": loc["timezone"]}
            for loc in merchant["locations"]
        },
    }
    square_config.save()
    google = google_config
    google.settings = {
        "folders": {
            "recipe": {"id": "F-RECIPES", "path": "My Drive / Recipes"},
            "invoice": {"id": "F-INVOICES", "path": "My Drive / Invoices"},
        }
    }
    google.save()
    NotificationChannel.objects.create(
        config=google,
        channel_id="chan-1",
        resource_id="res-1",
        account_id=google.external_account_id,
        expires_at=timezone.now() + timedelta(days=6),
    )
    return square_config, google, [loc["id"] for loc in merchant["locations"]]


def grow(org, square, google, locations: list[str], n: int, start: int = 0) -> None:
    """n more orders, n/10 more jobs, activity lines, ledger days per location, documents,
    webhook deliveries and resolved alerts, written straight to the tables."""
    now = timezone.now()
    Order.objects.bulk_create(
        Order(
            organization=org,
            source="square",
            external_id=f"ORDER-{i}",
            location_external_id=locations[i % len(locations)],
            state="COMPLETED",
            business_date=(now - timedelta(days=i % 700)).date(),
            created_at=now,
            updated_at=now,
            currency="USD",
            total_money=1000,
            first_imported_at=now,
            last_changed_at=now,
        )
        for i in range(start, start + n)
    )
    m = n // 10
    for config in (square, google):
        jobs = SyncJob.objects.bulk_create(
            SyncJob(
                organization=org,
                provider=config.provider,
                config=config,
                kind=f"{config.provider}.{'missed_events' if i % 2 else 'catalog'}",
                status=SyncJob.Status.SUCCEEDED,
                trigger=SyncJob.Trigger.SCHEDULE,
                created_at=now - timedelta(minutes=i),
                finished_at=now - timedelta(minutes=i),
            )
            for i in range(start, start + m)
        )
        SyncJob.objects.bulk_create(
            SyncJob(
                organization=org,
                provider=config.provider,
                config=config,
                parent=job,
                kind=job.kind,
                status=SyncJob.Status.SUCCEEDED,
            )
            for job in jobs
        )
        IntegrationEvent.objects.bulk_create(
            IntegrationEvent(
                organization=org,
                provider=config.provider,
                config=config,
                kind=IntegrationEvent.Kind.SETTINGS_CHANGED,
                message=f"change {i}",
            )
            for i in range(start, start + m)
        )
        Alert.objects.bulk_create(
            Alert(
                organization=org,
                source=config.provider,
                condition=Alert.Condition.STALE,
                subject=f"old {i}",
                title="Stale",
                resolved_at=now,
            )
            for i in range(start, start + m)
        )
    first = (now - timedelta(days=start // 10 + m)).date()
    SalesDay.objects.bulk_create(
        SalesDay(
            organization=org,
            source="square",
            location_external_id=location,
            business_date=first + timedelta(days=d),
            orders=10,
            last_pulled_at=now,
        )
        for location in locations
        for d in range(m)
    )
    Document.objects.bulk_create(
        Document(
            organization=org,
            source="google",
            external_id=f"DOC-{i}",
            kind=Document.Kind.RECIPE if i % 2 else Document.Kind.INVOICE,
            name=f"Doc {i}.pdf",
            mime_type="application/pdf",
        )
        for i in range(start, start + m)
    )
    WebhookEvent.objects.bulk_create(
        WebhookEvent(
            provider=provider,
            event_id=f"{provider}-EVT-{i}",
            event_type="order.updated" if provider == "square" else "change",
            account_id=square.external_account_id if provider == "square" else "",
            config=google if provider == "google" else None,
            received_at=now - timedelta(seconds=i),
            body=b"{}",
        )
        for provider in ("square", "google")
        for i in range(start, start + m)
    )


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("view", BUDGETS)
def test_a_view_runs_the_same_few_queries_whatever_the_volume(view, owner_client, org, connections):
    url, budget = BUDGETS[view]
    square, google, locations = connections
    grow(org, square, google, locations, 30)
    queries(owner_client, url)  # the first open may make the connection's schedules
    little = queries(owner_client, url)

    grow(org, square, google, locations, 3000, start=30)
    much = queries(owner_client, url)

    assert (little, much) == (budget, budget)
