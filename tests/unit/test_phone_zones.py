from collections.abc import Iterator

import phonenumbers.timezone
import pytest

from outreach.phone_zones import contact_zone, pinned_zones, zones_for_number
from outreach.timezones import is_timezone

BOSTON = "+16175550123"
LOS_ANGELES = "+13105550123"
# Area code 208 covers Idaho, whose south is on Mountain time and whose panhandle is on
# Pacific time: libphonenumber cannot tell which from the number.
IDAHO = "+12085550123"
TOLL_FREE = "+18005550123"
UK_MOBILE = "+447911123456"
# 999 is not an assigned area code.
UNASSIGNED = "+19995550123"


@pytest.fixture(autouse=True)
def fresh_zone_cache() -> Iterator[None]:
    zones_for_number.cache_clear()
    pinned_zones.cache_clear()
    yield
    zones_for_number.cache_clear()
    pinned_zones.cache_clear()


def test_a_boston_number_is_only_in_new_york_time() -> None:
    assert zones_for_number(BOSTON) == ("America/New_York",)


def test_a_los_angeles_number_is_only_in_pacific_time() -> None:
    assert zones_for_number(LOS_ANGELES) == ("America/Los_Angeles",)


def test_an_area_code_straddling_a_zone_line_has_both_zones() -> None:
    assert zones_for_number(IDAHO) == ("America/Boise", "America/Los_Angeles")


def test_a_toll_free_number_can_be_anywhere_in_the_numbering_plan() -> None:
    zones = zones_for_number(TOLL_FREE)
    assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu"} <= set(zones)
    assert {"America/Anchorage", "America/Phoenix", "Pacific/Guam"} <= set(zones)
    assert list(zones) == sorted(set(zones))
    assert all(is_timezone(name) for name in zones)


def test_a_uk_mobile_number_has_the_crown_dependencies_too() -> None:
    assert zones_for_number(UK_MOBILE) == (
        "Europe/Guernsey",
        "Europe/Isle_of_Man",
        "Europe/Jersey",
        "Europe/London",
    )


@pytest.mark.parametrize("text", [UNASSIGNED, "+80012345678", "6175550123", "not a number", ""])
def test_a_number_libphonenumber_cannot_place_has_no_zone(text: str) -> None:
    assert zones_for_number(text) == ()


def test_zones_are_deduplicated_sorted_and_limited_to_zones_python_knows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answer = ("America/New_York", "Mars/Olympus_Mons", "America/Chicago", "America/New_York")
    monkeypatch.setattr(phonenumbers.timezone, "time_zones_for_number", lambda _number: answer)
    assert zones_for_number(BOSTON) == ("America/Chicago", "America/New_York")


def test_unknown_is_never_reported_as_a_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        phonenumbers.timezone, "time_zones_for_number", lambda _number: ("Etc/Unknown",)
    )
    assert zones_for_number(BOSTON) == ()


def test_answers_are_cached_per_number() -> None:
    zones_for_number(BOSTON)
    zones_for_number(BOSTON)
    info = zones_for_number.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    assert info.maxsize is not None
    assert info.maxsize >= 1000


def test_a_contacts_own_zone_wins_over_the_numbers() -> None:
    assert contact_zone("Europe/London", BOSTON) == "Europe/London"
    assert contact_zone("America/Chicago", TOLL_FREE) == "America/Chicago"


def test_without_its_own_zone_a_contact_takes_the_numbers_only_zone() -> None:
    assert contact_zone(None, BOSTON) == "America/New_York"
    assert contact_zone("", LOS_ANGELES) == "America/Los_Angeles"


@pytest.mark.parametrize("phone", [IDAHO, TOLL_FREE, UNASSIGNED])
def test_without_its_own_zone_a_contact_with_no_single_number_zone_has_none(phone: str) -> None:
    assert contact_zone(None, phone) is None


# --- Pinned zones (sending-rules.md rule 8; issue 15, point 4) -------------------------------


def test_a_geographic_number_is_pinned_to_its_zone() -> None:
    assert pinned_zones(BOSTON) == ("America/New_York",)
    assert pinned_zones("+13055550123") == ("America/New_York",)  # Miami


def test_an_area_code_straddling_a_zone_line_is_pinned_to_both_zones() -> None:
    # A place libphonenumber names: the every-zone rule of rule 3 holds.
    assert pinned_zones(IDAHO) == ("America/Boise", "America/Los_Angeles")


def test_a_toll_free_number_is_pinned_nowhere() -> None:
    assert len(zones_for_number(TOLL_FREE)) > 40
    assert pinned_zones(TOLL_FREE) == ()
    assert pinned_zones("+18885550199") == ()


def test_a_uk_mobile_number_is_pinned_to_its_one_clock() -> None:
    # London, Guernsey, Jersey and Man keep the same time all year.
    assert pinned_zones(UK_MOBILE) == zones_for_number(UK_MOBILE)
    assert "Europe/London" in pinned_zones(UK_MOBILE)


@pytest.mark.parametrize("text", [UNASSIGNED, "not a number", ""])
def test_a_number_libphonenumber_cannot_place_is_pinned_nowhere(text: str) -> None:
    assert pinned_zones(text) == ()
