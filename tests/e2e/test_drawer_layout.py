"""The drawer as staff read it: jobs in words, toasts that never hide the Danger zone, cards
that hold a long email."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.models import SyncJob
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    square_config_fixture,  # noqa: F401
)


def _covered_by_toast(page, locator) -> bool:
    box = locator.bounding_box()
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    return page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('.toast') !== null", centre
    )


def _jobs(config):
    done = {"status": SyncJob.Status.SUCCEEDED, "progress_done": 1, "progress_total": 1}
    SyncJob.objects.create(
        organization=config.organization,
        config=config,
        provider="square",
        kind="square.catalog",
        summary="Catalog synced: 312 items, 14 categories, 9 modifier lists",
        **done,
    )
    SyncJob.objects.create(
        organization=config.organization,
        config=config,
        provider="square",
        kind="square.sales",
        status=SyncJob.Status.FAILED,
        error="Re-auth required: Square refused the stored authorization.",
    )


@pytest.mark.parametrize("width", [1280, 360])
def test_recent_jobs_say_what_ran_and_toasts_leave_the_danger_zone_usable(
    logged_in, square_config, shot, width
):
    page = logged_in
    _jobs(square_config)
    page.set_viewport_size({"width": width, "height": 860})
    page.reload()
    page.get_by_role("button", name="Manage Square").click()
    drawer = page.locator("#drawer")
    jobs = drawer.locator("#recent-jobs")
    expect(jobs).to_contain_text("Catalog sync")
    expect(jobs).to_contain_text("Sales sync")
    expect(jobs).not_to_contain_text("square.")
    expect(drawer).to_contain_text("Connection healthy")

    # Five messages at once (as ten syncs ending together would bring).
    for n in range(5):
        page.evaluate(
            """(n) => document.body.dispatchEvent(new CustomEvent("sous:toast", {detail:
                {message: `Catalog synced: 312 items (${n})`, level: "success"}}))""",
            n,
        )
    expect(page.locator(".toast")).to_have_count(4 if width > 640 else 2)  # the newest few
    danger = drawer.get_by_role("button", name="Disconnect & Delete Credentials")
    drawer.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")  # as far down as it goes
    assert not _covered_by_toast(page, danger), "the toasts cover the Danger zone"
    shot(page, f"drawer-{width}")


def test_a_long_connected_as_email_stays_inside_its_card(logged_in, make_connection, org, shot):
    page = logged_in
    make_connection(
        org,
        "google",
        account_id="google-user-7",
        name="maria.fernanda.lopez-garcia@restaurant-group-holdings.example",
        email="maria.fernanda.lopez-garcia@restaurant-group-holdings.example",
    )
    page.reload()
    card = page.locator("#card-google")
    expect(card).to_contain_text("Connected as")
    overflow = card.evaluate(
        "(el) => [...el.querySelectorAll('*')].some((c) => c.scrollWidth > el.clientWidth)"
    )
    assert not overflow, "text runs out of the card"
    shot(page, "long-email")
