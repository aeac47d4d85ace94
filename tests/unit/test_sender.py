"""The sender's rules (``sending-rules.md``: "When a message may go out", "What is guaranteed"),
through :class:`CampaignSender` on in-memory fakes and a simulated clock: no DynamoDB.

The claim protocol's storage behaviour, concurrency and crashes are tested on
moto (``tests/integration/test_sending*.py``, ``test_sending_contract.py``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from outreach.campaigns.domain import (
    SEND_DEADLINE_SECONDS,
    CampaignStatus,
    RecipientStatus,
    Variant,
    Window,
)
from outreach.campaigns.variants import assign_variant
from outreach.clock import SimulatedClock
from outreach.contacts.domain import OptOutSource, TemplateValues, template_values_from
from outreach.sending import checkpoint as checkpoint_module
from outreach.sending.dispatch import CampaignWork
from outreach.sending.domain import Claim, ContactFields
from outreach.sending.sender import CLAIM_LEASE, CampaignSender, FaultHooks, SendReport
from outreach.sms.providers import (
    AccountSendError,
    PermanentSendError,
    SmsProvider,
    ThrottledSendError,
    TransientSendError,
    UnknownOutcomeError,
)
from tests.support import builders
from tests.support.builders import boston, los_angeles
from tests.support.fakes.contacts import InMemoryOptOutList
from tests.support.fakes.counters import InMemoryCounters
from tests.support.fakes.identity import InMemoryIdentityStore
from tests.support.fakes.sending import (
    InMemorySendingStore,
    InMemorySendingTurns,
    ScriptedProvider,
    StoredRecipient,
)
from tests.support.faults import KILLED_AFTER_CLAIM, Killed, on_claim

# Monday 23 November 2026, 10:00 in New York (15:00 UTC): inside every default window.
MONDAY_10AM_EASTERN = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DAY = "2026-11-23"
ORG = "01KAXQ3Y0000000000000000AB"
SENDER = "+16175550100"
FOOTER = "Reply STOP to opt out"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
AB = (Variant("A", "Hi {first_name|there}, A", 50), Variant("B", "Hey {first_name|there}! B", 50))
OFFICE_HOURS = Window("09:00", "18:00", WEEKDAYS)


@dataclass
class Rig:
    """One organization with a started campaign, on fakes."""

    clock: SimulatedClock
    store: InMemorySendingStore = field(default_factory=InMemorySendingStore)
    organizations: InMemoryIdentityStore = field(default_factory=InMemoryIdentityStore)
    opt_outs: InMemoryOptOutList = field(default_factory=InMemoryOptOutList)
    counters: InMemoryCounters = field(default_factory=InMemoryCounters)
    turns: InMemorySendingTurns = field(init=False)
    provider: ScriptedProvider = field(default_factory=ScriptedProvider)
    campaign_id: str = ""
    campaigns: int = 0

    def __post_init__(self) -> None:
        self.turns = InMemorySendingTurns(self.store)

    def sender(
        self, provider: SmsProvider | None = None, hooks: FaultHooks | None = None
    ) -> CampaignSender:
        return CampaignSender(
            repository=self.store,
            organizations=self.organizations,
            opt_outs=self.opt_outs,
            counters=self.counters,
            turns=self.turns,
            provider=provider or self.provider,
            clock=self.clock,
            hooks=hooks,
        )

    def settings(self, **changes: Any) -> None:
        """Change the organization's settings in place (as an admin's PATCH would)."""
        stored = self.organizations.organizations
        stored[ORG] = replace(stored[ORG], **changes)

    def run(self, **options: Any) -> SendReport:
        return self.sender().run(self.work(), **options)

    def opt_out(self, phone: str) -> None:
        """The number goes on the organization's list (a STOP, say)."""
        self.opt_outs.add(ORG, phone, OptOutSource.KEYWORD, self.clock.now())

    def work(self) -> CampaignWork:
        return CampaignWork(org_id=ORG, campaign_id=self.campaign_id, tick=self.clock.now())

    def statuses(self) -> Counter[str]:
        return self.store.statuses(ORG, self.campaign_id)

    def recipients(self) -> list[StoredRecipient]:
        return self.store.of_campaign(ORG, self.campaign_id)

    def start(
        self,
        phones: list[str],
        *,
        daily_limit: int = 125,
        variants: tuple[Variant, ...] = AB,
        window: Window = OFFICE_HOURS,
        timezones: dict[str, str] | None = None,
        states: dict[str, str] | None = None,
    ) -> str:
        """A campaign started for a contact per phone (contact ``C<phone>``, named ``N<i>``),
        with the ``timezones`` and US ``states`` given by phone."""
        self.campaigns += 1
        campaign_id = f"01KAXQ3Y00000000000000CA{self.campaigns:02d}"
        now = self.clock.now()
        self.store.add_campaign(
            builders.campaign(
                ORG,
                at=now,
                id=campaign_id,
                status=CampaignStatus.ACTIVE,
                variants=variants,
                daily_limit=daily_limit,
                window=window,
                recipients=len(phones),
                started_at=now,
            )
        )
        weights = [(v.name, v.weight) for v in variants]
        for index, phone in enumerate(phones):
            contact_id = f"C{phone}"
            self.store.add_contact(
                ORG,
                contact_id,
                ContactFields(
                    values=_values(phone, first_name=f"N{index}"),
                    timezone=(timezones or {}).get(phone),
                    state=(states or {}).get(phone),
                ),
            )
            self.store.add_recipient(
                StoredRecipient(
                    org_id=ORG,
                    campaign_id=campaign_id,
                    contact_id=contact_id,
                    phone=phone,
                    variant=assign_variant(campaign_id, contact_id, weights),
                )
            )
        self.campaign_id = campaign_id
        return campaign_id


def _values(phone: str, first_name: str) -> TemplateValues:
    return template_values_from(
        phone=phone, first_name=first_name, last_name=None, company=None, email=None, attributes={}
    )


def rig_with(
    count: int,
    *,
    clock: SimulatedClock | None = None,
    phones: list[str] | None = None,
    messages_per_second: int = 100,
    **start: Any,
) -> Rig:
    """An organization (Boston sender, federal quiet hours) and a campaign to ``count``
    Boston numbers (or ``phones``), at Monday 10:00 Eastern unless ``clock`` says otherwise."""
    rig = Rig(clock=clock or SimulatedClock(MONDAY_10AM_EASTERN))
    now = rig.clock.now()
    rig.organizations.organizations[ORG] = builders.organization(
        "Acme",
        at=now,
        id=ORG,
        sender_number=SENDER,
        messages_per_second=messages_per_second,
        help_texts={"en": "Acme: call us."},
        opt_out_footer=FOOTER,
    )
    rig.start(phones or [boston(i) for i in range(count)], **start)
    return rig


def assert_accounted(rig: Rig) -> None:
    """Every recipient is in one state, and the counters projected from the stream say the same."""
    statuses = rig.statuses()
    counters = rig.store.counters(ORG, rig.campaign_id)
    assert sum(statuses.values()) == counters["recipients"]
    for status in ("sent", "failed", "skipped", "unknown"):
        assert counters[status] == statuses[status], (status, counters, statuses)
    assert counters["pending"] == statuses["pending"] + statuses["sending"]


def assert_no_duplicates(rig: Rig) -> None:
    phones = Counter(rig.provider.numbers)
    assert all(count == 1 for count in phones.values()), phones.most_common(3)


# --- Completion and at most once -----------------------------------------------------------


def test_sends_each_recipient_once_then_completes_and_stops_as_not_active() -> None:
    # Given a campaign to 10 numbers
    rig = rig_with(10)
    # When one tick runs
    report = rig.run()
    # Then each is texted once and the campaign completes by itself
    assert report.sent == 10
    assert report.completed
    assert rig.statuses() == Counter({"sent": 10})
    assert sorted(rig.provider.numbers) == [boston(i) for i in range(10)]
    assert rig.store.campaign_status(ORG, rig.campaign_id) is CampaignStatus.COMPLETED
    assert_no_duplicates(rig)
    assert_accounted(rig)
    # And the next tick finds nothing to do
    assert rig.run().stopped == "not active"


def test_a_campaign_with_someone_left_open_does_not_complete() -> None:
    # Given a recipient deferred by quiet hours (Los Angeles at 06:00)
    rig = rig_with(
        0, clock=SimulatedClock(MONDAY_10AM_EASTERN - timedelta(hours=1)), phones=[los_angeles(2)]
    )
    report = rig.run()
    # Then the campaign stays active
    assert report.quiet_hours_deferred == 1
    assert not report.completed
    assert rig.store.campaign_status(ORG, rig.campaign_id) is CampaignStatus.ACTIVE


def test_deferred_recipients_keep_the_campaign_active() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(
        0, clock=SimulatedClock(MONDAY_10AM_EASTERN - timedelta(hours=1)), phones=[los_angeles(2)]
    )
    report = rig.run()
    assert report.quiet_hours_deferred == 1 and not report.completed
    # A contact added later is not in the audience any more.
    rig.store.add_contact(ORG, f"C{boston(9)}", ContactFields(_values(boston(9), "N9"), None))
    assert rig.statuses() == Counter({"pending": 1})


def test_a_deleted_contact_is_skipped() -> None:
    rig = rig_with(2)
    rig.store.delete_contact(ORG, f"C{boston(1)}")
    report = rig.run()
    assert (report.sent, report.skipped, report.completed) == (1, 1, True)
    skipped = [r for r in rig.recipients() if r.status is RecipientStatus.SKIPPED]
    assert [r.error for r in skipped] == ["contact deleted"]


def test_a_campaign_past_its_end_completes_and_skips_the_rest() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(0, phones=[boston(1), boston(2)])
    campaign = rig.store.campaigns[(ORG, rig.campaign_id)]
    assert campaign.end_at is None
    rig.clock.advance(timedelta(hours=1))
    rig.store.add_campaign(replace(campaign, end_at=rig.clock.now() - timedelta(minutes=1)))
    report = rig.run()
    assert report.completed and report.skipped == 2
    assert report.stopped == "campaign ended"
    assert rig.statuses() == Counter({"skipped": 2})
    assert rig.provider.sent == []
    assert_accounted(rig)


# --- The body ------------------------------------------------------------------------------


def test_body_is_rendered_at_send_time_with_the_footer_on_the_first_message_only() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(1)
    rig.settings(contact_daily_limit=2)  # the second campaign comes the same day
    rig.run()
    first = rig.provider.bodies[0]
    assert first.endswith("\nReply STOP to opt out")
    assert first.startswith(("Hi N0, A", "Hey N0! B"))
    rig.clock.advance(timedelta(minutes=5))
    rig.start([boston(0)], variants=(Variant("A", "Again {first_name|there} {attributes.x|!}", 1),))
    rig.run()
    second = rig.provider.bodies[1]
    assert second == "Again N0 !"


# --- When a message may go out: window, dates, quiet hours ---------------------------------


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 11, 28, 15, 0, tzinfo=UTC),  # Saturday
        datetime(2026, 11, 23, 13, 59, tzinfo=UTC),  # Monday 08:59 Eastern
        datetime(2026, 11, 23, 23, 0, tzinfo=UTC),  # Monday 18:00 Eastern
    ],
)
def test_nothing_leaves_outside_the_campaign_window(instant: datetime) -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(3)
    rig.clock.set(instant)
    report = rig.run()
    assert report.sent == 0 and report.stopped == "outside the campaign's window"
    assert rig.provider.sent == []


def test_nothing_leaves_before_the_campaign_starts() -> None:
    rig = rig_with(1)
    campaign = rig.store.campaigns[(ORG, rig.campaign_id)]
    rig.store.add_campaign(replace(campaign, start_at=MONDAY_10AM_EASTERN + timedelta(minutes=1)))
    assert rig.run().stopped == "outside the campaign's window"
    rig.clock.advance(timedelta(minutes=1))
    assert rig.run().sent == 1


def test_quiet_hours_defer_a_pacific_number_until_its_morning() -> None:
    # Moved from tests/integration/test_sending.py.
    clock_at_9_eastern = MONDAY_10AM_EASTERN - timedelta(hours=1)
    rig = rig_with(0, clock=SimulatedClock(clock_at_9_eastern), phones=[los_angeles(1), boston(1)])
    report = rig.run()
    assert report.sent == 1 and report.quiet_hours_deferred == 1
    assert rig.provider.numbers == [boston(1)]
    assert rig.statuses() == Counter({"sent": 1, "pending": 1})
    rig.clock.set(clock_at_9_eastern + timedelta(hours=2))  # 08:00 in Los Angeles
    assert rig.run().sent == 1
    assert rig.statuses() == Counter({"sent": 2})


def test_the_contacts_own_zone_decides_its_quiet_hours() -> None:
    # Given a Boston number whose contact lives in Los Angeles, at 09:00 Eastern
    rig = rig_with(
        1,
        clock=SimulatedClock(MONDAY_10AM_EASTERN - timedelta(hours=1)),
        timezones={boston(0): "America/Los_Angeles"},
    )
    # Then it waits for 08:00 in Los Angeles
    assert rig.run().quiet_hours_deferred == 1
    rig.clock.advance(timedelta(hours=2))
    assert rig.run().sent == 1


# --- The daily cap -------------------------------------------------------------------------


def test_the_daily_cap_is_exact_and_resets_the_next_day() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(300, daily_limit=125)
    first = rig.run(budget=1000)
    assert first.sent == 125 and first.cap_reached
    assert first.stopped == "daily limit reached"
    assert rig.run(budget=1000).sent == 0
    assert rig.store.sends_on(ORG, rig.campaign_id, DAY) == 125
    rig.clock.advance(timedelta(days=1))
    assert rig.run(budget=1000).sent == 125
    assert rig.statuses()["sent"] == 250
    assert len(set(rig.provider.numbers)) == 250
    assert_no_duplicates(rig)
    assert_accounted(rig)


def test_the_cap_day_is_the_campaigns_calendar_day() -> None:
    # 23:30 Eastern on Monday is Tuesday in UTC: the sends still count on Monday. The
    # contacts live in Tokyo (13:30 there), inside the federal hours, which no
    # organization setting can widen any more.
    phones = [boston(i) for i in range(3)]
    rig = rig_with(
        3,
        phones=phones,
        window=Window("00:00", "23:59", WEEKDAYS),
        daily_limit=2,
        timezones=dict.fromkeys(phones, "Asia/Tokyo"),
    )
    rig.clock.set(datetime(2026, 11, 24, 4, 30, tzinfo=UTC))
    assert rig.run().sent == 2
    assert rig.store.sends_on(ORG, rig.campaign_id, DAY) == 2
    rig.clock.set(datetime(2026, 11, 24, 5, 30, tzinfo=UTC))  # 00:30 Tuesday in New York
    assert rig.run().sent == 1
    assert rig.store.sends_on(ORG, rig.campaign_id, "2026-11-24") == 1


def test_unused_cap_slots_go_back_at_the_end_of_the_run() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(5, daily_limit=125)
    assert rig.run(budget=3).sent == 3
    # Slots are reserved ten at a time; the seven unused went back to the day.
    assert rig.store.sends_on(ORG, rig.campaign_id, DAY) == 3
    assert rig.run().sent == 2
    assert rig.store.sends_on(ORG, rig.campaign_id, DAY) == 5


def test_slots_of_unsent_messages_are_not_used_up() -> None:
    # Given failures, skips and retries, none of which sent anything
    rig = rig_with(4, daily_limit=125)
    rig.opt_out(boston(0))
    provider = ScriptedProvider([PermanentSendError("invalid"), TransientSendError("x")])
    report = rig.sender(provider).run(rig.work())
    # Then only the sends count against the day
    assert (report.sent, report.failed, report.skipped, report.retried) == (1, 1, 1, 1)
    assert rig.store.sends_on(ORG, rig.campaign_id, DAY) == 1


def test_an_unknown_outcome_keeps_its_slot_used() -> None:
    rig = rig_with(1)
    provider = ScriptedProvider([UnknownOutcomeError("no_response")])
    assert rig.sender(provider).run(rig.work()).unknown == 1
    assert rig.store.sends_on(ORG, rig.campaign_id, DAY) == 1


# --- Pace and the tick's budget ------------------------------------------------------------


def test_a_tick_sends_at_most_a_minute_at_the_numbers_rate() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(20, messages_per_second=2)
    start = rig.clock.now()
    report = rig.run(budget=10)
    assert report.sent == 10
    assert report.stopped == "budget used"
    # Ten messages at two a second: at least 4.5 s of (simulated) time between first and last.
    assert rig.clock.now() - start >= timedelta(seconds=4.5)
    sent_at = sorted(at for _, at in rig.provider.sent)
    assert all(b - a >= timedelta(seconds=0.5) for a, b in pairwise(sent_at))


def test_the_default_budget_is_a_minute_at_the_numbers_rate() -> None:
    rig = rig_with(5, messages_per_second=1)
    rig.start([boston(i) for i in range(70)])
    assert rig.run().sent == 60


def test_no_new_recipient_is_taken_near_the_functions_timeout() -> None:
    rig = rig_with(5)
    # The first reading dates the end of the run's turn; then one per recipient.
    left = iter([60.0, 60.0, 60.0, 19.9])
    report = rig.run(time_left=lambda: next(left))
    assert report.sent == 2
    assert report.stopped == "out of time"
    assert rig.statuses() == Counter({"sent": 2, "pending": 3})
    assert rig.store.sends_on(ORG, rig.campaign_id, DAY) == 2, "unused slots went back"


def test_no_sender_number_sends_nothing() -> None:
    rig = rig_with(1)
    organizations = rig.organizations.organizations
    organizations[ORG] = replace(organizations[ORG], sender_number=None)
    assert rig.run().stopped == "no sender number"
    assert rig.provider.sent == []


# --- Provider errors -----------------------------------------------------------------------


def test_transient_errors_are_retried_with_backoff_then_fail_after_three_attempts() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(1)
    provider = ScriptedProvider([TransientSendError("ThrottlingException")] * 3)
    assert rig.sender(provider).run(rig.work()).retried == 1
    assert rig.sender(provider).run(rig.work()).sent == 0  # backing off
    rig.clock.advance(timedelta(minutes=1, seconds=1))
    assert rig.sender(provider).run(rig.work()).retried == 1
    rig.clock.advance(timedelta(minutes=2, seconds=1))
    report = rig.sender(provider).run(rig.work())
    assert report.failed == 1 and report.completed
    assert provider.calls == 3
    assert rig.statuses() == Counter({"failed": 1})
    assert [r.error for r in rig.recipients()] == ["ThrottlingException"]
    assert_accounted(rig)


def test_a_transient_error_then_success_sends_once() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(1)
    provider = ScriptedProvider([TransientSendError("InternalServerException")])
    rig.sender(provider).run(rig.work())
    rig.clock.advance(timedelta(minutes=2))
    assert rig.sender(provider).run(rig.work()).sent == 1
    assert len(provider.sent) == 1


def test_a_permanent_refusal_fails_the_recipient_at_once() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(2)
    provider = ScriptedProvider([PermanentSendError("opted_out_at_carrier")])
    report = rig.sender(provider).run(rig.work())
    assert report.failed == 1 and report.sent == 1 and provider.calls == 2
    failed = [r for r in rig.recipients() if r.status is RecipientStatus.FAILED]
    assert failed[0].error == "opted_out_at_carrier"
    assert failed[0].attempts == 1
    assert_accounted(rig)


def test_an_account_level_refusal_pauses_the_campaign_and_fails_nobody() -> None:
    rig = rig_with(5)
    provider = ScriptedProvider(
        [AccountSendError("ServiceQuotaExceededException", "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT")]
    )
    report = rig.sender(provider).run(rig.work())
    assert (report.sent, report.failed, report.completed) == (0, 0, False)
    assert report.stopped == "paused: ServiceQuotaExceededException"
    assert provider.calls == 1, "the run stops at the first account-level refusal"
    assert rig.statuses() == Counter({"pending": 5})
    assert all(r.attempts == 0 for r in rig.recipients()), "no attempt spent"
    campaign = rig.store.campaigns[(ORG, rig.campaign_id)]
    assert campaign.status is CampaignStatus.PAUSED
    assert campaign.paused_reason == (
        "ServiceQuotaExceededException: MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"
    )
    assert rig.store.sends_on(ORG, rig.campaign_id, DAY) == 0


def test_throttling_is_retried_without_spending_an_attempt() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(2)
    provider = ScriptedProvider([ThrottledSendError("ThrottlingException")] * 5)
    for _ in range(5):
        report = rig.sender(provider).run(rig.work())
        assert (report.sent, report.failed, report.retried) == (0, 0, 1)
        assert report.stopped == "throttled: ThrottlingException"
    assert rig.statuses() == Counter({"pending": 2})
    assert all(r.attempts == 0 for r in rig.recipients())
    report = rig.sender(provider).run(rig.work())
    assert (report.sent, report.completed) == (2, True)


def test_an_unknown_outcome_is_reported_and_never_resent() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(1)
    provider = ScriptedProvider([UnknownOutcomeError("no_response")])
    report = rig.sender(provider).run(rig.work())
    assert report.unknown == 1 and report.completed
    rig.clock.advance(timedelta(days=1))
    assert rig.sender(provider).run(rig.work()).sent == 0
    assert provider.calls == 1 and len(provider.sent) == 1
    assert rig.statuses() == Counter({"unknown": 1})
    assert_accounted(rig)


# --- Claims --------------------------------------------------------------------------------


def test_a_claim_whose_worker_died_ends_unknown_when_its_turn_is_taken_over() -> None:
    rig = rig_with(2)

    with pytest.raises(Killed):  # the process died: its turn runs out, not given back
        rig.sender(hooks=KILLED_AFTER_CLAIM).run(rig.work())
    assert rig.statuses() == Counter({"pending": 2})
    ((_, claimed), history) = rig.store.history.popitem()
    rig.store.history[(ORG, claimed)] = history
    claim = history.claim_of(rig.campaign_id)
    assert claim is not None and claim.until == rig.clock.now() + CLAIM_LEASE
    assert rig.run().stopped == "organization busy"  # its turn has not run out
    rig.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    report = rig.run()
    assert report.sent == 1
    assert rig.provider.numbers == [({boston(0), boston(1)} - {claimed}).pop()]
    unknown = [r for r in rig.recipients() if r.status is RecipientStatus.UNKNOWN]
    assert [(r.phone, r.error, r.attempts) for r in unknown] == [(claimed, "claim expired", 1)]
    assert_accounted(rig)


def test_a_text_whose_outcome_could_not_be_written_is_never_sent_again() -> None:
    # The provider took the text, then DynamoDB refused the outcome's write: the run
    # fails, and the next one (at once: the failed run gave its turn back) closes it.
    rig = rig_with(2, messages_per_second=1)
    record = rig.store.record

    def refused_once(candidate: Any, outcome: Any, **kwargs: Any) -> bool:
        if outcome.status is RecipientStatus.SENT and not refused:
            refused.append(candidate.phone)
            raise RuntimeError("ProvisionedThroughputExceededException")
        return record(candidate, outcome, **kwargs)

    refused: list[str] = []
    rig.store.record = refused_once  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        rig.run()
    report = rig.run()
    assert report.sent == 1 and report.completed
    assert sorted(rig.provider.numbers) == [boston(0), boston(1)], "each number once"
    unknown = [r for r in rig.recipients() if r.status is RecipientStatus.UNKNOWN]
    assert [(r.phone, r.error) for r in unknown] == [(refused[0], "claim expired")]
    assert_accounted(rig)


def test_a_claim_no_turn_closed_ends_unknown_once_its_lease_is_over() -> None:
    # A claim the turn did not close (the takeover's own writes failed, say) is found
    # by the walk: left while its lease lasts, then unknown, never texted.
    rig = rig_with(1)
    now = rig.clock.now()
    candidate = rig.recipients()[0].candidate()
    assert rig.store.claim(candidate, None, Claim.of("lost", now + CLAIM_LEASE), now=now)
    assert (rig.run().sent, rig.statuses()) == (0, Counter({"pending": 1}))
    rig.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    assert rig.run().unknown == 1
    assert rig.provider.sent == []
    assert [r.error for r in rig.recipients()] == ["claim expired"]


def test_a_recipient_claimed_by_another_worker_is_left_to_it() -> None:
    rig = rig_with(2)
    other = rig.store.recipients[(ORG, rig.campaign_id, f"C{boston(0)}")]
    now = rig.clock.now()
    claim = Claim.of("other", now + CLAIM_LEASE)
    assert rig.store.claim(other.candidate(), None, claim, now=now)
    report = rig.run()
    assert (report.sent, report.unknown, report.completed) == (1, 0, False)
    assert rig.provider.numbers == [boston(1)]
    assert rig.store.sends_on(ORG, rig.campaign_id, DAY) == 1, "the untaken slot went back"


def test_a_recipient_the_open_index_still_shows_after_its_text_is_never_texted_again() -> None:
    # The open index is eventually consistent: a second run (a duplicated delivery)
    # may read recipients the first one recorded a moment ago as still open.
    rig = rig_with(3)
    stale = list(rig.store.open_recipients(ORG, rig.campaign_id))
    assert rig.run().sent == 3
    rig.store.open_recipients = lambda org_id, campaign_id: iter(stale)  # type: ignore[method-assign]
    for _ in range(2):  # while the claims' leases last, and after
        report = rig.run()
        assert (report.sent, report.unknown, report.skipped) == (0, 0, 0)
        rig.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    assert len(rig.provider.sent) == 3
    assert rig.statuses() == Counter({"sent": 3})
    assert_accounted(rig)


def test_a_recipient_whose_text_failed_is_never_taken_again_and_leaves_its_footer_due() -> None:
    rig = rig_with(1)
    stale = list(rig.store.open_recipients(ORG, rig.campaign_id))
    assert rig.sender(ScriptedProvider([PermanentSendError("invalid")])).run(rig.work()).failed
    history = rig.store.history[(ORG, boston(0))]
    assert not history.texted and history.recent == (), "no text went"
    rig.store.open_recipients = lambda org_id, campaign_id: iter(stale)  # type: ignore[method-assign]
    rig.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    assert rig.run().sent == 0
    assert rig.provider.calls == 0
    del rig.store.open_recipients  # the index caught up
    # The number's first text, from another campaign, carries the footer.
    rig.start([boston(0)])
    assert rig.run().sent == 1
    assert rig.provider.bodies[0].endswith(FOOTER)


def test_a_campaign_past_its_end_leaves_a_claimed_recipient_unknown_not_skipped() -> None:
    rig = rig_with(2)
    now = rig.clock.now()
    claimed = rig.recipients()[0].candidate()
    assert rig.store.claim(claimed, None, Claim.of("lost", now + CLAIM_LEASE), now=now)
    campaign = rig.store.campaigns[(ORG, rig.campaign_id)]
    rig.store.add_campaign(replace(campaign, end_at=now))
    report = rig.run()
    assert (report.completed, report.unknown, report.skipped) == (True, 1, 1)
    assert rig.statuses() == Counter({"unknown": 1, "skipped": 1})
    assert rig.provider.sent == []


# --- Checkpoints: opt-outs and pause or cancel, right before the provider ------------------


def test_an_opt_out_after_the_start_is_honoured_at_send_time() -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(3)
    rig.opt_out(boston(1))
    report = rig.run()
    assert report.sent == 2 and report.skipped == 1
    assert boston(1) not in rig.provider.numbers
    opted = [r for r in rig.recipients() if r.status is RecipientStatus.SKIPPED]
    assert [r.error for r in opted] == ["opted out"]
    assert_accounted(rig)


@pytest.mark.parametrize("whole_list_up_to", [200, 1], ids=["whole list", "by number"])
def test_an_opt_out_arriving_mid_run_is_honoured_within_the_send_deadline(
    monkeypatch: pytest.MonkeyPatch, whole_list_up_to: int
) -> None:
    # Moved from tests/integration/test_sending.py.
    monkeypatch.setattr(checkpoint_module, "OPT_OUT_LIST_AT_MOST", whole_list_up_to)
    rig = rig_with(6, messages_per_second=1)
    for phone in ("+16175559990", "+16175559991"):  # a list longer than one number
        rig.opt_out(phone)
    sends: list[str] = []

    def stop_after_second_send(candidate: Any) -> None:
        sends.append(candidate.phone)
        if len(sends) == 2:
            # Everyone still waiting opts out; at one message a second, every next
            # send is a deadline later, so each reads the list again.
            for index in range(6):
                rig.opt_out(boston(index))

    report = rig.sender(hooks=FaultHooks(after_provider=stop_after_second_send)).run(rig.work())
    assert (report.sent, report.skipped) == (2, 4)
    assert len(rig.provider.sent) == 2
    assert_accounted(rig)


def _count_status_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The campaign of each status read the fake sending store answers, from now on."""
    reads: list[str] = []
    status = InMemorySendingStore.campaign_status

    def counted(self: InMemorySendingStore, org_id: str, campaign_id: str) -> Any:
        reads.append(campaign_id)
        return status(self, org_id, campaign_id)

    monkeypatch.setattr(InMemorySendingStore, "campaign_status", counted)
    return reads


def test_status_and_opt_outs_are_read_once_per_send_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Moved from tests/integration/test_sending.py (reads counted on the fake).
    reads = _count_status_reads(monkeypatch)
    # 20 messages a second for 40 messages: two simulated seconds of sends.
    rig = rig_with(40, messages_per_second=20)
    started = time.monotonic()
    assert rig.run().sent == 40
    # A read is also due each real second (the checkpoint ages on both clocks): on a
    # loaded machine the 40 sends can take several real seconds.
    real_seconds = time.monotonic() - started
    assert 2 <= len(reads) <= 3 + int(real_seconds / SEND_DEADLINE_SECONDS), (reads, real_seconds)


def _run_with_status_at_claim(rig: Rig, claim: int, status: CampaignStatus) -> SendReport:
    """One run in which the campaign's status becomes ``status`` once ``claim`` recipients
    are claimed, as the campaign service's pause or cancel does it: the write, then the
    send deadline."""

    def change_status() -> None:
        rig.store.set_status(ORG, rig.campaign_id, status)
        rig.clock.sleep(SEND_DEADLINE_SECONDS)

    return rig.sender(hooks=on_claim(claim, change_status)).run(rig.work())


def test_pause_seen_at_the_checkpoint_stops_the_tick_and_loses_nobody() -> None:
    rig = rig_with(10)
    report = _run_with_status_at_claim(rig, 3, CampaignStatus.PAUSED)
    assert report.sent == 2 and report.stopped == "campaign paused"
    assert len(rig.provider.sent) == 2
    assert rig.statuses() == Counter({"sent": 2, "pending": 8}), "the claim was given back"
    assert rig.run().stopped == "not active"
    rig.store.set_status(ORG, rig.campaign_id, CampaignStatus.ACTIVE)
    assert rig.run().sent == 8
    assert len(set(rig.provider.numbers)) == 10


def test_cancel_seen_at_the_checkpoint_skips_the_claimed_recipient() -> None:
    rig = rig_with(10)
    report = _run_with_status_at_claim(rig, 4, CampaignStatus.CANCELLED)
    assert (report.sent, report.skipped) == (3, 1)
    assert report.stopped == "campaign cancelled"
    skipped = [r for r in rig.recipients() if r.status is RecipientStatus.SKIPPED]
    assert [r.error for r in skipped] == ["campaign cancelled"]
    # The rest is the campaign service's to skip (it does, once the status is written).
    assert rig.statuses() == Counter({"sent": 3, "skipped": 1, "pending": 6})


def _monotonic_steps(steps: list[float], then: float) -> Iterator[float]:
    """A monotonic clock that moves by ``steps`` on its first calls, then by ``then``."""
    now = 0.0
    for step in steps:
        now += step
        yield now
    while True:
        now += then
        yield now


def test_a_stalled_status_check_is_read_again_not_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(3)
    ticks = _monotonic_steps([0.0, 5.0], then=0.001)
    # The sender's real clock for its deadline, not the simulated one: the first read stalls.
    monkeypatch.setattr(time, "monotonic", lambda: next(ticks))
    reads = _count_status_reads(monkeypatch)
    report = rig.run()
    monkeypatch.undo()
    # The stale read (5 s > the deadline) was replaced by a fresh one before any send.
    assert report.sent == 3 and report.stopped is None
    assert len(reads) == 2
    assert_accounted(rig)


def test_a_status_check_that_keeps_stalling_gives_the_recipient_back_and_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Moved from tests/integration/test_sending.py.
    rig = rig_with(3)
    # Every read goes stale before it can be used, three times over: that recipient waits.
    ticks = _monotonic_steps([0.0, 5.0, 5.0, 5.0, 5.0, 5.0], then=0.001)
    monkeypatch.setattr(time, "monotonic", lambda: next(ticks))
    report = rig.run()
    monkeypatch.undo()
    assert report.sent == 2 and report.stopped is None
    assert rig.statuses() == Counter({"sent": 2, "pending": 1})
    assert rig.run().sent == 1
    assert_accounted(rig)
