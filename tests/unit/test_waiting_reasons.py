"""Why a pending recipient waits (outreach.sending.waiting): the reasons a send shows,
``state_rule`` included (issue 15, point 6; ``sending-rules.md`` rule 7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.campaigns.domain import SendsQuery, Window
from outreach.campaigns.statuses import CampaignStatus
from outreach.sending.domain import WaitingReason
from outreach.sending.waiting import CampaignMoment
from tests.support import builders
from tests.support.builders import boston, los_angeles
from tests.unit.test_textable_audience import World

MONDAY_10AM_EASTERN = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ORG = "01KAXQ3Y0000000000000000AB"


EVERY_HOUR = Window("00:00", "23:59", ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
HOUSTON = "+17135550123"  # Texas, Central time
MIAMI = "+13055550123"  # Florida, Eastern time
PROVIDENCE = "+14015550123"  # Rhode Island, Eastern time
SUNDAY_10AM_CENTRAL = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


def moment(
    now: datetime = MONDAY_10AM_EASTERN,
    *,
    status: CampaignStatus = CampaignStatus.ACTIVE,
    campaign_sends: int = 0,
    org_sends: int = 0,
    window: Window | None = None,
    **organization: object,
) -> CampaignMoment:
    campaign = builders.campaign(ORG, at=now, status=status, daily_limit=10)
    return CampaignMoment(
        now=now,
        campaign=campaign if window is None else replace(campaign, window=window),
        organization=builders.organization(
            "Acme", at=now, id=ORG, daily_message_limit=100, **organization
        ),
        campaign_sends_today=campaign_sends,
        org_sends_today=org_sends,
    )


def reason(
    at: CampaignMoment,
    phone: str = boston(0),
    *,
    stored: str | None = None,
    retry_at: datetime | None = None,
) -> tuple[WaitingReason | None, datetime | None]:
    return at.reason_for(phone, timezone=None, state=None, stored=stored, retry_at=retry_at)


def test_a_recipient_with_nothing_in_its_way_waits_for_nothing() -> None:
    assert reason(moment()) == (None, None)


def test_a_stored_reason_holds_while_its_instant_is_ahead() -> None:
    until = MONDAY_10AM_EASTERN + timedelta(hours=24)
    assert reason(moment(), stored="frequency_cap", retry_at=until) == (
        WaitingReason.FREQUENCY_CAP,
        until,
    )
    later = moment(until + timedelta(minutes=1))
    assert reason(later, stored="frequency_cap", retry_at=until) == (None, None)


@pytest.mark.parametrize(
    ("at", "expected", "until"),
    [
        (  # Saturday 10:00 in New York: the window opens Monday 09:00 (14:00 UTC)
            moment(datetime(2026, 11, 28, 15, 0, tzinfo=UTC)),
            WaitingReason.WINDOW,
            datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
        ),
        (  # the campaign's day ends at midnight in New York; its window opens at 09:00
            moment(campaign_sends=10),
            WaitingReason.DAILY_LIMIT,
            datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
        ),
        (  # on a Friday, the next day the window opens is Monday
            moment(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), campaign_sends=10),
            WaitingReason.DAILY_LIMIT,
            datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
        ),
        (  # the organization's day ends at midnight in its zone (08:00 UTC), before the
            # campaign's window opens
            moment(org_sends=100, timezone="America/Los_Angeles"),
            WaitingReason.ORG_DAILY_LIMIT,
            datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
        ),
        (  # a window open all day: the next attempt is the day's first minute
            moment(campaign_sends=10, window=EVERY_HOUR),
            WaitingReason.DAILY_LIMIT,
            datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_days_limit_is_named_with_the_first_minute_of_the_next_days_window(
    at: CampaignMoment, expected: WaitingReason, until: datetime
) -> None:
    assert reason(at) == (expected, until)


def test_quiet_hours_are_named_for_a_recipient_where_it_is_too_early() -> None:
    # 10:00 in New York is 07:00 in Los Angeles: 08:00 there is 16:00 UTC
    at = moment()
    assert reason(at, los_angeles(0)) == (
        WaitingReason.QUIET_HOURS,
        datetime(2026, 11, 23, 16, 0, tzinfo=UTC),
    )
    assert reason(at, los_angeles(1))[0] is WaitingReason.QUIET_HOURS  # the same zones again
    assert at.reason_for(
        los_angeles(0), timezone="America/Chicago", state=None, stored=None, retry_at=None
    ) == (None, None)


def test_a_window_that_never_opens_again_has_no_next_attempt() -> None:
    ended = builders.campaign(
        ORG,
        at=MONDAY_10AM_EASTERN,
        status=CampaignStatus.ACTIVE,
        end_at=MONDAY_10AM_EASTERN - timedelta(minutes=1),
    )
    at = CampaignMoment(
        now=MONDAY_10AM_EASTERN,
        campaign=ended,
        organization=builders.organization("Acme", at=MONDAY_10AM_EASTERN, id=ORG),
        campaign_sends_today=0,
        org_sends_today=0,
    )
    assert reason(at) == (WaitingReason.WINDOW, None)


def test_a_paused_campaigns_recipients_wait_for_no_reason_of_theirs() -> None:
    assert reason(moment(status=CampaignStatus.PAUSED, org_sends=100)) == (None, None)


# --- State rules (issue 15, point 6) ---------------------------------------------------------


def test_a_texas_recipient_on_sunday_morning_waits_for_the_states_rule_until_noon() -> None:
    # Sunday 10:00 in Houston: inside quiet hours (08:00-21:00), but Texas allows
    # Sunday texts from 12:00 only: 18:00 UTC.
    at = moment(SUNDAY_10AM_CENTRAL, window=EVERY_HOUR)
    noon = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    assert reason(at, HOUSTON) == (WaitingReason.STATE_RULE, noon)
    assert reason(at, "+17135550124") == (WaitingReason.STATE_RULE, noon)  # same place, cached
    # A Boston number (Massachusetts: 08:00-20:00, it is 11:00 there) waits for nothing.
    assert reason(at) == (None, None)


def test_a_contacts_state_holds_a_number_of_another_state() -> None:
    # A New York number whose contact lives in Texas, Sunday 11:00 Eastern.
    at = moment(SUNDAY_10AM_CENTRAL, window=EVERY_HOUR)
    assert at.reason_for(
        "+12125550123", timezone="America/Chicago", state="TX", stored=None, retry_at=None
    ) == (WaitingReason.STATE_RULE, datetime(2026, 11, 29, 18, 0, tzinfo=UTC))


def test_quiet_hours_name_the_first_minute_the_states_rule_allows_too() -> None:
    # Sunday 07:00 in Houston: quiet hours hold it, and when they end at 08:00 Texas
    # still does until 12:00: the next attempt is noon, not 08:00.
    at = moment(SUNDAY_10AM_CENTRAL - timedelta(hours=3), window=EVERY_HOUR)
    assert reason(at, HOUSTON) == (
        WaitingReason.QUIET_HOURS,
        datetime(2026, 11, 29, 18, 0, tzinfo=UTC),
    )


def test_a_florida_recipient_at_2030_waits_for_8am_the_next_day() -> None:
    # Monday 20:30 in Miami (UTC-5): quiet hours allow until 21:00, Florida until 20:00.
    at = moment(datetime(2026, 11, 24, 1, 30, tzinfo=UTC), window=EVERY_HOUR)
    assert reason(at, MIAMI) == (
        WaitingReason.STATE_RULE,
        datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
    )


def test_rhode_islands_sunday_ban_is_looked_past() -> None:
    # Saturday 17:30 in Providence: Saturdays end at 17:00 and Sundays have no hours, so
    # the next chance is Monday 09:00 (14:00 UTC), 39.5 hours on.
    at = moment(datetime(2026, 11, 28, 22, 30, tzinfo=UTC), window=EVERY_HOUR)
    assert reason(at, PROVIDENCE) == (
        WaitingReason.STATE_RULE,
        datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
    )


def test_a_recipient_no_minute_of_the_week_allows_has_no_next_attempt() -> None:
    # Quiet hours of 19:00-21:00 and Rhode Island's 09:00-18:00: never. Monday 19:30.
    at = moment(
        datetime(2026, 11, 24, 0, 30, tzinfo=UTC),
        window=EVERY_HOUR,
        quiet_hours_start="19:00",
        quiet_hours_end="21:00",
    )
    assert reason(at, PROVIDENCE) == (WaitingReason.STATE_RULE, None)


def test_sends_name_the_state_rule_of_a_texas_recipient_on_sunday_morning() -> None:
    # Through CampaignService.sends on the fakes: one batch read of the pending contacts'
    # zones and states (ContactStore.places), then the reason of each.
    world = World()
    world.add(HOUSTON)
    world.add("+12125550123", timezone="America/Chicago", state="TX")
    world.add("+12125550124")  # New York has no row: nothing holds it back
    started = world.start(EVERY_HOUR)
    world.clock.set(SUNDAY_10AM_CENTRAL)
    page = world.service.sends(world.org_id, SendsQuery(started.id), limit=10, cursor=None)
    noon = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    assert {s.phone: (s.waiting_reason, s.next_attempt_at) for s in page.items} == {
        HOUSTON: ("state_rule", noon),
        "+12125550123": ("state_rule", noon),
        "+12125550124": (None, None),
    }
