"""The completeness calendar and the Sync Range preview in a real browser, with a real worker."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from integrations.models import SyncJob
from sous.sales.models import SalesDay
from tests.conftest import wait_for
from tests.e2e.conftest import assert_accessible
from tests.integrations.square_sync import (
    local_date_days_ago,
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)


def _open_sales(page):
    page.reload()
    page.get_by_role("button", name="Manage Square").click()
    return page.locator("#action-square-sales")


def test_a_day_of_the_calendar_shows_its_figures_and_re_pulls(
    logged_in, square_config, sandbox, merchant, integrations_worker, shot
):
    page = logged_in
    resize(sandbox, orders_per_day=30)
    day = local_date_days_ago(10)
    run_inline(start(square_config, "sales", {"start": day.isoformat(), "end": day.isoformat()}))
    location = merchant["locations"][0]
    name = f"{day:%a} {day.day} {day:%b}, {location['name']}: complete"

    section = _open_sales(page)
    grid = section.get_by_role("group", name=f"{location['name']}: business days")
    expect(grid).to_be_visible()
    square = grid.get_by_role("button", name=re.compile(re.escape(name) + r", \d+ orders, \$"))
    expect(square).to_have_count(1)
    expect(grid.get_by_role("button", name=re.compile(": never pulled$")).first).to_be_visible()
    square.click()
    detail = section.locator(".ledger-detail").filter(has_text="Net sales").first
    expect(detail).to_contain_text(f"{day:%a} {day.day} {day:%b %Y} · {location['name']}")
    expect(detail).to_contain_text("Total collected")
    detail.scroll_into_view_if_needed()
    shot(page, "1-day-1280")
    assert_accessible(page)

    pulled = SalesDay.objects.get(location_external_id=location["id"], business_date=day)
    detail.get_by_role("button", name="Re-pull this day").click()
    expect(page.get_by_role("status").filter(has_text="Sales sync started")).to_be_visible()
    job = wait_for(
        lambda: (
            SyncJob.objects.filter(params__locations=[location["id"]], status="succeeded")
            .order_by("-created_at")
            .first()
        ),
        timeout=60,
        message="the re-pull did not finish",
    )
    assert job.params["start"] == job.params["end"] == day.isoformat()
    wait_for(
        lambda: SalesDay.objects.get(pk=pulled.pk).last_pulled_at > pulled.last_pulled_at,
        message="the day was not pulled again",
    )

    # The job's end redraws the drawer (and its calendar): look once that has happened.
    expect(page.get_by_role("status").filter(has_text="Sales synced")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # A phone: the squares keep their size; the grid scrolls sideways rather than the page.
    page.set_viewport_size({"width": 360, "height": 780})
    section = page.locator("#action-square-sales")
    grid = section.get_by_role("group", name=f"{location['name']}: business days")
    expect(grid).to_be_visible()
    # Measured in one step, once drawn: the job's end may redraw the drawer once more.
    measured = wait_for(lambda: _square_at_360(grid), timeout=15, message="no square drawn")
    assert measured[0] >= 16 and measured[1] >= 16
    assert measured[2] == "auto"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "2-calendar-360")
    assert_accessible(page)


def _square_at_360(grid):
    """(width, height, the holder's overflow-x) of the grid's first square, once laid out."""
    try:
        measured = grid.evaluate(
            """(el) => {
              el.scrollIntoView({block: "nearest"});
              const square = el.querySelector("button").getBoundingClientRect();
              const holder = el.closest(".ledger-scroll");
              return [square.width, square.height, getComputedStyle(holder).overflowX];
            }""",
            timeout=2000,
        )
    except PlaywrightError:  # replaced while being measured: look again
        return None
    return measured if measured[0] > 0 else None


def test_sync_range_previews_its_size_then_cancel_or_start(
    logged_in, square_config, sandbox, merchant, integrations_worker, shot
):
    page = logged_in
    resize(sandbox, orders_per_day=20)
    last = local_date_days_ago(3)
    first = last - timedelta(days=9)
    run_inline(start(square_config, "sales", {"start": last.isoformat(), "end": last.isoformat()}))
    n = len(merchant["locations"])

    section = _open_sales(page)
    section.get_by_label("From", exact=True).fill(first.isoformat())
    section.get_by_label("To", exact=True).fill(last.isoformat())
    section.get_by_role("button", name="Sync Range").click()
    preview = section.locator(".sales-preview")
    expect(preview).to_contain_text(re.compile(rf"10 days × {n} locations ≈ [\d,]+ orders"))
    expect(preview).to_contain_text("API calls")
    expect(section.get_by_role("button", name="Start")).to_be_focused()
    preview.scroll_into_view_if_needed()
    shot(page, "1-preview-1280")
    assert_accessible(page)
    assert not SyncJob.objects.filter(params__start=first.isoformat()).exists()

    section.get_by_role("link", name="Cancel").click()
    expect(section.get_by_label("From", exact=True)).to_have_value(first.isoformat())
    expect(section.get_by_label("To", exact=True)).to_have_value(last.isoformat())
    assert not SyncJob.objects.filter(params__start=first.isoformat()).exists()

    page.set_viewport_size({"width": 360, "height": 780})
    section.get_by_role("button", name="Sync Range").click()
    expect(preview).to_be_visible()
    preview.scroll_into_view_if_needed()
    shot(page, "2-preview-360")
    section.get_by_role("button", name="Start").click()
    expect(page.get_by_role("status").filter(has_text="Sales synced:")).to_be_visible(
        timeout=60_000
    )
    job = SyncJob.objects.get(params__start=first.isoformat(), parent__isnull=True)
    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
