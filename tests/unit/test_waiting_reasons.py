"""Why a pending recipient waits (outreach.sending.waiting): the reasons a send shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outreach.campaigns.domain import CampaignStatus
from outreach.sending.domain import WaitingReason
from outreach.sending.waiting import CampaignMoment
from tests.support import builders
from tests.support.builders import boston, los_angeles

MONDAY_10AM_EASTERN = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ORG = "01KAXQ3Y0000000000000000AB"


def moment(
    now: datetime = MONDAY_10AM_EASTERN,
    *,
    status: CampaignStatus = CampaignStatus.ACTIVE,
    campaign_sends: int = 0,
    org_sends: int = 0,
    **organization: object,
) -> CampaignMoment:
    return CampaignMoment(
        now=now,
        campaign=builders.campaign(ORG, at=now, status=status, daily_limit=10),
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
    return at.reason_for(phone, None, stored=stored, retry_at=retry_at)


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
        (  # the campaign's day ends at midnight in New York
            moment(campaign_sends=10),
            WaitingReason.DAILY_LIMIT,
            datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
        ),
        (  # the organization's day ends at midnight in its zone
            moment(org_sends=100, timezone="America/Los_Angeles"),
            WaitingReason.ORG_DAILY_LIMIT,
            datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        ),
    ],
)
def test_the_campaigns_and_organizations_limits_are_named_with_when_they_end(
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
    assert at.reason_for(los_angeles(0), "America/Chicago", stored=None, retry_at=None) == (
        None,
        None,
    )


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
