"""Which locations a connection reads: a location Sous has not met is new and left out until
staff include it; a connection that never recorded its locations keeps reading them all."""

from providers import locations
from providers.records.locations import LocationRecord

HARBOUR = LocationRecord("L1", "Harbour", "America/New_York")
MARKET = LocationRecord("L2", "Market Hall", "America/Chicago")


def test_a_connection_that_never_recorded_its_locations_reads_every_one():
    assert locations.included({}, "L1")
    assert not locations.is_new({}, "L1")
    assert not locations.included({"excluded_locations": ["L1"]}, "L1")


def test_its_first_look_takes_what_is_listed_as_known_and_included():
    result = locations.remember({"cutoffs": {"L1": "04:00"}}, [HARBOUR, MARKET])

    assert result.added == () and result.changed == ()
    assert result.settings == {
        "cutoffs": {"L1": "04:00"},
        "locations": {
            "L1": {"name": "Harbour", "timezone": "America/New_York"},
            "L2": {"name": "Market Hall", "timezone": "America/Chicago"},
        },
    }
    assert locations.included(result.settings, "L2")


def test_a_location_announced_as_created_is_new_even_at_the_first_look():
    announced = LocationRecord("L2", "Market Hall", "America/Chicago", announced=True)

    result = locations.remember({}, [HARBOUR, announced])

    assert result.added == (announced,)
    assert locations.included(result.settings, "L1")
    assert not locations.included(result.settings, "L2")
    assert locations.is_new(result.settings, "L2")


def test_a_location_met_later_is_new_and_excluded_until_staff_include_it():
    known = locations.remember({}, [HARBOUR]).settings
    assert not locations.included(known, "L2") and locations.is_new(known, "L2")

    result = locations.remember(known, [HARBOUR, MARKET])

    assert result.added == (MARKET,)
    assert result.settings["excluded_locations"] == ["L2"]
    assert result.settings["new_locations"] == ["L2"]
    assert not locations.included(result.settings, "L2")
    # Met again: nothing new to say.
    again = locations.remember(result.settings, [HARBOUR, MARKET])
    assert again.added == () and again.settings == result.settings


def test_a_renamed_or_moved_location_is_updated_and_keeps_its_choice():
    known = locations.remember({"excluded_locations": ["L1"]}, [HARBOUR]).settings
    moved = LocationRecord("L1", "Harbour Room", "America/Chicago")

    result = locations.remember(known, [moved])

    assert result.changed == (moved,) and result.added == ()
    assert result.settings["locations"]["L1"] == {
        "name": "Harbour Room",
        "timezone": "America/Chicago",
    }
    assert result.settings["excluded_locations"] == ["L1"]


def test_a_location_no_longer_listed_stays_known():
    known = locations.remember({}, [HARBOUR, MARKET]).settings

    assert set(locations.remember(known, [HARBOUR]).settings["locations"]) == {"L1", "L2"}
