"""Sync Catalog against the local Square: a full first run, then incremental runs."""

from __future__ import annotations

import pytest

from integrations.models import SyncJob
from sous.catalog.models import (
    Category,
    Discount,
    Item,
    ItemCategory,
    ItemModifierList,
    ItemVariation,
    Modifier,
    ModifierList,
)
from sous.catalog.signals import catalog_changed
from tests.integrations.square_sync import (
    merchant_fixture,  # noqa: F401
    resize,
    run_inline,
    square_config_fixture,  # noqa: F401
    start,
)
from tests.integrations.test_token_secrecy import GroupListener

pytestmark = pytest.mark.django_db


def _search_all(sandbox, types):
    """Every live catalog object of these types, straight from the sandbox's store."""
    half = sandbox.half("square")
    store = half.state.catalogs[0]
    return [o for o in store.iter_objects(frozenset(types), include_deleted=False)]


def _control(sandbox, method, path, **kwargs):
    return sandbox.control(method, f"square/catalog/objects{path}", **kwargs)["object"]


def test_the_first_run_imports_the_whole_catalog_with_its_relations(
    square_config, product_on_sandbox, org
):
    job = run_inline(start(square_config, "catalog"))

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert job.summary == "Catalog synced: 60 items, 14 categories, 8 modifier lists"
    assert Item.objects.filter(organization=org, source="square").count() == 60
    assert Category.objects.filter(organization=org).count() == 14
    assert ModifierList.objects.filter(organization=org).count() == 8
    assert Discount.objects.filter(organization=org).count() == 4
    assert ItemVariation.objects.filter(organization=org).count() == 120

    # Field by field, every object matches what Square holds.
    square_items = {o["id"]: o for o in _search_all(product_on_sandbox, {"ITEM"})}
    image_urls = {
        o["id"]: o["image_data"]["url"] for o in _search_all(product_on_sandbox, {"IMAGE"})
    }
    assert Item.objects.filter(organization=org).exclude(image_url="").count() == 20
    for item in Item.objects.filter(organization=org).prefetch_related(
        "variations", "category_links__category", "modifier_list_links__modifier_list"
    ):
        data = square_items[item.external_id]["item_data"]
        assert item.name == data["name"]
        assert item.image_url == (image_urls[data["image_ids"][0]] if "image_ids" in data else "")
        assert item.description == data["description_plaintext"]
        assert item.version == square_items[item.external_id]["version"]
        assert {
            v.external_id: (v.name, v.sku, v.price, v.currency) for v in item.variations.all()
        } == {
            v["id"]: (
                v["item_variation_data"]["name"],
                v["item_variation_data"]["sku"],
                v["item_variation_data"]["price_money"]["amount"],
                "USD",
            )
            for v in data["variations"]
        }
        assert [link.category.external_id for link in item.category_links.all()] == [
            c["id"] for c in data["categories"]
        ]
        assert {
            (link.modifier_list.external_id, link.min_selected, link.max_selected)
            for link in item.modifier_list_links.all()
        } == {
            (
                info["modifier_list_id"],
                info["min_selected_modifiers"],
                info["max_selected_modifiers"] or None,
            )
            for info in data["modifier_list_info"]
        }
    temperature = ModifierList.objects.get(organization=org, name="Temperature")
    assert (temperature.min_selected, temperature.max_selected) == (1, 1)
    addons = ModifierList.objects.get(organization=org, name="Add-ons")
    assert (addons.min_selected, addons.max_selected) == (0, 3)
    bacon = Modifier.objects.get(modifier_list=addons, name="Applewood Bacon")
    assert bacon.price > 0 and bacon.currency == "USD"
    happy = Discount.objects.get(organization=org, name="Happy Hour")
    assert (happy.discount_type, happy.percentage) == ("FIXED_PERCENTAGE", "20.0")
    loyalty = Discount.objects.get(organization=org, name="Loyalty Reward")
    assert (loyalty.amount, loyalty.currency) == (500, "USD")
    # No placeholder is left behind: every linked category and list is a real one.
    assert not Category.objects.filter(version=0).exists()
    assert not ModifierList.objects.filter(version=0).exists()


def test_a_catalog_larger_than_a_page_comes_in_pages_of_a_thousand(
    square_config, product_on_sandbox, org
):
    resize(product_on_sandbox, items=2500, categories=30)
    before = product_on_sandbox.counters().get("square.catalog.search", 0)

    job = run_inline(start(square_config, "catalog"))

    assert job.summary == "Catalog synced: 2,500 items, 30 categories, 8 modifier lists"
    assert Item.objects.filter(organization=org).count() == 2500
    assert ItemVariation.objects.filter(organization=org).count() == 5000
    assert ItemCategory.objects.filter(item__organization=org).count() == 2500
    # One page for the small types, three for 2,500 items: never ListCatalog's 100 a page.
    assert product_on_sandbox.counters()["square.catalog.search"] - before == 4
    assert product_on_sandbox.counters().get("square.catalog.list", 0) == 0


def test_a_rerun_with_nothing_changed_writes_nothing(square_config, product_on_sandbox, org):
    run_inline(start(square_config, "catalog"))
    stamps = dict(Item.objects.values_list("external_id", "last_changed_at"))

    # A full re-read (as after a reconnect) finds every row unchanged.
    square_config.refresh_from_db()
    square_config.cursors = {}
    square_config.save(update_fields=["cursors"])
    job = run_inline(start(square_config, "catalog"))

    assert job.status == SyncJob.Status.SUCCEEDED
    assert job.counts["created"] == job.counts["updated"] == 0
    assert job.counts["unchanged"] > 80
    assert dict(Item.objects.values_list("external_id", "last_changed_at")) == stamps


def test_a_begin_time_square_refuses_starts_the_sync_over_as_a_full_one(
    square_config, product_on_sandbox, org
):
    run_inline(start(square_config, "catalog"))
    square_config.refresh_from_db()
    square_config.cursors = {"square.catalog": {"latest_time": "last Tuesday"}}
    square_config.save(update_fields=["cursors"])
    searches = product_on_sandbox.counters()["square.catalog.search"]
    page = GroupListener(org.id)

    job = run_inline(start(square_config, "catalog"))

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    assert job.summary == "Catalog synced: 60 items, 14 categories, 8 modifier lists"
    # The refused request, then the two passes of a full run (no deletions pass).
    assert product_on_sandbox.counters()["square.catalog.search"] - searches == 3
    notes = [m for m in page.drain() if "Square no longer accepts where the last sync" in m]
    assert notes, "the bar did not say why the sync starts over"
    square_config.refresh_from_db()
    assert square_config.cursors["square.catalog"]["latest_time"].endswith("Z")


def test_later_runs_only_read_what_changed_and_mark_deletions(
    square_config, product_on_sandbox, org, django_capture_on_commit_callbacks
):
    run_inline(start(square_config, "catalog"))
    square_config.refresh_from_db()
    assert square_config.cursors["square.catalog"]["latest_time"]
    items = {i.name: i for i in Item.objects.filter(organization=org)}
    burger = items["Classic Cheeseburger"]
    caesar = items["Caesar Salad"]
    untouched = items["Margherita Pizza"]
    untouched_stamp = untouched.last_changed_at

    # In Square: a new item, a renamed item with a repriced variation, a deleted item, a
    # deleted variation on its own, and a deleted category.
    added = _control(
        product_on_sandbox,
        "POST",
        "",
        json={
            "object": {
                "type": "ITEM",
                "id": "#new",
                "item_data": {
                    "name": "Smash Burger Deluxe",
                    "categories": [{"id": burger.category_links.first().category.external_id}],
                    "variations": [
                        {
                            "id": "#v1",
                            "type": "ITEM_VARIATION",
                            "item_variation_data": {
                                "name": "Regular",
                                "price_money": {"amount": 1995, "currency": "USD"},
                            },
                        }
                    ],
                },
            }
        },
    )
    variation = burger.variations.order_by("ordinal").first()
    _control(
        product_on_sandbox,
        "PATCH",
        f"/{burger.external_id}",
        json={"item_data": {"name": "Cheeseburger"}},
    )
    _control(
        product_on_sandbox,
        "PATCH",
        f"/{variation.external_id}",
        json={"item_variation_data": {"price_money": {"amount": 1795, "currency": "USD"}}},
    )
    _control(product_on_sandbox, "DELETE", f"/{caesar.external_id}")
    lone = items["Greek Salad"].variations.order_by("ordinal").last()
    _control(product_on_sandbox, "DELETE", f"/{lone.external_id}")
    desserts = Category.objects.get(organization=org, name="Desserts")
    _control(product_on_sandbox, "DELETE", f"/{desserts.external_id}")
    searches = product_on_sandbox.counters()["square.catalog.search"]

    seen = []
    catalog_changed.connect(lambda **kw: seen.append(kw["changed"]), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = run_inline(start(square_config, "catalog"))
    finally:
        catalog_changed.disconnect(dispatch_uid="t")

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    # Three passes (structure, items, lone deletions), one page each: only the changes.
    assert product_on_sandbox.counters()["square.catalog.search"] - searches == 3
    new = Item.objects.get(organization=org, external_id=added["id"])
    assert new.name == "Smash Burger Deluxe"
    assert new.variations.get().price == 1995
    assert list(new.categories.values_list("external_id", flat=True)) == [
        burger.category_links.first().category.external_id
    ]
    burger.refresh_from_db()
    variation.refresh_from_db()
    assert burger.name == "Cheeseburger"
    assert variation.price == 1795
    caesar.refresh_from_db()
    assert caesar.is_deleted and caesar.deleted_at is not None
    assert all(v.is_deleted for v in caesar.variations.all())
    lone.refresh_from_db()
    assert lone.is_deleted
    desserts.refresh_from_db()
    assert desserts.is_deleted
    untouched.refresh_from_db()
    assert untouched.last_changed_at == untouched_stamp
    # Kept, never removed.
    assert Item.objects.filter(organization=org).count() == 61
    changed_items = {pk for page in seen for pk in page.get("items", [])}
    assert {new.pk, burger.pk, caesar.pk} <= changed_items
    assert untouched.pk not in changed_items


def test_a_deleted_modifier_and_changed_limits_reach_sous(square_config, product_on_sandbox, org):
    run_inline(start(square_config, "catalog"))
    addons = ModifierList.objects.get(organization=org, name="Add-ons")
    egg = Modifier.objects.get(modifier_list=addons, name="Fried Egg")
    _control(
        product_on_sandbox,
        "PATCH",
        f"/{addons.external_id}",
        json={"modifier_list_data": {"max_selected_modifiers": 2}},
    )
    _control(product_on_sandbox, "DELETE", f"/{egg.external_id}")

    run_inline(start(square_config, "catalog"))

    addons.refresh_from_db()
    egg.refresh_from_db()
    assert addons.max_selected == 2
    assert egg.is_deleted
    assert addons.modifiers.filter(is_deleted=False).count() == 4
    assert ItemModifierList.objects.filter(modifier_list=addons).exists()


def test_a_new_photo_reaches_the_items_that_show_it(square_config, product_on_sandbox, org):
    run_inline(start(square_config, "catalog"))
    pictured = Item.objects.filter(organization=org).exclude(image_url="").first()
    image_id = pictured.image_external_id
    new_url = "https://items-images-production.s3.us-west-2.amazonaws.com/files/new/original.jpeg"

    _control(product_on_sandbox, "PATCH", f"/{image_id}", json={"image_data": {"url": new_url}})
    job = run_inline(start(square_config, "catalog"))

    assert job.status == SyncJob.Status.SUCCEEDED, job.error_detail
    pictured.refresh_from_db()
    assert pictured.image_url == new_url
    assert Item.objects.filter(organization=org, image_url=new_url).count() == 1
