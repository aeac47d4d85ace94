"""The time rules: campaign dates, the campaign's send window, the recipient's quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from outreach.identity.domain import DEFAULT_FALLBACK_TIME_ZONES
from outreach.phone_zones import zones_for_number
from outreach.sending import rules
from outreach.sending.domain import WaitingReason

NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"
PACIFIC_NUMBER = "+13105550123"
BOSTON_NUMBER = "+16175550123"
# Idaho's area code spans Mountain (Boise) and Pacific time.
IDAHO_NUMBER = "+12085550123"
TOLL_FREE_NUMBER = "+18005550123"
UNASSIGNED_NUMBER = "+19995550123"
UK_MOBILE_NUMBER = "+447400123456"
# An organization's fallback_time_zones (rule 8): here two zones, not the default four.
FALLBACK = (NEW_YORK, LOS_ANGELES)

WEEKDAYS = frozenset({"mon", "tue", "wed", "thu", "fri"})
EVERY_DAY = WEEKDAYS | {"sat", "sun"}
# The product's default: Mon-Fri 09:00-18:00 Eastern, quiet hours 08:00-21:00.
OFFICE_HOURS = rules.SendWindow(NEW_YORK, time(9), time(18), WEEKDAYS)
FEDERAL = rules.QuietHours()
ALL_DAY = time(0), time(23, 59)


def utc(year: int, month: int, day: int, *clock: int) -> datetime:
    """``utc(2026, 1, 12, 14)``: an instant given by its UTC wall clock."""
    hour, minute, second = (*clock, 0, 0, 0)[:3]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def window(zone: str, start: time, end: time, days: frozenset[str] = EVERY_DAY) -> rules.SendWindow:
    return rules.SendWindow(zone, start, end, days)


# 2026-01-12 and 2026-07-13 are Mondays; New York is UTC-5 on the first, UTC-4 on the second.
WINTER_MONDAY_9AM_EASTERN = utc(2026, 1, 12, 14)
SUMMER_MONDAY_9AM_EASTERN = utc(2026, 7, 13, 13)


class TestCampaignWindow:
    def test_a_monday_9am_in_new_york_is_14h_utc_in_winter(self) -> None:
        assert rules.campaign_window_allows(WINTER_MONDAY_9AM_EASTERN, OFFICE_HOURS)
        assert not rules.campaign_window_allows(
            WINTER_MONDAY_9AM_EASTERN - timedelta(microseconds=1), OFFICE_HOURS
        )

    def test_a_monday_9am_in_new_york_is_13h_utc_in_summer(self) -> None:
        assert rules.campaign_window_allows(SUMMER_MONDAY_9AM_EASTERN, OFFICE_HOURS)
        assert not rules.campaign_window_allows(
            SUMMER_MONDAY_9AM_EASTERN - timedelta(microseconds=1), OFFICE_HOURS
        )

    def test_the_end_is_exclusive(self) -> None:
        six_pm = utc(2026, 1, 12, 23)
        assert rules.campaign_window_allows(six_pm - timedelta(microseconds=1), OFFICE_HOURS)
        assert not rules.campaign_window_allows(six_pm, OFFICE_HOURS)

    def test_the_day_is_the_campaigns_day_not_utcs(self) -> None:
        mondays_only = window(NEW_YORK, *ALL_DAY, frozenset({"mon"}))
        # Monday 03:00 UTC is still Sunday 22:00 in New York.
        assert not rules.campaign_window_allows(utc(2026, 1, 12, 3), mondays_only)
        assert rules.campaign_window_allows(utc(2026, 1, 12, 5), mondays_only)
        # Saturday 02:00 UTC is Friday 21:00 in New York.
        friday_evening = window(NEW_YORK, time(20), time(23), frozenset({"fri"}))
        assert rules.campaign_window_allows(utc(2026, 1, 17, 2), friday_evening)

    def test_a_weekend_is_outside_a_weekday_window(self) -> None:
        assert not rules.campaign_window_allows(utc(2026, 1, 17, 15), OFFICE_HOURS)

    def test_a_half_hour_zone(self) -> None:
        kolkata = window("Asia/Kolkata", time(9), time(18), WEEKDAYS)
        assert rules.campaign_window_allows(utc(2026, 1, 12, 3, 30), kolkata)
        assert not rules.campaign_window_allows(utc(2026, 1, 12, 3, 29), kolkata)

    def test_a_window_is_built_from_stored_text(self) -> None:
        built = rules.SendWindow.from_hhmm(
            NEW_YORK, "09:00", "18:00", ["mon", "tue", "wed", "thu", "fri"]
        )
        assert built == OFFICE_HOURS

    @pytest.mark.parametrize(
        ("start", "end", "days", "zone", "message"),
        [
            (time(18), time(9), WEEKDAYS, NEW_YORK, "before its end"),
            (time(9), time(9), WEEKDAYS, NEW_YORK, "before its end"),
            (time(9), time(18), frozenset({"monday"}), NEW_YORK, "unknown day"),
            (time(9), time(18), WEEKDAYS, "Eastern", "unknown time zone"),
            (time(9, tzinfo=UTC), time(18), WEEKDAYS, NEW_YORK, "no tzinfo"),
        ],
    )
    def test_an_impossible_window_is_refused(
        self, start: time, end: time, days: frozenset[str], zone: str, message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            rules.SendWindow(zone, start, end, days)


class TestQuietHours:
    def test_the_default_is_the_federal_8am_to_9pm(self) -> None:
        assert rules.QuietHours() == rules.QuietHours(time(8), time(21))
        assert rules.QuietHours.from_hhmm("07:30", "20:00") == rules.QuietHours(
            time(7, 30), time(20)
        )

    def test_the_start_is_inclusive_and_the_end_exclusive_in_the_recipients_zone(self) -> None:
        pacific = [LOS_ANGELES]
        assert not rules.quiet_hours_allow(utc(2026, 1, 12, 15, 59, 59), FEDERAL, pacific)
        assert rules.quiet_hours_allow(utc(2026, 1, 12, 16), FEDERAL, pacific)
        assert rules.quiet_hours_allow(utc(2026, 1, 13, 4, 59, 59), FEDERAL, pacific)
        assert not rules.quiet_hours_allow(utc(2026, 1, 13, 5), FEDERAL, pacific)

    def test_a_number_in_several_zones_is_allowed_only_when_all_of_them_are(self) -> None:
        idaho = zones_for_number(IDAHO_NUMBER)
        assert idaho == ("America/Boise", LOS_ANGELES)
        # 08:30 in Boise but 07:30 in Los Angeles.
        assert not rules.quiet_hours_allow(utc(2026, 1, 12, 15, 30), FEDERAL, idaho)
        assert rules.quiet_hours_allow(utc(2026, 1, 12, 16), FEDERAL, idaho)
        # 20:59 in Los Angeles but 21:59 in Boise.
        assert not rules.quiet_hours_allow(utc(2026, 1, 13, 4, 59), FEDERAL, idaho)
        assert rules.quiet_hours_allow(utc(2026, 1, 13, 3, 59), FEDERAL, idaho)

    def test_a_string_is_not_a_list_of_zones(self) -> None:
        with pytest.raises(TypeError):
            rules.quiet_hours_allow(WINTER_MONDAY_9AM_EASTERN, FEDERAL, NEW_YORK)

    def test_no_zone_at_all_is_refused_rather_than_allowing_every_hour(self) -> None:
        with pytest.raises(ValueError, match="at least one zone"):
            rules.quiet_hours_allow(WINTER_MONDAY_9AM_EASTERN, FEDERAL, [])

    def test_an_empty_allowance_is_refused(self) -> None:
        with pytest.raises(ValueError, match="before its end"):
            rules.QuietHours(time(21), time(8))


class TestRecipientZones:
    """Rules 3 and 8 (issue 15, point 4): the contact's zone, else the place the number is
    pinned to, else the organization's ``fallback_time_zones``."""

    def test_the_contacts_own_zone_wins(self) -> None:
        assert rules.recipient_zones("Europe/London", BOSTON_NUMBER, FALLBACK) == ("Europe/London",)
        # Over a toll-free number's fallback too.
        assert rules.recipient_zones("America/Chicago", TOLL_FREE_NUMBER, FALLBACK) == (
            "America/Chicago",
        )

    def test_else_every_zone_the_number_can_be_in(self) -> None:
        assert rules.recipient_zones(None, PACIFIC_NUMBER, FALLBACK) == (LOS_ANGELES,)
        assert rules.recipient_zones("", IDAHO_NUMBER, FALLBACK) == ("America/Boise", LOS_ANGELES)

    def test_else_the_fallback(self) -> None:
        # Issue 15 changed the fallback from the organization's one zone to its
        # fallback_time_zones (rule 8).
        assert rules.recipient_zones(None, UNASSIGNED_NUMBER, ("America/Chicago",)) == (
            "America/Chicago",
        )
        assert rules.recipient_zones(None, UNASSIGNED_NUMBER, FALLBACK) == FALLBACK

    def test_a_toll_free_number_takes_the_default_fallback_not_its_42_zones(self) -> None:
        assert len(zones_for_number(TOLL_FREE_NUMBER)) > 40  # Guam to Pago Pago
        assert rules.recipient_zones(None, TOLL_FREE_NUMBER, DEFAULT_FALLBACK_TIME_ZONES) == (
            NEW_YORK,
            "America/Chicago",
            "America/Denver",
            LOS_ANGELES,
        )

    def test_a_toll_free_number_takes_the_organizations_own_fallback(self) -> None:
        hawaii_and_alaska = ("Pacific/Honolulu", "America/Anchorage")
        assert rules.recipient_zones(None, TOLL_FREE_NUMBER, hawaii_and_alaska) == (
            hawaii_and_alaska
        )

    def test_a_uk_mobile_keeps_london_time(self) -> None:
        # A non-geographic number whose zones all keep one clock is pinned to them.
        assert rules.recipient_zones(None, UK_MOBILE_NUMBER, FALLBACK) == (
            "Europe/Guernsey",
            "Europe/Isle_of_Man",
            "Europe/Jersey",
            "Europe/London",
        )

    def test_an_area_code_spanning_two_zones_keeps_the_every_zone_rule(self) -> None:
        assert rules.recipient_zones(None, IDAHO_NUMBER, DEFAULT_FALLBACK_TIME_ZONES) == (
            "America/Boise",
            LOS_ANGELES,
        )

    def test_a_contact_zone_python_does_not_know_is_ignored(self) -> None:
        assert rules.recipient_zones("Mars/Olympus_Mons", PACIFIC_NUMBER, FALLBACK) == (
            LOS_ANGELES,
        )


class TestRecipientPlace:
    def test_a_place_has_the_zones_and_the_states(self) -> None:
        miami = rules.RecipientPlace.of(
            "+13055550123", timezone=None, state=None, fallback_zones=FALLBACK
        )
        assert miami == rules.RecipientPlace((NEW_YORK,), ("FL",))
        moved = rules.RecipientPlace.of(
            "+12125550123", timezone=LOS_ANGELES, state="fl", fallback_zones=FALLBACK
        )
        assert moved == rules.RecipientPlace((LOS_ANGELES,), ("FL", "NY"))
        toll_free = rules.RecipientPlace.of(
            TOLL_FREE_NUMBER, timezone=None, state=None, fallback_zones=FALLBACK
        )
        assert toll_free == rules.RecipientPlace(FALLBACK, ())

    def test_quiet_hours_hold_first_then_the_states_rule(self) -> None:
        miami = rules.RecipientPlace((NEW_YORK,), ("FL",))
        # Monday 23 November 2026 (Miami is UTC-5): 07:30, 19:30, 20:30, 21:30.
        assert rules.recipient_hold(utc(2026, 11, 23, 12, 30), FEDERAL, miami) is (
            WaitingReason.QUIET_HOURS
        )
        assert rules.recipient_hold(utc(2026, 11, 24, 0, 30), FEDERAL, miami) is None
        assert rules.recipient_hold(utc(2026, 11, 24, 1, 30), FEDERAL, miami) is (
            WaitingReason.STATE_RULE
        )
        assert rules.recipient_hold(utc(2026, 11, 24, 2, 30), FEDERAL, miami) is (
            WaitingReason.QUIET_HOURS
        )
        assert rules.recipient_allows(utc(2026, 11, 24, 0, 30), FEDERAL, miami)
        assert not rules.recipient_allows(utc(2026, 11, 24, 1, 30), FEDERAL, miami)


class TestCampaignDates:
    def test_start_is_inclusive_and_end_exclusive(self) -> None:
        start, end = utc(2026, 5, 1), utc(2026, 5, 2)
        assert not rules.within_dates(start - timedelta(microseconds=1), start, end)
        assert rules.within_dates(start, start, end)
        assert rules.within_dates(end - timedelta(microseconds=1), start, end)
        assert not rules.within_dates(end, start, end)

    def test_an_unset_bound_does_not_limit(self) -> None:
        assert rules.within_dates(utc(2026, 5, 1), None, None)
        assert rules.within_dates(utc(2030, 5, 1), utc(2026, 5, 1), None)
        assert rules.within_dates(utc(2020, 5, 1), None, utc(2026, 5, 1))

    def test_a_naive_instant_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            rules.within_dates(datetime(2026, 5, 1), None, None)


class TestPacificNumberFromEasternCampaign:
    """A 09:00-18:00 Eastern campaign does not text a Pacific number at 06:00."""

    zones = rules.recipient_zones(None, PACIFIC_NUMBER, FALLBACK)

    def test_9am_eastern_is_6am_pacific_and_not_allowed(self) -> None:
        now = WINTER_MONDAY_9AM_EASTERN
        assert rules.campaign_window_allows(now, OFFICE_HOURS)
        assert not rules.quiet_hours_allow(now, FEDERAL, self.zones)

    def test_11am_eastern_is_8am_pacific_and_allowed(self) -> None:
        now = utc(2026, 1, 12, 16)
        assert rules.campaign_window_allows(now, OFFICE_HOURS)
        assert rules.quiet_hours_allow(now, FEDERAL, self.zones)
        assert not rules.quiet_hours_allow(now - timedelta(microseconds=1), FEDERAL, self.zones)


class TestDaylightSavingChanges:
    """2026: the US springs forward on 8 March (02:00 -> 03:00), falls back on 1 November."""

    def test_the_day_after_spring_forward_9am_is_an_hour_earlier_in_utc(self) -> None:
        assert rules.campaign_window_allows(utc(2026, 3, 9, 13), OFFICE_HOURS)
        assert not rules.campaign_window_allows(utc(2026, 3, 6, 13), OFFICE_HOURS)

    def test_santiago_saturday_ends_at_its_own_midnight(self) -> None:
        # 5 April 2026, 03:00 UTC: Sunday 00:00 -03 becomes Saturday 23:00 -04.
        saturday_late = window("America/Santiago", time(23), time(23, 59), frozenset({"sat"}))
        assert not rules.campaign_window_allows(utc(2026, 4, 5, 2, 59, 30), saturday_late)
        assert rules.campaign_window_allows(utc(2026, 4, 5, 3), saturday_late)


# --- Property: the rules, as the sender applies them, agree with a naive wall-clock check ---

ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",  # no DST
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",  # no DST
    "America/St_Johns",  # -03:30, with DST
    "America/Santiago",  # changes at midnight
    "Europe/London",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # DST of 30 minutes
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Tokyo",
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DST_CHANGES_2026 = (
    utc(2026, 3, 8, 7),  # New York springs forward
    utc(2026, 11, 1, 6),  # New York falls back
    utc(2026, 3, 8, 10),  # Los Angeles springs forward
    utc(2026, 11, 1, 9),  # Los Angeles falls back
    utc(2026, 4, 4, 15),  # Lord Howe falls back
    utc(2026, 10, 3, 15, 30),  # Lord Howe springs forward
    utc(2026, 4, 5, 3),  # Santiago falls back at midnight
    utc(2026, 9, 6, 4),  # Santiago springs forward at midnight
)


@dataclass(frozen=True)
class Scenario:
    """Times of day as minutes after midnight; dates as minutes after `now`'s minute."""

    campaign_zone: str
    window_minutes: tuple[int, int]
    days: frozenset[str]
    quiet_minutes: tuple[int, int]
    zones: tuple[str, ...]
    start_after: int | None = None
    end_after: int | None = None


def minute_of_day(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def floor_minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def rules_of(
    scenario: Scenario, now: datetime
) -> tuple[rules.SendWindow, rules.QuietHours, dict[str, datetime]]:
    sending = rules.SendWindow(
        scenario.campaign_zone,
        minute_of_day(scenario.window_minutes[0]),
        minute_of_day(scenario.window_minutes[1]),
        scenario.days,
    )
    quiet = rules.QuietHours(*map(minute_of_day, scenario.quiet_minutes))
    dates = {}
    if scenario.start_after is not None:
        dates["start_at"] = floor_minute(now) + timedelta(minutes=scenario.start_after)
    if scenario.end_after is not None:
        dates["end_at"] = floor_minute(now) + timedelta(minutes=scenario.end_after)
    return sending, quiet, dates


def naive_allows(instant: datetime, scenario: Scenario, dates: dict[str, datetime]) -> bool:
    """Convert the instant to each wall clock and compare minutes: obviously right."""
    if "start_at" in dates and instant < dates["start_at"]:
        return False
    if "end_at" in dates and instant >= dates["end_at"]:
        return False
    campaign = instant.astimezone(ZoneInfo(scenario.campaign_zone))
    if campaign.strftime("%a").lower() not in scenario.days:
        return False
    start, end = scenario.window_minutes
    if not start <= campaign.hour * 60 + campaign.minute < end:
        return False
    quiet_start, quiet_end = scenario.quiet_minutes
    for zone in scenario.zones:
        local = instant.astimezone(ZoneInfo(zone))
        if not quiet_start <= local.hour * 60 + local.minute < quiet_end:
            return False
    return True


def spans(shortest: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.integers(0, 1439 - shortest).flatmap(
        lambda start: st.tuples(st.just(start), st.integers(start + shortest, 1439))
    )


scenarios = st.builds(
    Scenario,
    campaign_zone=st.sampled_from(ZONES),
    # Mostly wide windows and allowances, as organizations set them, so that both
    # answers (allowed, not allowed) come up often.
    window_minutes=st.one_of(spans(8 * 60), spans(1)),
    days=st.frozensets(st.sampled_from(DAYS), min_size=1),
    quiet_minutes=st.one_of(st.just((8 * 60, 21 * 60)), spans(10 * 60), spans(1)),
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True).map(tuple),
    start_after=st.none() | st.integers(-24 * 60, 2 * 24 * 60),
    end_after=st.none() | st.none() | st.integers(-60, 3 * 24 * 60),
)
instants_in_2026 = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31, 23, 59), timezones=st.just(UTC)
)
instants_near_dst_changes = st.tuples(
    st.sampled_from(DST_CHANGES_2026), st.integers(-36 * 3600, 36 * 3600)
).map(lambda change_and_seconds: change_and_seconds[0] + timedelta(seconds=change_and_seconds[1]))

NEW_YORK_NIGHT_OWL = Scenario(NEW_YORK, (150, 1380), frozenset(DAYS), (150, 1260), (NEW_YORK,))
FALL_BACK_WINDOW = Scenario(NEW_YORK, (60, 90), frozenset(DAYS), (0, 1439), (NEW_YORK,))
REPEATED_HALF_HOUR = Scenario(NEW_YORK, (90, 105), frozenset(DAYS), (0, 1439), (NEW_YORK,))
OFFICE_HOURS_STARTING_LATER = Scenario(
    NEW_YORK, (540, 1080), WEEKDAYS, (480, 1260), (NEW_YORK,), start_after=181
)
LORD_HOWE_EARLY = Scenario(
    "Australia/Lord_Howe", (0, 1439), frozenset(DAYS), (130, 1260), ("Australia/Lord_Howe",)
)
SANTIAGO_SATURDAY_LATE = Scenario(
    "America/Santiago", (1380, 1439), frozenset({"sat"}), (0, 1439), ("America/Santiago",)
)


@settings(max_examples=300, deadline=None)
@given(now=st.one_of(instants_in_2026, instants_near_dst_changes), scenario=scenarios)
@example(now=utc(2026, 3, 8, 6, 30), scenario=NEW_YORK_NIGHT_OWL)
@example(now=utc(2026, 3, 8, 6, 59, 59), scenario=NEW_YORK_NIGHT_OWL)
@example(now=utc(2026, 11, 1, 5, 45), scenario=FALL_BACK_WINDOW)
@example(now=utc(2026, 11, 1, 5, 15), scenario=FALL_BACK_WINDOW)
@example(now=utc(2026, 11, 1, 5), scenario=REPEATED_HALF_HOUR)
@example(now=utc(2026, 11, 1, 5, 45), scenario=REPEATED_HALF_HOUR)
@example(now=utc(2026, 10, 3, 15), scenario=LORD_HOWE_EARLY)
@example(now=utc(2026, 1, 12, 13, 0, 30), scenario=OFFICE_HOURS_STARTING_LATER)
@example(now=utc(2026, 4, 5, 2, 59, 30), scenario=SANTIAGO_SATURDAY_LATE)
@example(
    now=utc(2026, 3, 8, 13, 59),
    scenario=Scenario(NEW_YORK, (540, 1080), frozenset(DAYS), (480, 1260), (LOS_ANGELES,)),
)
@example(
    now=utc(2026, 11, 1, 13, 59),
    scenario=Scenario(NEW_YORK, (540, 1080), frozenset(DAYS), (480, 1260), (LOS_ANGELES,)),
)
def test_rules_agree_with_wall_clocks(now: datetime, scenario: Scenario) -> None:
    sending, quiet, dates = rules_of(scenario, now)
    # As the sender applies them: the dates and the window, then the recipient's quiet hours.
    allowed = (
        rules.within_dates(now, dates.get("start_at"), dates.get("end_at"))
        and rules.campaign_window_allows(now, sending)
        and rules.quiet_hours_allow(now, quiet, scenario.zones)
    )
    event("allowed" if allowed else "not allowed")
    assert allowed == naive_allows(now, scenario, dates)
