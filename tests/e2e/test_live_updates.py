"""The page never misses the end of a job: not after ten in a row, not when the server drops
the socket mid-job."""

from __future__ import annotations

from playwright.sync_api import expect

from integrations.models import SyncJob
from tests.conftest import wait_for
from tests.e2e.conftest import LAST_SYNCED_NOW
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    square_config_fixture,  # noqa: F401
)

# Every toast the page shows, as it appears: they dismiss themselves after 6 s.
_RECORD_TOASTS = """() => {
  const texts = (window.toastTexts = []);
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.nodeType === Node.ELEMENT_NODE && node.matches(".toast")) {
          texts.push(node.querySelector("span").textContent);
        }
      }
    }
  }).observe(document.body, { subtree: true, childList: true });
}"""


def _toasts(page, text: str) -> int:
    return page.evaluate("(text) => window.toastTexts.filter((t) => t.includes(text)).length", text)


def _catalog_jobs(config, status=SyncJob.Status.SUCCEEDED) -> int:
    return SyncJob.objects.filter(config=config, kind="square.catalog", status=status).count()


# The connection comes before the login (fixture order): the page must load with it, since a
# connection stored from the test's thread cannot reach its socket (Playwright's event loop).
def test_ten_catalog_syncs_in_a_row_each_reach_the_drawer(
    square_config, logged_in, sandbox, integrations_worker, shot
):
    page = logged_in
    page.evaluate(_RECORD_TOASTS)
    page.get_by_role("button", name="Manage Square").click()
    section = page.locator("#drawer #action-square-catalog")
    bar = section.locator("[data-job-progress]")

    for n in range(1, 11):
        section.get_by_role("button", name="Sync Catalog").click()
        try:
            wait_for(lambda n=n: _catalog_jobs(square_config) == n, timeout=60)
        except AssertionError:
            jobs = list(SyncJob.objects.values_list("status", "progress_message", "error"))
            raise AssertionError(f"sync {n} did not finish on the server: {jobs}") from None
        # Within a few seconds of the server, whatever happened to the socket meanwhile: the
        # drawer is redrawn with the job among the recent ones (and only then clicked again).
        expect(bar).to_be_hidden(timeout=15_000)
        expect(page.locator("#recent-jobs li.job-succeeded")).to_have_count(n, timeout=15_000)
        page.wait_for_function(
            "(n) => window.toastTexts.filter((t) => /^Catalog (synced|up to date)/.test(t))"
            ".length === n",
            arg=n,
            timeout=15_000,
        )

    expect(section).to_contain_text(LAST_SYNCED_NOW)
    shot(page, "ten-synced")
    assert _toasts(page, "Sync failed") == 0


def test_a_job_that_ends_while_the_server_is_away_is_shown_ended_with_its_toast(
    square_config, logged_in, live_app, sandbox, integrations_worker, shot
):
    page = logged_in
    # Four pages of 800 ms: long enough to restart the server under a running job.
    resize(sandbox, items=3500)
    sandbox.knobs(latency_ms=800)
    page.evaluate(_RECORD_TOASTS)
    page.get_by_role("button", name="Manage Square").click()
    section = page.locator("#drawer #action-square-catalog")
    section.get_by_role("button", name="Sync Catalog").click()
    expect(section.get_by_role("progressbar")).to_be_visible()
    wait_for(
        lambda: SyncJob.objects.filter(status=SyncJob.Status.RUNNING).exists(),
        timeout=30,
        message="the sync never started",
    )

    # The server goes away under the running job (a deploy, a crash): it closes the socket,
    # and the job ends while nobody can tell the page.
    errors_before = len(page.console_errors)
    live_app.stop()
    wait_for(lambda: _catalog_jobs(square_config) == 1, timeout=60, message="the sync failed")
    assert _toasts(page, "Catalog synced") == 0
    live_status = page.locator("#live-status")
    expect(live_status).to_be_visible(timeout=15_000)
    expect(live_status).to_contain_text("Live updates are unavailable right now.")
    expect(section.locator("xpath=ancestor::dialog").locator("[data-live-status]")).to_be_visible()
    shot(page, "1-server-away")
    # What the browser logged while the server refused it (failed polls, the socket's
    # reconnect attempts) was the point of the test, not a fault of the page.
    del page.console_errors[errors_before:]
    live_app.start()

    synced = page.get_by_role("status").filter(has_text="Catalog synced: 3,500 items")
    expect(synced).to_be_visible(timeout=20_000)
    expect(section.locator("[data-job-progress]")).to_be_hidden()
    expect(page.locator("[data-live-status]")).to_have_count(2)
    expect(page.locator("[data-live-status]:visible")).to_have_count(0)
    expect(section).to_contain_text(LAST_SYNCED_NOW)
    expect(page.locator("#card-square")).not_to_contain_text("Sync in progress")
    expect(page.locator("#card-square")).to_contain_text(LAST_SYNCED_NOW)
    shot(page, "2-caught-up")
    assert _toasts(page, "Catalog synced") == 1
    assert _toasts(page, "could not reach") == 0, "a background refresh blamed the user's network"


def test_catching_up_leaves_an_unchanged_card_alone(square_config, logged_in, live_app):
    """The socket's first connect re-reads the cards; one that has not changed stays the very
    element it was, so a click on it as the socket comes up is not lost."""
    page = logged_in
    with page.expect_response(f"{live_app.url}/integrations/square/card/"):
        page.reload()
        page.evaluate("window.__card = document.getElementById('card-square')")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.getElementById('card-square') === window.__card")
