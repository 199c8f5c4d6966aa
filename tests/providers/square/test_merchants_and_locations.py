"""RetrieveMerchant and ListLocations (README §5)."""

from __future__ import annotations

from .support import error_of


def test_merchants_me_is_the_merchant_behind_the_token(square, token, first_merchant):
    body = square.get(token, "/v2/merchants/me").json()

    merchant = body["merchant"]
    assert merchant["id"] == first_merchant["id"]
    assert merchant["business_name"] == first_merchant["business_name"]
    assert merchant["country"] == "US"
    assert merchant["currency"] == "USD"
    assert merchant["status"] == "ACTIVE"
    assert merchant["main_location_id"] == first_merchant["main_location_id"]
    assert square.sandbox.counters()["square.merchants.get"] == 1


def test_a_merchant_can_be_read_by_its_id_but_not_another(square, token):
    first, second = square.merchants()[:2]

    mine = square.get(token, f"/v2/merchants/{first['id']}")
    theirs = square.get(token, f"/v2/merchants/{second['id']}")

    assert mine.json()["merchant"]["id"] == first["id"]
    assert theirs.status_code == 404
    assert error_of(theirs)["code"] == "NOT_FOUND"


def test_there_are_three_locations_in_three_time_zones_sorted_by_name(square, token):
    locations = square.get(token, "/v2/locations").json()["locations"]

    assert len(locations) == 3
    assert {loc["timezone"] for loc in locations} == {
        "America/New_York",
        "America/Los_Angeles",
        "America/Chicago",
    }
    names = [loc["name"] for loc in locations]
    assert names == sorted(names, key=str.casefold)
    assert all(loc["status"] == "ACTIVE" and loc["currency"] == "USD" for loc in locations)
    assert all(loc["business_hours"]["periods"] for loc in locations)
    assert square.sandbox.counters()["square.locations.list"] == 1


def test_each_merchant_sees_only_its_own_locations(square):
    first, second = square.merchants()[:2]
    token = square.tokens(merchant_id=second["id"])["access_token"]

    locations = square.get(token, "/v2/locations").json()["locations"]

    assert {loc["id"] for loc in locations} == {loc["id"] for loc in second["locations"]}
    assert not {loc["id"] for loc in locations} & {loc["id"] for loc in first["locations"]}


def test_the_location_count_follows_the_size(square):
    square.resize(locations=5)
    token = square.tokens()["access_token"]

    locations = square.get(token, "/v2/locations").json()["locations"]

    assert len(locations) == 5
    assert len({loc["timezone"] for loc in locations}) == 5


def test_a_single_location_can_be_retrieved(square, token, first_merchant):
    wanted = first_merchant["locations"][1]["id"]

    answer = square.get(token, f"/v2/locations/{wanted}")

    assert answer.json()["location"]["id"] == wanted
