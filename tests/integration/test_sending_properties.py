"""Properties of the engine over random instants, zones, windows and days (hypothesis)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from outreach.campaigns.domain import LeftOut, Window
from outreach.clock import SimulatedClock
from tests.support.engine import World, add_contacts, make_org, start_campaign

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Europe/London",
]
# 2026's US clock changes: 8 March (spring forward) and 1 November (fall back).
DST_DAYS = [datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)]


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        base = draw(st.sampled_from(DST_DAYS))
        return base + timedelta(minutes=draw(st.integers(min_value=-36 * 60, max_value=36 * 60)))
    return draw(
        st.datetimes(
            min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
        )
    ).replace(second=0, microsecond=0)


@st.composite
def windows(draw: st.DrawFn) -> Window:
    start = draw(st.integers(min_value=0, max_value=22 * 60))
    end = draw(st.integers(min_value=start + 30, max_value=23 * 60 + 59))
    days = draw(st.sets(st.sampled_from(DAYS), min_size=1))
    return Window(
        f"{start // 60:02d}:{start % 60:02d}",
        f"{end // 60:02d}:{end % 60:02d}",
        tuple(d for d in DAYS if d in days),
    )


def allowed(now: datetime, window: Window, campaign_zone: str, contact_zone: str) -> bool:
    """The rules recomputed on wall clocks, independently of outreach.sending.rules."""
    local = now.astimezone(ZoneInfo(campaign_zone))
    in_window = DAYS[local.weekday()] in window.days and (
        time.fromisoformat(window.start)
        <= local.time().replace(second=0)
        < time.fromisoformat(window.end)
    )
    recipient = now.astimezone(ZoneInfo(contact_zone)).time()
    # The federal 08:00-21:00, narrowed by the number's state: a Boston number is in
    # Massachusetts, whose rule is 08:00-20:00 every day (sending-rules.md rule 7; issue 15).
    return in_window and time(8, 0) <= recipient < time(20, 0)


def ever_allowed(now: datetime, window: Window, campaign_zone: str, contact_zone: str) -> bool:
    """Whether some minute of the week from ``now`` is allowed (:func:`allowed`)."""
    start = now.replace(second=0, microsecond=0)
    return any(
        allowed(start + timedelta(minutes=minute), window, campaign_zone, contact_zone)
        for minute in range(7 * 24 * 60)
    )


_sequence = {"n": 0}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(now=instants(), window=windows(), contact_zone=st.sampled_from(ZONES))
@example(  # a 06:00 Pacific send from a 09:00 Eastern campaign: deferred
    now=datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
    window=Window("09:00", "18:00", ("mon", "tue", "wed", "thu", "fri")),
    contact_zone="America/Los_Angeles",
)
@example(  # 20:30 for a Massachusetts number: the federal window allows it, the state not
    now=datetime(2026, 11, 24, 1, 30, tzinfo=UTC),
    window=Window("00:00", "23:59", DAYS),
    contact_zone="America/New_York",
)
def test_no_send_outside_the_allowance_and_none_lost(
    aws: None, now: datetime, window: Window, contact_zone: str
) -> None:
    _sequence["n"] += 1
    clock = SimulatedClock(now)
    world = World(
        org_id=make_org(clock, sender=f"+1617555{_sequence['n'] % 10000:04d}"), clock=clock
    )
    add_contacts(world.org_id, ["+16175550123"], clock, timezone=contact_zone)
    start_campaign(world, window=window)
    report = world.sender().run(world.work())
    expected = allowed(now, window, "America/New_York", contact_zone)
    assert report.sent == (1 if expected else 0), (now, window, contact_zone, report)
    if ever_allowed(now, window, "America/New_York", contact_zone):
        assert world.statuses()["pending" if not expected else "sent"] == 1  # deferred, not lost
    else:  # the window never meets the recipient's allowed hours: left out at the start
        assert world.statuses() == {}
        assert world.services().get(world.org_id, world.campaign_id).left_out == LeftOut(
            never_in_window=1
        )


def test_the_same_scheduled_tick_delivered_three_times_concurrently_sends_once(
    send_queue: str,
) -> None:
    import asyncio

    from outreach_local.ticks import run_tick

    clock = SimulatedClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    world = World(org_id=make_org(clock), clock=clock)
    add_contacts(world.org_id, [f"+1617555{i:04d}" for i in range(30)], clock)
    start_campaign(world)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            asyncio.set_event_loop(asyncio.new_event_loop())
            barrier.wait()
            run_tick(clock.now(), clock=SimulatedClock(clock.now()))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    phones = [m.to_number for m in world.outbox()]
    assert len(phones) == 30 and len(set(phones)) == 30
