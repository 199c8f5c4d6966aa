"""How current each data type is, in words, with a mark past the thresholds; a red one is an
alert until the data is current again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Schedule
from integrations.services import freshness
from sous.notifications import alerts
from tests.integrations.square_sync import (
    local_date_days_ago,
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)

pytestmark = pytest.mark.django_db


def _catalog(config, *, synced_ago: timedelta | None, every: int | None = 60):
    schedules = Schedule.objects.filter(config=config)
    schedules.filter(action="catalog").update(enabled=every is not None, minutes=every or 60)
    if synced_ago is not None:
        at = (timezone.now() - synced_ago).isoformat()
        config.last_synced = {**config.last_synced, "square.catalog": at}
        config.save(update_fields=["last_synced"])
    return next(line for line in freshness.of(config) if line.kind == "square.catalog")


@pytest.mark.parametrize(
    ("ago", "words", "level"),
    [
        (timedelta(minutes=5), "Catalog updated 5\xa0minutes ago", ""),
        (timedelta(hours=3), "Catalog updated 3\xa0hours ago", "amber"),
        (timedelta(hours=7), "Catalog updated 7\xa0hours ago", "red"),
    ],
)
def test_the_catalog_is_amber_past_two_of_its_intervals_and_red_past_six(
    square_config, ago, words, level
):
    line = _catalog(square_config, synced_ago=ago)
    assert (line.words, line.level) == (words, level)


def test_without_a_schedule_the_age_is_said_without_a_mark(square_config):
    line = _catalog(square_config, synced_ago=timedelta(days=3), every=None)
    assert (line.words, line.level) == ("Catalog updated 3\xa0days ago", "")


def test_a_new_connection_is_not_late_before_its_first_run(square_config):
    line = _catalog(square_config, synced_ago=None)
    assert (line.words, line.level) == ("Catalog updated never", "")


def test_sales_complete_through_yesterday_once_every_location_has_every_day(
    square_config, product_on_sandbox, settings
):
    settings.INTEGRATIONS_SALES_DUE_HOUR = 0  # yesterday is due at once
    resize(product_on_sandbox, orders_per_day=4)
    first = local_date_days_ago(6)
    end = local_date_days_ago(3)
    run_inline(start(square_config, "sales", {"start": str(first), "end": str(end)}))
    square_config.refresh_from_db()
    late = next(line for line in freshness.of(square_config) if line.kind == "square.sales")
    assert late.words.startswith("Sales complete through ") and late.level == "red"
    assert "yesterday" not in late.words

    yesterday = local_date_days_ago(1)
    run_inline(start(square_config, "sales", {"start": str(end), "end": str(yesterday)}))
    square_config.refresh_from_db()
    line = next(line for line in freshness.of(square_config) if line.kind == "square.sales")
    assert (line.words, line.level) == ("Sales complete through yesterday", "")


def test_overdue_data_is_an_alert_until_it_is_current(org, owner, square_config):
    _catalog(square_config, synced_ago=timedelta(hours=7))
    assert freshness.check() >= 1
    [alert] = [a for a in alerts.open_for(org, "square") if a.subject == "square.catalog"]
    assert alert.condition == "stale"
    assert alert.title == "Square: Catalog updated 7\xa0hours ago"

    _catalog(square_config, synced_ago=timedelta(minutes=1))
    freshness.check()
    assert not [a for a in alerts.open_for(org, "square") if a.subject == "square.catalog"]


def test_the_card_and_the_section_say_it_in_words_with_the_mark(owner_client, square_config):
    _catalog(square_config, synced_ago=timedelta(hours=7))
    card = owner_client.get("/integrations/square/card/").content.decode()
    assert 'class="fresh-line fresh-red"' in card and "(overdue)" in card
    drawer = owner_client.get("/integrations/square/manage/").content.decode()
    assert 'data-freshness="catalog"' in drawer
