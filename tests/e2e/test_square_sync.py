"""Syncing Square from the Manage drawer in a real browser, with a real worker."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import expect

from integrations.models import IntegrationConfig, SyncJob
from sous.catalog.models import Item
from sous.sales.models import Order
from tests.e2e.conftest import LAST_SYNCED_NOW
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    square_config_fixture,  # noqa: F401
)

# Playwright's expect() samples about once a second: a value the bar holds for less would be
# missed. This records every value a progress bar inside `selector` takes, as it happens.
_RECORD_BARS = """(selector) => {
  const values = (window.barValues = []);
  const note = (el) => {
    const value = el.getAttribute("aria-valuenow");
    if (value !== null && el.closest(selector)) values.push(Number(value));
  };
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "attributes") note(change.target);
      for (const node of change.addedNodes || []) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        if (node.matches("[role=progressbar]")) note(node);
        node.querySelectorAll("[role=progressbar]").forEach(note);
      }
    }
  }).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"],
  });
}"""


def _record_bars(page, selector: str) -> None:
    page.evaluate(_RECORD_BARS, selector)


def _bar_values(page) -> list[int]:
    return page.evaluate("window.barValues")


def _on_top(page, locator) -> bool:
    """Whether the element is what the user sees at its centre (not under a modal dialog)."""
    box = locator.bounding_box()
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    return page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('.toast') !== null", centre
    )


def test_sync_catalog_shows_progress_then_the_result_and_last_synced(
    logged_in, square_config, sandbox, integrations_worker, shot
):
    page = logged_in
    # Slow enough to watch the bar move: the items take four pages of 800 ms, longer than
    # the page's 3 s polling interval should the socket be down.
    resize(sandbox, items=3500)
    sandbox.knobs(latency_ms=800)
    page.reload()
    card = page.locator("#card-square")
    expect(card).to_contain_text("Last synced never")

    page.get_by_role("button", name="Manage Square").click()
    drawer = page.locator("#drawer")
    section = drawer.locator("#action-square-catalog")
    expect(section).to_contain_text("Last synced never")
    shot(page, "1-drawer")
    _record_bars(page, "#action-square-catalog")
    section.get_by_role("button", name="Sync Catalog").click()

    expect(
        page.get_by_role("status").filter(
            has_text="Catalog sync started. We'll notify you when it's ready."
        )
    ).to_be_visible()
    bar = section.get_by_role("progressbar")
    expect(bar).to_be_visible()
    page.wait_for_function("window.barValues.includes(50)", timeout=15_000)
    expect(card).to_contain_text("Sync in progress")
    shot(page, "2-in-progress")

    synced = page.get_by_role("status").filter(
        has_text="Catalog synced: 3,500 items, 14 categories, 8 modifier lists"
    )
    expect(synced).to_be_visible(timeout=30_000)
    assert _on_top(page, synced), "the toast is hidden under the drawer"
    expect(drawer).to_contain_text(LAST_SYNCED_NOW)
    expect(card).to_contain_text(LAST_SYNCED_NOW)
    expect(drawer.locator(".catalog-counts")).to_contain_text("3,500 menu items")
    shot(page, "3-synced")
    assert Item.objects.count() == 3500
    assert SyncJob.objects.get().status == SyncJob.Status.SUCCEEDED
    values = _bar_values(page)
    assert values == sorted(values), f"the bar moved backwards: {values}"


def test_the_drawer_dates_a_connection_in_the_viewers_time_zone(logged_in, square_config):
    page = logged_in
    # 8 PM on 30 September in Los Angeles is already 1 October in UTC.
    evening = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
    IntegrationConfig.objects.filter(pk=square_config.pk).update(connected_at=evening)
    page.reload()
    page.get_by_role("button", name="Manage Square").click()

    expect(page.locator("#drawer")).to_contain_text("Connected 30 Sep 2026")


def test_the_sales_section_lists_locations_with_windows_and_explains_bad_ranges(
    square_config, merchant, logged_in, shot
):
    page = logged_in
    page.get_by_role("button", name="Manage Square").click()
    section = page.locator("#action-square-sales")
    for location in merchant["locations"]:
        expect(section).to_contain_text(f"{location['name']} ({location['timezone']})")
    expect(section.locator("[data-window]").first).to_contain_text(re.compile(r"\d\d:\d\d → "))
    shot(page, "1-sales")

    section.get_by_label("From", exact=True).fill("2024-03-05")
    section.get_by_label("To", exact=True).fill("2024-03-01")
    section.get_by_role("button", name="Sync Range").click()

    alert = section.get_by_role("alert")
    expect(alert).to_have_text("The start date must be on or before the end date.")
    expect(section.get_by_label("From", exact=True)).to_have_value("2024-03-05")
    shot(page, "2-bad-range")
    assert not SyncJob.objects.exists()
    # That 400 was the point of the test, not a failure of the page.
    expected = ("/integrations/square/actions/sales/", "status of 400 (Bad Request)")
    page.console_errors[:] = [e for e in page.console_errors if not any(x in e for x in expected)]


def test_saving_locations_keeps_what_staff_chose_with_squares_zones(
    square_config, merchant, logged_in
):
    page = logged_in
    first, last = merchant["locations"][0], merchant["locations"][-1]
    page.get_by_role("button", name="Manage Square").click()
    section = page.locator("#action-square-sales")
    section.get_by_role("checkbox", name=re.compile(re.escape(last["name"]))).uncheck()
    section.get_by_label(f"Business day of {first['name']} ends at").fill("04:00")
    section.get_by_role("button", name="Save locations").click()

    expect(page.get_by_role("status").filter(has_text="Settings saved")).to_be_visible()
    square_config.refresh_from_db()
    assert square_config.settings["excluded_locations"] == [last["id"]]
    assert square_config.settings["cutoffs"] == {first["id"]: "04:00"}
    assert square_config.settings["locations"][first["id"]]["timezone"] == first["timezone"]


def test_sync_range_runs_month_chunks_with_one_progress_and_ends_exact(
    logged_in, square_config, sandbox, integrations_worker, shot
):
    page = logged_in
    # Three whole months: three chunks behind one progress bar, slow enough to watch.
    resize(sandbox, orders_per_day=40)
    sandbox.knobs(latency_ms=300)
    last = date.today().replace(day=1) - timedelta(days=1)  # the end of last month
    first = (last.replace(day=1) - timedelta(days=32)).replace(day=1)  # two months before
    months = 3
    page.reload()
    page.get_by_role("button", name="Manage Square").click()
    section = page.locator("#action-square-sales")
    section.get_by_label("From", exact=True).fill(first.isoformat())
    section.get_by_label("To", exact=True).fill(last.isoformat())
    _record_bars(page, "#action-square-sales")
    section.get_by_role("button", name="Sync Range").click()
    section.get_by_role("button", name="Start").click()  # the range's preview, confirmed

    expect(section.get_by_role("progressbar")).to_be_visible()
    expect(section.locator("[data-job-message]")).to_contain_text(
        re.compile(rf"\d of {months} months · [\d,]+ orders")
    )
    # The range asked for stays in the form while it runs (the drawer is not redrawn).
    expect(section.get_by_label("From", exact=True)).to_have_value(first.isoformat())
    expect(section.get_by_label("To", exact=True)).to_have_value(last.isoformat())
    section.get_by_role("progressbar").scroll_into_view_if_needed()
    shot(page, "1-in-progress")

    done = page.get_by_role("status").filter(has_text="Sales synced:")
    expect(done).to_be_visible(timeout=90_000)
    assert _on_top(page, done), "the toast is hidden under the drawer"
    shot(page, "2-synced")
    job = SyncJob.objects.get(parent=None)
    orders = Order.objects.count()
    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert job.children.count() == months
    assert job.progress_message.startswith(f"{months} of {months} months · {orders:,} orders")
    assert f"Sales synced: {orders:,} orders ({orders:,} new, 0 changed)" in done.inner_text()
    # The bar moved within months, not only when a whole month was done, and never back.
    values = _bar_values(page)
    assert set(values) - {0, 33, 66, 100}, f"the bar only moved month by month: {values}"
    assert values == sorted(values), f"the bar moved backwards: {values}"
