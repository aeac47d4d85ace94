"""State rules (``sending-rules.md`` rule 7; issue 15, points 1 and 4): the reviewed table,
where a recipient is, and a property test against an independent wall-clock computation
across both 2026 US DST changes.

The independent computation below shares nothing with the code under test: its own copy
of a few rows of the table (as minutes of the day), its own area codes, and local wall
clocks computed from the fixed UTC offsets of 2026 (EST/EDT, CST/CDT, MST/MDT, PST/PDT,
and Arizona's MST all year) with the switch instants written out, not through zoneinfo.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from outreach.area_code_states import AREA_CODE_STATES
from outreach.identity.domain import DEFAULT_FALLBACK_TIME_ZONES
from outreach.sending.domain import WaitingReason
from outreach.sending.rules import QuietHours, RecipientPlace, recipient_allows, recipient_hold
from outreach.state_rules import (
    EFFECTIVE_DATE,
    SOURCES,
    STATE_HOURS,
    US_STATES,
    Hours,
    area_code_states,
    recipient_states,
    restricting,
    state_code,
    state_rules_allow,
)

ROOT = Path(__file__).resolve().parents[2]

# --- The table -------------------------------------------------------------------------------

# sending-rules.md, rule 7's seed table, as the spec prints it (minutes of the day; None: no
# marketing texts that day). Every row, so a change of the module's table must change this.
SPEC_TABLE: dict[str, tuple[tuple[int, int] | None, ...]] = {
    "AL": ((480, 1200), (480, 1200), None),
    "CT": ((540, 1200), (540, 1200), (540, 1200)),
    "FL": ((480, 1200), (480, 1200), (480, 1200)),
    "KY": ((600, 1260), (600, 1260), (600, 1260)),
    "LA": ((480, 1200), (480, 1200), None),
    "MD": ((480, 1200), (480, 1200), (480, 1200)),
    "MA": ((480, 1200), (480, 1200), (480, 1200)),
    "MI": ((540, 1260), (540, 1260), (540, 1260)),
    "MN": ((540, 1260), (540, 1260), (540, 1260)),
    "MS": ((480, 1200), (480, 1200), None),
    "NV": ((540, 1200), (540, 1200), (540, 1200)),
    "NJ": ((480, 1200), (480, 1200), (480, 1200)),
    "NM": ((540, 1260), (540, 1260), (540, 1260)),
    "OK": ((480, 1200), (480, 1200), (480, 1200)),
    "RI": ((540, 1080), (600, 1020), None),
    "TX": ((540, 1260), (540, 1260), (720, 1260)),
    "WA": ((480, 1200), (480, 1200), (480, 1200)),
}


def _minutes(hours: Hours | None) -> tuple[int, int] | None:
    if hours is None:
        return None
    return (
        hours.start.hour * 60 + hours.start.minute,
        hours.end.hour * 60 + hours.end.minute,
    )


def test_the_table_parses_to_the_specs_rows() -> None:
    parsed = {
        state: (_minutes(rule.weekdays), _minutes(rule.saturday), _minutes(rule.sunday))
        for state, rule in STATE_HOURS.items()
    }
    assert parsed == SPEC_TABLE
    assert all(rule.state == state for state, rule in STATE_HOURS.items())


def test_the_table_cites_its_sources_and_effective_date() -> None:
    assert EFFECTIVE_DATE.isoformat() == "2026-11-30"
    assert any("501.059" in source for source in SOURCES)  # Florida
    assert any("ch. 301-302" in source for source in SOURCES)  # Texas
    assert any("80.36.390" in source for source in SOURCES)  # Washington


def test_a_rule_knows_its_days() -> None:
    rhode_island = STATE_HOURS["RI"]
    # 2026-11-23 is a Monday, 28 a Saturday, 29 a Sunday.
    assert rhode_island.allows(datetime(2026, 11, 23, 9, 0))
    assert not rhode_island.allows(datetime(2026, 11, 23, 18, 0))  # the end is exclusive
    assert not rhode_island.allows(datetime(2026, 11, 28, 9, 30))  # Saturdays start at 10:00
    assert rhode_island.allows(datetime(2026, 11, 28, 16, 59))
    assert not rhode_island.allows(datetime(2026, 11, 29, 12, 0))  # never on Sunday


def test_hours_must_start_before_they_end() -> None:
    with pytest.raises(ValueError, match="start before"):
        Hours(time(20), time(8))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("fl", "FL"),
        ("FL", "FL"),
        (" tx ", "TX"),
        ("Florida", "FL"),
        ("new  york", "NY"),
        ("NEW YORK", "NY"),
        ("District of Columbia", "DC"),
        ("Washington, D.C.", "DC"),
        ("Puerto Rico", "PR"),
        ("Rhode-Island", "RI"),
        ("Ontario", None),
        ("Fla.", None),
        ("XX", None),
        ("", None),
        (None, None),
    ],
)
def test_state_code(text: str | None, code: str | None) -> None:
    assert state_code(text) == code


def test_every_code_names_a_state_and_its_name_gives_it_back() -> None:
    assert len(US_STATES) == 56  # 50 states, DC, 5 inhabited territories
    assert all(state_code(name) == code for code, name in US_STATES.items())


def test_area_code_states() -> None:
    assert area_code_states("+13055550123") == ("FL",)
    assert area_code_states("+17135550123") == ("TX",)
    assert area_code_states("+12015550123") == ("NJ", "NY")  # the geocoder places 201 in both
    assert area_code_states("+18005550199") == ()  # toll-free: no place
    assert area_code_states("+14165550123") == ()  # Toronto: not a US state
    assert area_code_states("+447400123456") == ()
    assert area_code_states("3055550123") == ()  # not E.164


def test_recipient_states_are_the_contacts_and_the_area_codes() -> None:
    assert recipient_states(None, "+13055550123") == ("FL",)
    assert recipient_states("FL", "+12125550123") == ("FL", "NY")
    assert recipient_states("tx", "+17135550123") == ("TX",)
    assert recipient_states("RI", "+18005550199") == ("RI",)
    assert recipient_states(None, "+18005550199") == ()


def test_only_states_with_a_row_restrict() -> None:
    assert restricting(("CA", "FL", "NY", "TX")) == (STATE_HOURS["FL"], STATE_HOURS["TX"])
    assert restricting(()) == ()
    # A state with no row adds nothing, whatever the hour.
    assert state_rules_allow(datetime(2026, 11, 29, 5, tzinfo=UTC), ("CA",), ("America/Denver",))


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        state_rules_allow(datetime(2026, 11, 23, 15), ("FL",), ("America/New_York",))


def _tool() -> ModuleType:
    # infra/tools is not a package: load the generator by its path, as make area-codes runs it.
    spec = importlib.util.spec_from_file_location(
        "area_code_states_tool", ROOT / "infra" / "tools" / "area_code_states.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_area_code_table_is_the_installed_geocoders() -> None:
    # A phonenumbers upgrade that moves an area code fails here: run make area-codes.
    recomputed = _tool().table()
    assert recomputed == dict(AREA_CODE_STATES)
    assert recomputed["305"] == ("FL",) and recomputed["401"] == ("RI",)
    assert "800" not in recomputed


# --- The independent wall clock --------------------------------------------------------------

# 2026 in the US: daylight time from 2026-03-08 02:00 standard time to 2026-11-01 02:00
# daylight time, local. Standard offsets in hours; Phoenix keeps MST all year.
STANDARD_OFFSET = {
    "America/New_York": -5,
    "America/Chicago": -6,
    "America/Denver": -7,
    "America/Phoenix": -7,
    "America/Los_Angeles": -8,
}
OBSERVES_DST = {"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"}
# The switch instants, in UTC, written out: 02:00 EST is 07:00 UTC, 02:00 EDT is 06:00 UTC...
SPRING_FORWARD_UTC = {
    "America/New_York": datetime(2026, 3, 8, 7, tzinfo=UTC),
    "America/Chicago": datetime(2026, 3, 8, 8, tzinfo=UTC),
    "America/Denver": datetime(2026, 3, 8, 9, tzinfo=UTC),
    "America/Los_Angeles": datetime(2026, 3, 8, 10, tzinfo=UTC),
}
FALL_BACK_UTC = {
    "America/New_York": datetime(2026, 11, 1, 6, tzinfo=UTC),
    "America/Chicago": datetime(2026, 11, 1, 7, tzinfo=UTC),
    "America/Denver": datetime(2026, 11, 1, 8, tzinfo=UTC),
    "America/Los_Angeles": datetime(2026, 11, 1, 9, tzinfo=UTC),
}


def wall_clock(instant: datetime, zone: str) -> tuple[int, int]:
    """``(weekday 0=Monday, minute of the day)`` at ``zone`` at a 2026 ``instant``."""
    offset = STANDARD_OFFSET[zone]
    if zone in OBSERVES_DST and SPRING_FORWARD_UTC[zone] <= instant < FALL_BACK_UTC[zone]:
        offset += 1
    local = instant.astimezone(UTC).replace(tzinfo=None) + timedelta(hours=offset)
    return local.weekday(), local.hour * 60 + local.minute


# A few rows of the table, copied as data (weekdays, Saturday, Sunday; minutes; None: none).
ROWS: dict[str, tuple[tuple[int, int] | None, ...]] = {
    "FL": ((8 * 60, 20 * 60),) * 3,
    "TX": ((9 * 60, 21 * 60), (9 * 60, 21 * 60), (12 * 60, 21 * 60)),
    "RI": ((9 * 60, 18 * 60), (10 * 60, 17 * 60), None),
    "AL": ((8 * 60, 20 * 60), (8 * 60, 20 * 60), None),
    "KY": ((10 * 60, 21 * 60),) * 3,
    "NV": ((9 * 60, 20 * 60),) * 3,
    "MN": ((9 * 60, 21 * 60),) * 3,
}
FEDERAL = (8 * 60, 21 * 60)  # quiet hours: the federal window, the organization's default


def independent_allows(instant: datetime, states: tuple[str, ...], zones: tuple[str, ...]) -> bool:
    """Quiet hours and every listed state's row at every zone's wall clock."""
    for zone in zones:
        weekday, minute = wall_clock(instant, zone)
        if not FEDERAL[0] <= minute < FEDERAL[1]:
            return False
        for state in states:
            if state not in ROWS:
                continue  # no row: the state adds nothing
            span = ROWS[state][0 if weekday < 5 else 1 if weekday == 5 else 2]
            if span is None or not span[0] <= minute < span[1]:
                return False
    return True


@dataclass(frozen=True)
class Recipient:
    """A recipient as the sender sees it, and where the test itself says it is."""

    phone: str
    timezone: str | None
    state: str | None
    zones: tuple[str, ...]  # the test's own answer
    states: tuple[str, ...]  # the test's own answer

    def place(self) -> RecipientPlace:
        return RecipientPlace.of(
            self.phone,
            timezone=self.timezone,
            state=self.state,
            fallback_zones=DEFAULT_FALLBACK_TIME_ZONES,
        )


EASTERN, CENTRAL, MOUNTAIN, PACIFIC = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)
FOUR_ZONES = (EASTERN, CENTRAL, MOUNTAIN, PACIFIC)
RECIPIENTS = (
    Recipient("+13055550123", None, None, (EASTERN,), ("FL",)),  # Miami
    Recipient("+17135550123", None, None, (CENTRAL,), ("TX",)),  # Houston
    Recipient("+14015550123", None, None, (EASTERN,), ("RI",)),  # Providence
    Recipient("+12055550123", None, None, (CENTRAL,), ("AL",)),  # Birmingham
    Recipient("+15025550123", None, None, (EASTERN,), ("KY",)),  # Louisville
    Recipient("+17025550123", None, None, (PACIFIC,), ("NV",)),  # Las Vegas
    Recipient("+16125550123", None, None, (CENTRAL,), ("MN",)),  # Minneapolis
    Recipient("+12125550123", None, None, (EASTERN,), ("NY",)),  # New York: no row
    Recipient("+16025550123", None, None, ("America/Phoenix",), ("AZ",)),  # no DST, no row
    Recipient("+12125550123", None, "FL", (EASTERN,), ("FL", "NY")),
    Recipient("+13105550123", None, "TX", (PACIFIC,), ("CA", "TX")),
    Recipient("+17135550123", None, "RI", (CENTRAL,), ("RI", "TX")),
    Recipient("+13055550123", PACIFIC, None, (PACIFIC,), ("FL",)),  # moved west
    Recipient("+16025550123", None, "NV", ("America/Phoenix",), ("AZ", "NV")),
    Recipient("+18005550199", None, None, FOUR_ZONES, ()),  # toll-free: the fallback zones
    Recipient("+18005550199", None, "TX", FOUR_ZONES, ("TX",)),
    Recipient("+18005550199", MOUNTAIN, "AL", (MOUNTAIN,), ("AL",)),
)
QUIET = QuietHours()


def test_the_recipients_places_are_the_tests_own() -> None:
    for recipient in RECIPIENTS:
        place = recipient.place()
        assert (place.zones, place.states) == (recipient.zones, recipient.states), recipient


def _every(first: datetime, last: datetime, step: timedelta) -> Iterator[datetime]:
    at = first
    while at < last:
        yield at
        at += step


# Every 15 minutes over four days around each 2026 US change, and every minute of the
# three hours around each zone's switch instant.
QUARTER = timedelta(minutes=15)
SWEEP = (
    *_every(datetime(2026, 3, 6, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC), QUARTER),
    *_every(datetime(2026, 10, 30, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC), QUARTER),
    *(
        switch + timedelta(minutes=offset)
        for switches in (SPRING_FORWARD_UTC, FALL_BACK_UTC)
        for switch in switches.values()
        for offset in range(-90, 91)
    ),
)


def test_a_sweep_across_both_dst_changes_agrees_with_the_wall_clock() -> None:
    allowed = refused = 0
    for instant in SWEEP:
        for recipient in RECIPIENTS:
            expected = independent_allows(instant, recipient.states, recipient.zones)
            assert recipient_allows(instant, QUIET, recipient.place()) is expected, (
                instant,
                recipient,
            )
            allowed, refused = allowed + expected, refused + (not expected)
    assert allowed > 1000 and refused > 1000  # both answers are exercised


def _near(switch_and_seconds: tuple[datetime, int]) -> datetime:
    switch, seconds = switch_and_seconds
    return switch + timedelta(seconds=seconds)


# Instants of 2026 at any second, and instants within two days of a US switch.
instants = st.one_of(
    st.datetimes(
        min_value=datetime(2026, 1, 2), max_value=datetime(2026, 12, 30), timezones=st.just(UTC)
    ),
    st.tuples(
        st.sampled_from([*SPRING_FORWARD_UTC.values(), *FALL_BACK_UTC.values()]),
        st.integers(-48 * 3600, 48 * 3600),
    ).map(_near),
)
some_states = st.lists(st.sampled_from([*ROWS, "NY", "CA"]), max_size=3, unique=True).map(tuple)
some_zones = st.lists(
    st.sampled_from(sorted(STANDARD_OFFSET)), min_size=1, max_size=3, unique=True
).map(tuple)


@settings(max_examples=400, deadline=None)
@given(instant=instants, recipient=st.sampled_from(RECIPIENTS))
def test_recipient_allows_agrees_with_the_wall_clock(
    instant: datetime, recipient: Recipient
) -> None:
    allowed = recipient_allows(instant, QUIET, recipient.place())
    event("allowed" if allowed else "refused")
    assert allowed == independent_allows(instant, recipient.states, recipient.zones)


@settings(max_examples=400, deadline=None)
@given(instant=instants, states=some_states, zones=some_zones)
def test_state_rules_allow_agrees_with_the_wall_clock(
    instant: datetime, states: tuple[str, ...], zones: tuple[str, ...]
) -> None:
    # The states' rows alone, in every zone (the quiet hours are the tests' above).
    expected = all(_state_allows(instant, state, zones) for state in states)
    assert state_rules_allow(instant, states, zones) == expected


def _state_allows(instant: datetime, state: str, zones: tuple[str, ...]) -> bool:
    if state not in ROWS:
        return True
    for zone in zones:
        weekday, minute = wall_clock(instant, zone)
        span = ROWS[state][0 if weekday < 5 else 1 if weekday == 5 else 2]
        if span is None or not span[0] <= minute < span[1]:
            return False
    return True


def test_the_hold_names_quiet_hours_before_a_state_rule() -> None:
    houston = RecipientPlace.of(
        "+17135550123", timezone=None, state=None, fallback_zones=DEFAULT_FALLBACK_TIME_ZONES
    )
    sunday = datetime(2026, 11, 29, tzinfo=UTC)  # Sunday; Houston is UTC-6
    assert recipient_hold(sunday + timedelta(hours=13), QUIET, houston) is WaitingReason.QUIET_HOURS
    assert recipient_hold(sunday + timedelta(hours=16), QUIET, houston) is WaitingReason.STATE_RULE
    assert recipient_hold(sunday + timedelta(hours=18, minutes=30), QUIET, houston) is None
