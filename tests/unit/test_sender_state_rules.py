"""State rules and numbers with no single zone at send time (``sending-rules.md`` rules 7
and 8; issue 15, points 1 and 4), through :class:`CampaignSender` on in-memory fakes.

Each "Why" bullet of issue 15 on state law and toll-free numbers is replayed here, and a
sweep of ticks across both 2026 US DST changes holds every send (and every recipient
left waiting) to the independent wall-clock computation of ``test_state_rules.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from outreach.campaigns.domain import Window
from outreach.campaigns.statuses import CampaignStatus
from outreach.clock import SimulatedClock
from tests.support.builders import boston
from tests.unit.test_sender import OFFICE_HOURS, ORG, Rig, rig_with
from tests.unit.test_state_rules import RECIPIENTS, independent_allows

EVERY_HOUR = Window("00:00", "23:59", ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
MIAMI = "+13055550123"  # area code 305: Florida, Eastern time
HOUSTON = "+17135550123"  # area code 713: Texas, Central time
PROVIDENCE = "+14015550123"  # area code 401: Rhode Island, Eastern time
MANHATTAN = "+12125550123"  # area code 212: New York, which has no row
TOLL_FREE = "+18005550199"


def at_utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def rig_at(
    now: datetime,
    phones: list[str],
    *,
    timezones: dict[str, str] | None = None,
    states: dict[str, str] | None = None,
) -> Rig:
    """A campaign open every hour of every day (only the recipients' rules hold it back) to
    ``phones``, whose contacts have the ``timezones`` and ``states`` given by phone."""
    return rig_with(
        0,
        clock=SimulatedClock(now),
        phones=phones,
        window=EVERY_HOUR,
        timezones=timezones,
        states=states,
    )


def test_a_florida_number_is_not_texted_at_2030_but_is_at_1930() -> None:
    # Monday 23 November 2026, 20:30 in Miami (UTC-5): inside the federal 08:00-21:00,
    # outside Florida's 08:00-20:00.
    rig = rig_at(at_utc(2026, 11, 24, 1, 30), [MIAMI])
    report = rig.run()
    assert (report.sent, report.state_rule_deferred, report.quiet_hours_deferred) == (0, 1, 0)
    assert rig.provider.sent == []
    assert rig.statuses() == Counter({"pending": 1})
    # Tuesday 19:30 in Miami
    rig.clock.set(at_utc(2026, 11, 25, 0, 30))
    report = rig.run()
    assert (report.sent, report.state_rule_deferred, report.completed) == (1, 0, True)
    assert rig.provider.numbers == [MIAMI]


def test_a_texas_number_is_not_texted_at_10_on_a_sunday_but_is_at_1230() -> None:
    # Sunday 29 November 2026, 10:00 in Houston (UTC-6): Texas allows Sundays from 12:00.
    rig = rig_at(at_utc(2026, 11, 29, 16, 0), [HOUSTON])
    report = rig.run()
    assert (report.sent, report.state_rule_deferred) == (0, 1)
    rig.clock.set(at_utc(2026, 11, 29, 18, 30))  # 12:30 in Houston
    assert rig.run().sent == 1
    assert rig.provider.numbers == [HOUSTON]


def test_a_rhode_island_number_is_not_texted_on_sunday() -> None:
    # Every quarter hour of Sunday 29 November in Providence (UTC-5), then Monday 09:00.
    sunday = at_utc(2026, 11, 29, 5, 0)
    rig = rig_at(sunday, [PROVIDENCE, boston(1)])
    deferred = 0
    for quarter in range(96):
        rig.clock.set(sunday + timedelta(minutes=15 * quarter))
        deferred += rig.run().state_rule_deferred
    # Boston (Massachusetts: 08:00-20:00 every day) was texted on Sunday; Providence never.
    assert rig.provider.numbers == [boston(1)]
    assert deferred > 0
    rig.clock.set(at_utc(2026, 11, 30, 14, 0))  # Monday 09:00 in Providence
    assert rig.run().sent == 1
    assert rig.provider.numbers == [boston(1), PROVIDENCE]


def test_a_contact_in_florida_with_a_new_york_number_follows_floridas_rule() -> None:
    # New York has no row: at 20:30 Eastern a Manhattan number may be texted, unless its
    # contact's state is Florida.
    rig = rig_at(at_utc(2026, 11, 24, 1, 30), [MANHATTAN, "+12125550124"], states={MANHATTAN: "FL"})
    report = rig.run()
    assert (report.sent, report.state_rule_deferred) == (1, 1)
    assert rig.provider.numbers == ["+12125550124"]
    rig.clock.set(at_utc(2026, 11, 25, 0, 30))  # Tuesday 19:30 Eastern
    assert rig.run().sent == 1
    assert rig.provider.numbers == ["+12125550124", MANHATTAN]


def test_a_toll_free_number_is_texted_and_its_campaign_completes() -> None:
    # Monday 13 July 2026, office hours 09:00-18:00 in New York. Held to every one of
    # its 42 zones (Guam to Pago Pago: 18:00-04:00 New York in summer) the number was
    # never texted; held to the four fallback zones, it goes at 11:00 New York (08:00
    # in Los Angeles), and the campaign completes.
    nine = at_utc(2026, 7, 13, 13, 0)
    rig = rig_with(0, clock=SimulatedClock(nine), phones=[TOLL_FREE], window=OFFICE_HOURS)
    sent_at = None
    for quarter in range(36):
        rig.clock.set(nine + timedelta(minutes=15 * quarter))
        if rig.run().sent:
            sent_at = rig.clock.now()
            break
    assert rig.provider.numbers == [TOLL_FREE]
    assert sent_at is not None and nine + timedelta(hours=2) <= sent_at < nine + timedelta(
        hours=2, seconds=1
    )
    assert rig.store.campaign_status(ORG, rig.campaign_id) is CampaignStatus.COMPLETED


def test_a_contacts_own_zone_wins_over_the_toll_free_fallback() -> None:
    # 09:00 in New York is 06:00 in Los Angeles: the fallback zones hold the toll-free
    # number back, its contact's own zone (New York) does not.
    nine = at_utc(2026, 7, 13, 13, 0)
    rig = rig_with(
        0,
        clock=SimulatedClock(nine),
        phones=[TOLL_FREE, "+18005550198"],
        window=OFFICE_HOURS,
        timezones={TOLL_FREE: "America/New_York"},
    )
    report = rig.run()
    assert (report.sent, report.quiet_hours_deferred) == (1, 1)
    assert rig.provider.numbers == [TOLL_FREE]


# --- The sweep: every tick, every recipient, against the independent wall clock -----------


def _ticks() -> Iterator[datetime]:
    """Every quarter hour from 6 to 10 March and from 30 October to 3 November 2026."""
    for first in (at_utc(2026, 3, 6), at_utc(2026, 10, 30)):
        for quarter in range(4 * 24 * 4):
            yield first + timedelta(minutes=15 * quarter)


def _phone(template: str, recipient: int) -> str:
    """A number of its own in ``template``'s area code for the ``recipient``-th recipient
    (exchange 2xx): several recipients share a template number."""
    return f"{template[:5]}{200 + recipient}0123"


def test_the_sender_sends_exactly_when_the_wall_clock_allows_across_both_dst_changes() -> None:
    sends = waits = 0
    phones = [_phone(r.phone, i) for i, r in enumerate(RECIPIENTS)]
    placed = list(zip(phones, RECIPIENTS, strict=True))
    timezones = {phone: r.timezone for phone, r in placed if r.timezone}
    states = {phone: r.state for phone, r in placed if r.state}
    for tick in _ticks():
        # A new organization each tick: no earlier text holds a number back.
        rig = rig_at(tick, phones, timezones=timezones, states=states)
        report = rig.run()
        sent = {message.to_number: at for message, at in rig.provider.sent}
        for phone, recipient in placed:
            if phone in sent:  # never at an instant the wall clock forbids
                assert independent_allows(sent[phone], recipient.states, recipient.zones), (
                    sent[phone],
                    recipient,
                )
            else:  # and never held back at one it allows (bounds are whole minutes)
                assert not independent_allows(tick, recipient.states, recipient.zones), (
                    tick,
                    recipient,
                )
        assert report.sent + report.quiet_hours_deferred + report.state_rule_deferred == len(
            RECIPIENTS
        )
        sends, waits = sends + len(sent), waits + report.state_rule_deferred
    assert sends > 1000 and waits > 1000  # both answers are exercised
