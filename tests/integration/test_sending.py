"""The sending engine's promises (../shared/product/sending-rules.md), in-process against moto."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.campaigns.domain import SEND_DEADLINE_SECONDS, RecipientStatus, Variant
from outreach.contacts.domain import OptOutSource
from outreach.contacts.repository import OptOutRepository
from outreach.sending.dispatch import CampaignWork
from outreach.sending.repository import SendingRepository
from outreach.sending.sender import CLAIM_LEASE, FaultHooks
from outreach.sms.providers import (
    AccountSendError,
    OutboundMessage,
    PermanentSendError,
    SandboxProvider,
    SendResult,
    ThrottledSendError,
    TransientSendError,
    UnknownOutcomeError,
)
from tests.support.engine import (
    MONDAY_10AM_EASTERN,
    World,
    add_contacts,
    boston,
    los_angeles,
    start_campaign,
    world_with,
)

TERMINAL = {"sent", "delivered", "failed", "skipped", "unknown"}


def assert_accounted(world: World) -> None:
    """Every recipient is in one state, and the counters say the same."""
    statuses = world.statuses()
    counters = world.counters()
    assert sum(statuses.values()) == counters["recipients"]
    for status in ("sent", "failed", "skipped", "unknown"):
        assert counters[status] == statuses[status], (status, counters, statuses)
    assert counters["pending"] == statuses["pending"] + statuses["sending"]


def assert_no_duplicates(world: World) -> None:
    phones = Counter(message.to_number for message in world.outbox())
    assert all(count == 1 for count in phones.values()), phones.most_common(3)


def test_sends_each_recipient_once_and_completes(aws: None) -> None:
    world = world_with(10)
    report = world.sender().run(world.work())
    assert report.sent == 10 and report.completed
    assert world.statuses() == Counter({"sent": 10})
    assert len(world.outbox()) == 10
    assert_no_duplicates(world)
    assert_accounted(world)
    assert world.sender().run(world.work()).stopped == "not active"


def test_body_is_rendered_at_send_time_with_the_footer_on_the_first_message_only(aws: None) -> None:
    world = world_with(1)
    world.sender().run(world.work())
    first = world.outbox()[0].body
    assert first.endswith("\nReply STOP to opt out")
    assert first.startswith(("Hi N0, A", "Hey N0! B"))
    world.clock.advance(timedelta(minutes=5))
    start_campaign(world, variants=(Variant("A", "Again {first_name|there} {attributes.x|!}", 1),))
    world.sender().run(world.work())
    second = world.outbox()[1].body
    assert second == "Again N0 !"


def test_the_daily_cap_is_exact_and_resets_the_next_day(aws: None) -> None:
    world = world_with(300, daily_limit=125)
    first = world.sender().run(world.work(), budget=1000)
    assert first.sent == 125 and first.cap_reached
    assert world.sender().run(world.work(), budget=1000).sent == 0
    world.clock.advance(timedelta(days=1))
    assert world.sender().run(world.work(), budget=1000).sent == 125
    assert world.statuses()["sent"] == 250
    assert_no_duplicates(world)
    assert_accounted(world)


def test_a_tick_sends_at_most_a_minute_at_the_numbers_rate(aws: None) -> None:
    world = world_with(20, messages_per_second=2)
    start = world.clock.now()
    report = world.sender().run(world.work(), budget=10)
    assert report.sent == 10
    # Ten messages at two a second: at least 4.5 s of (simulated) time between first and last.
    assert world.clock.now() - start >= timedelta(seconds=4.5)
    sent_at = sorted(m.sent_at for m in world.outbox())
    assert all(b - a >= timedelta(seconds=0.5) for a, b in pairwise(sent_at))


def test_quiet_hours_defer_a_pacific_number_until_its_morning(aws: None) -> None:
    clock_at_9_eastern = MONDAY_10AM_EASTERN - timedelta(hours=1)
    from outreach.clock import SimulatedClock

    world = world_with(
        0, clock=SimulatedClock(clock_at_9_eastern), phones=[los_angeles(1), boston(1)]
    )
    report = world.sender().run(world.work())
    assert report.sent == 1 and report.quiet_hours_deferred == 1
    assert [m.to_number for m in world.outbox()] == [boston(1)]
    assert world.statuses() == Counter({"sent": 1, "pending": 1})
    world.clock.set(clock_at_9_eastern + timedelta(hours=2))  # 08:00 in Los Angeles
    assert world.sender().run(world.work()).sent == 1
    assert world.statuses() == Counter({"sent": 2})


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 11, 28, 15, 0, tzinfo=UTC),  # Saturday
        datetime(2026, 11, 23, 13, 59, tzinfo=UTC),  # Monday 08:59 Eastern
        datetime(2026, 11, 23, 23, 0, tzinfo=UTC),  # Monday 18:00 Eastern
    ],
)
def test_nothing_leaves_outside_the_campaign_window(aws: None, instant: datetime) -> None:
    world = world_with(3)
    world.clock.set(instant)
    report = world.sender().run(world.work())
    assert report.sent == 0 and report.stopped == "outside the campaign's window"
    assert world.outbox() == []


def test_an_opt_out_after_the_start_is_honoured_at_send_time(aws: None) -> None:
    world = world_with(3)
    OptOutRepository().add(world.org_id, boston(1), OptOutSource.KEYWORD, world.clock.now())
    report = world.sender().run(world.work())
    assert report.sent == 2 and report.skipped == 1
    assert boston(1) not in {m.to_number for m in world.outbox()}
    assert_accounted(world)


@pytest.mark.parametrize("whole_list_up_to", [200, 1], ids=["whole list", "by number"])
def test_an_opt_out_arriving_mid_run_is_honoured_within_the_send_deadline(
    aws: None, monkeypatch: pytest.MonkeyPatch, whole_list_up_to: int
) -> None:
    from outreach.sending import sender as sender_module

    monkeypatch.setattr(sender_module, "OPT_OUT_LIST_AT_MOST", whole_list_up_to)
    world = world_with(6, messages_per_second=1)
    for phone in ("+16175559990", "+16175559991"):  # a list longer than one number
        OptOutRepository().add(world.org_id, phone, OptOutSource.KEYWORD, world.clock.now())
    sends: list[str] = []

    def stop_after_second_send(candidate: Any) -> None:
        sends.append(candidate.phone)
        if len(sends) == 2:
            # Everyone still waiting opts out; at one message a second, every next
            # send is a deadline later, so each reads the list again.
            for index in range(6):
                OptOutRepository().add(
                    world.org_id, boston(index), OptOutSource.KEYWORD, world.clock.now()
                )

    report = world.sender(hooks=FaultHooks(after_provider=stop_after_second_send)).run(world.work())
    assert (report.sent, report.skipped) == (2, 4)
    assert len(world.outbox()) == 2
    assert_accounted(world)


def test_status_and_opt_outs_are_read_once_per_send_deadline(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    status = SendingRepository.campaign_status

    def counted(self: SendingRepository, org_id: str, campaign_id: str) -> Any:
        reads.append(campaign_id)
        return status(self, org_id, campaign_id)

    monkeypatch.setattr(SendingRepository, "campaign_status", counted)
    # 20 messages a second for 40 messages: two simulated seconds of sends.
    world = world_with(40, messages_per_second=20)
    started = time.monotonic()
    assert world.sender().run(world.work()).sent == 40
    # A read is also due each real second (the checkpoint ages on both clocks): on a
    # loaded machine the 40 sends can take several real seconds.
    real_seconds = time.monotonic() - started
    assert 2 <= len(reads) <= 3 + int(real_seconds / SEND_DEADLINE_SECONDS), (reads, real_seconds)


def test_unused_cap_slots_go_back_at_the_end_of_the_run(aws: None) -> None:
    world = world_with(5, daily_limit=125)
    assert world.sender().run(world.work(), budget=3).sent == 3
    # Slots are reserved ten at a time; the seven unused went back to the day.
    assert SendingRepository().sends_on(world.org_id, world.campaign_id, "2026-11-23") == 3
    assert world.sender().run(world.work()).sent == 2
    assert SendingRepository().sends_on(world.org_id, world.campaign_id, "2026-11-23") == 5


def test_a_campaign_is_not_completed_while_the_table_has_an_open_recipient_the_index_lacks(
    aws: None,
) -> None:
    from outreach.campaigns.repository import campaign_key
    from outreach.data.models import RecipientModel

    world = world_with(3)
    # As if the index had not caught up with one recipient of a start that just ended.
    late = next(iter(world.recipients()))
    RecipientModel(campaign_key(world.org_id, world.campaign_id), late.contact_id).update(
        actions=[RecipientModel.campaign_status.remove()]
    )
    report = world.sender().run(world.work())
    assert report.sent == 2 and not report.completed
    assert world.statuses() == Counter({"sent": 2, "pending": 1})


def test_pause_mid_batch_stops_at_once_and_loses_nobody(aws: None) -> None:
    world = world_with(10)
    claims = []

    def pause_on_third_claim(candidate: object) -> None:
        claims.append(candidate)
        if len(claims) == 3:
            world.services().pause(world.org_id, world.campaign_id)

    report = world.sender(hooks=FaultHooks(after_claim=pause_on_third_claim)).run(world.work())
    assert report.sent == 2 and report.stopped == "campaign paused"
    assert len(world.outbox()) == 2
    assert world.statuses() == Counter({"sent": 2, "pending": 8})
    assert world.sender().run(world.work()).sent == 0
    world.services().resume(world.org_id, world.campaign_id)
    assert world.sender().run(world.work()).sent == 8
    assert_no_duplicates(world)
    assert_accounted(world)


def test_cancel_mid_batch_leaves_no_recipient_pending(aws: None) -> None:
    world = world_with(10)
    claims = []

    def cancel_on_fourth_claim(candidate: object) -> None:
        claims.append(candidate)
        if len(claims) == 4:
            world.services().cancel(world.org_id, world.campaign_id)

    report = world.sender(hooks=FaultHooks(after_claim=cancel_on_fourth_claim)).run(world.work())
    assert report.sent == 3
    assert world.statuses() == Counter({"sent": 3, "skipped": 7})
    assert_accounted(world)


class ScriptedProvider:
    """Answers each call from a script of outcomes, then sends normally."""

    name = "scripted"

    def __init__(self, *outcomes: Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.inner = SandboxProvider()
        self.calls = 0

    def send(self, message: OutboundMessage, *, sent_at: datetime) -> SendResult:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if isinstance(outcome, UnknownOutcomeError):
            self.inner.send(message, sent_at=sent_at)  # it did go out
            raise outcome
        if outcome is not None:
            raise outcome
        return self.inner.send(message, sent_at=sent_at)


def test_transient_errors_are_retried_with_backoff_then_fail_after_three_attempts(
    aws: None,
) -> None:
    world = world_with(1)
    provider = ScriptedProvider(*[TransientSendError("ThrottlingException")] * 3)
    assert world.sender(provider).run(world.work()).retried == 1
    assert world.sender(provider).run(world.work()).sent == 0  # backing off
    world.clock.advance(timedelta(minutes=1, seconds=1))
    assert world.sender(provider).run(world.work()).retried == 1
    world.clock.advance(timedelta(minutes=2, seconds=1))
    report = world.sender(provider).run(world.work())
    assert report.failed == 1 and report.completed
    assert provider.calls == 3
    assert world.statuses() == Counter({"failed": 1})
    assert_accounted(world)


def test_a_transient_error_then_success_sends_once(aws: None) -> None:
    world = world_with(1)
    provider = ScriptedProvider(TransientSendError("InternalServerException"))
    world.sender(provider).run(world.work())
    world.clock.advance(timedelta(minutes=2))
    assert world.sender(provider).run(world.work()).sent == 1
    assert len(world.outbox()) == 1


def test_a_permanent_refusal_fails_the_recipient_at_once(aws: None) -> None:
    world = world_with(2)
    provider = ScriptedProvider(PermanentSendError("opted_out_at_carrier"))
    report = world.sender(provider).run(world.work())
    assert report.failed == 1 and report.sent == 1 and provider.calls == 2
    failed = [r for r in world.recipients() if r.status == "failed"]
    assert failed[0].error == "opted_out_at_carrier"
    assert_accounted(world)


def test_an_account_level_refusal_pauses_the_campaign_and_fails_nobody(aws: None) -> None:
    from outreach.campaigns.repository import CampaignRepository
    from outreach.sending.dispatch import ActiveCampaignRepository

    world = world_with(5)
    provider = ScriptedProvider(
        AccountSendError("ServiceQuotaExceededException", "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT")
    )
    report = world.sender(provider).run(world.work())
    assert (report.sent, report.failed, report.completed) == (0, 0, False)
    assert report.stopped == "paused: ServiceQuotaExceededException"
    assert provider.calls == 1, "the run stops at the first account-level refusal"
    assert world.statuses() == Counter({"pending": 5})
    assert all(int(r.attempts or 0) == 0 for r in world.recipients()), "no attempt spent"
    campaign = CampaignRepository().get(world.org_id, world.campaign_id)
    assert campaign.status.value == "paused"
    assert campaign.paused_reason is not None
    assert "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT" in campaign.paused_reason
    stats = world.services().stats(world.org_id, world.campaign_id)
    assert stats.paused_reason == campaign.paused_reason
    assert (world.org_id, world.campaign_id) not in {
        pair for shard in range(8) for pair in ActiveCampaignRepository().in_shard(shard)
    }, "a paused campaign leaves the dispatch index"
    # Once an operator fixes the account, resuming clears the reason and sends everyone.
    resumed = world.services().resume(world.org_id, world.campaign_id)
    assert resumed.paused_reason is None
    assert world.sender(provider).run(world.work()).sent == 5


def test_throttling_is_retried_without_spending_an_attempt(aws: None) -> None:
    world = world_with(2)
    provider = ScriptedProvider(*[ThrottledSendError("ThrottlingException")] * 5)
    for _ in range(5):
        report = world.sender(provider).run(world.work())
        assert (report.sent, report.failed, report.retried) == (0, 0, 1)
        assert report.stopped == "throttled: ThrottlingException"
    assert world.statuses() == Counter({"pending": 2})
    assert all(int(r.attempts or 0) == 0 for r in world.recipients())
    report = world.sender(provider).run(world.work())
    assert (report.sent, report.completed) == (2, True)


def test_an_unknown_outcome_is_reported_and_never_resent(aws: None) -> None:
    world = world_with(1)
    provider = ScriptedProvider(UnknownOutcomeError("no_response"))
    report = world.sender(provider).run(world.work())
    assert report.unknown == 1 and report.completed
    world.clock.advance(timedelta(days=1))
    assert world.sender(provider).run(world.work()).sent == 0
    assert provider.calls == 1 and len(world.outbox()) == 1
    assert_accounted(world)


class Killed(BaseException):
    """The worker process died (BaseException: nothing in the sender catches it)."""


def test_a_worker_killed_between_claim_and_provider_ends_unknown_and_sends_nothing(
    aws: None,
) -> None:
    world = world_with(1)

    def die(_: object) -> None:
        raise Killed

    with pytest.raises(Killed):
        world.sender(hooks=FaultHooks(after_claim=die)).run(world.work())
    assert world.statuses() == Counter({"sending": 1})
    assert world.sender().run(world.work()).sent == 0  # the lease still holds
    world.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    report = world.sender().run(world.work())
    assert report.unknown == 1 and report.sent == 0
    assert world.outbox() == []
    assert_accounted(world)


def test_a_worker_killed_between_provider_and_record_never_sends_twice(aws: None) -> None:
    world = world_with(1)

    def die(_: object) -> None:
        raise Killed

    with pytest.raises(Killed):
        world.sender(hooks=FaultHooks(after_provider=die)).run(world.work())
    world.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    assert world.sender().run(world.work()).unknown == 1
    world.clock.advance(timedelta(days=1))
    world.sender().run(world.work())
    assert len(world.outbox()) == 1
    assert world.statuses() == Counter({"unknown": 1})
    assert_accounted(world)


class FlakyProvider:
    """Fails a share of calls at random: transient, permanent, or after sending (unknown)."""

    name = "flaky"

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng = rng
        self.rate = rate
        self.inner = SandboxProvider()

    def send(self, message: OutboundMessage, *, sent_at: datetime) -> SendResult:
        if self.rng.random() < self.rate:
            kind = self.rng.choice(["transient", "permanent", "unknown"])
            if kind == "transient":
                raise TransientSendError("ThrottlingException")
            if kind == "permanent":
                raise PermanentSendError("ValidationException")
            self.inner.send(message, sent_at=sent_at)
            raise UnknownOutcomeError("no_response")
        return self.inner.send(message, sent_at=sent_at)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_faults_and_crashes_never_send_twice_and_lose_nobody(aws: None, seed: int) -> None:
    rng = random.Random(seed)
    world = world_with(60, daily_limit=125)
    provider = FlakyProvider(rng, rate=0.2)

    def maybe_die(_: object) -> None:
        if rng.random() < 0.05:
            raise Killed

    hooks = FaultHooks(after_claim=maybe_die, after_provider=maybe_die)
    for _ in range(40):
        with suppress(Killed):
            world.sender(provider, hooks).run(world.work())
        world.clock.advance(timedelta(minutes=3))
        if world.statuses().keys() <= TERMINAL:
            break
    world.clock.advance(CLAIM_LEASE + timedelta(minutes=1))
    world.sender(provider).run(world.work())
    assert world.statuses().keys() <= TERMINAL, world.statuses()
    assert_no_duplicates(world)
    assert_accounted(world)


def test_the_same_queue_message_delivered_twice_sends_once(aws: None, lambda_context: Any) -> None:
    from outreach.sending.sender import SenderFactory
    from outreach.sending.sqs import handle_send_batch

    world = world_with(5)
    event = {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r-1",
                "body": world.work().to_message(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795446000000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1795446000000",
                    "MessageGroupId": world.org_id,
                    "MessageDeduplicationId": "d-1",
                    "SequenceNumber": "1",
                },
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:outreach-send.fifo",
                "awsRegion": "us-east-1",
            }
        ]
    }
    factory = SenderFactory(clock=world.clock)
    for _ in range(2):
        response, _reports = handle_send_batch(event, lambda_context, factory)
        assert response == {"batchItemFailures": []}
    assert len(world.outbox()) == 5
    assert_no_duplicates(world)


def _records(*bodies: str, groups: list[str] | None = None) -> dict[str, object]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"r-{i}",
                "body": body,
                "attributes": {
                    "MessageGroupId": groups[i] if groups else "ORG",
                    "ApproximateReceiveCount": "1",
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for i, body in enumerate(bodies)
        ]
    }


def test_a_bad_queue_message_fails_it_and_the_rest_of_its_group(
    aws: None, lambda_context: Any
) -> None:
    from outreach.sending.sender import SenderFactory
    from outreach.sending.sqs import handle_send_batch

    unknown = '{"org_id": "O", "campaign_id": "C", "tick": "2026-11-23T15:00:00Z"}'
    response, reports = handle_send_batch(
        _records(unknown, "not json", unknown),
        lambda_context,
        SenderFactory(),
    )
    # FIFO: the failed message and every one after it go back to the queue, in order.
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]}
    assert [r.stopped for r in reports] == ["not active"]


def test_a_failed_message_holds_back_only_its_own_organization(
    aws: None, lambda_context: Any
) -> None:
    from outreach.sending.sender import SenderFactory
    from outreach.sending.sqs import handle_send_batch

    def work(org: str) -> str:
        return f'{{"org_id": "{org}", "campaign_id": "C", "tick": "2026-11-23T15:00:00Z"}}'

    response, reports = handle_send_batch(
        _records(
            "not json",
            work("ORG"),
            work("OTHER"),
            work("OTHER"),
            groups=["ORG", "ORG", "OTHER", "OTHER"],
        ),
        lambda_context,
        SenderFactory(),
    )
    # ORG's later message waits behind its failed one; OTHER's work runs (one message
    # group per organization, as the dispatcher sends them).
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}
    assert [r.org_id for r in reports] == ["OTHER", "OTHER"]


class _TimedContext:
    """A Lambda context whose remaining time runs down with the sender's (simulated) clock."""

    function_name = "sender"
    aws_request_id = "req-1"

    def __init__(self, clock: Any, timeout_seconds: float) -> None:
        self._clock = clock
        self._deadline = clock.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - self._clock.monotonic()) * 1000)


def test_a_batch_stops_taking_recipients_before_the_function_times_out(aws: None) -> None:
    from outreach.sending.sender import TIME_MARGIN_SECONDS, SenderFactory
    from outreach.sending.sqs import handle_send_batch
    from tests.support.engine import start_campaign

    world = world_with(100, messages_per_second=1)
    first = world.campaign_id
    second = start_campaign(world)
    third = start_campaign(world)
    bodies = [
        CampaignWork(org_id=world.org_id, campaign_id=c, tick=world.clock.now()).to_message()
        for c in (first, second, third)
    ]
    context = _TimedContext(world.clock, timeout_seconds=90)
    response, reports = handle_send_batch(
        _records(*bodies),
        cast(LambdaContext, context),
        SenderFactory(clock=world.clock),
    )

    # One number at 1 a second: the first campaign's minute, then the second's until
    # the margin; the third waits for the next tick. Nothing is retried or lost.
    assert response == {"batchItemFailures": []}
    sent = [r.sent for r in reports]
    assert sent[0] == 60 and 0 < sent[1] < 60 and sent[2] == 0, sent
    assert [r.stopped for r in reports] == ["budget used", "out of time", "out of time"]
    assert context.get_remaining_time_in_millis() / 1000 >= TIME_MARGIN_SECONDS - 1
    repository = SendingRepository()
    for campaign_id, report in zip((first, second, third), reports, strict=True):
        world.campaign_id = campaign_id
        statuses = world.statuses()
        assert statuses == Counter({"sent": report.sent, "pending": 100 - report.sent}), statuses
        # Unused cap slots were given back: the day's count is what left.
        assert repository.sends_on(world.org_id, campaign_id, "2026-11-23") == report.sent


def test_a_batch_where_everything_fails_is_retried_whole(aws: None, lambda_context: Any) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from outreach.sending.sender import SenderFactory
    from outreach.sending.sqs import handle_send_batch

    with pytest.raises(BatchProcessingError):
        handle_send_batch(_records("not json", "{}"), lambda_context, SenderFactory())


def test_a_campaign_past_its_end_completes_and_skips_the_rest(aws: None) -> None:
    world = world_with(0, phones=[boston(1), boston(2)])
    from outreach.campaigns.repository import CampaignRepository

    assert CampaignRepository().get(world.org_id, world.campaign_id).end_at is None
    world.clock.advance(timedelta(hours=1))
    from outreach.data.models import CampaignModel

    CampaignModel(world.org_id, world.campaign_id).update(
        actions=[CampaignModel.end_at.set(world.clock.now() - timedelta(minutes=1))]
    )
    report = world.sender().run(world.work())
    assert report.completed and report.skipped == 2
    assert world.statuses() == Counter({"skipped": 2})
    assert_accounted(world)


def test_deferred_recipients_keep_the_campaign_active(aws: None) -> None:
    from outreach.clock import SimulatedClock

    world = world_with(
        0, clock=SimulatedClock(MONDAY_10AM_EASTERN - timedelta(hours=1)), phones=[los_angeles(2)]
    )
    report = world.sender().run(world.work())
    assert report.quiet_hours_deferred == 1 and not report.completed
    add_contacts(world.org_id, [boston(9)], world.clock)  # not in the audience any more
    assert world.statuses() == Counter({"pending": 1})


def test_a_second_start_while_one_runs_is_refused_and_changes_nothing(aws: None) -> None:
    from outreach.campaigns.domain import Audience
    from outreach.campaigns.repository import CampaignRepository
    from outreach.campaigns.service import CampaignDraft
    from outreach.errors import Conflict

    world = world_with(2)
    service = world.services()
    campaign = service.create(
        world.org_id,
        CampaignDraft(name="Two", variants=(Variant("A", "Hi", 1),), audience=Audience(all=True)),
    )
    now = world.clock.now()
    CampaignRepository().begin_start(
        world.org_id, campaign.id, token="other-start", now=now, until=now + timedelta(seconds=60)
    )
    for attempt in (
        lambda: service.start(world.org_id, campaign.id),
        lambda: service.cancel(world.org_id, campaign.id),
        lambda: service.delete(world.org_id, campaign.id),
        lambda: service.update(world.org_id, campaign.id, CampaignDraft(name="Renamed")),
    ):
        with pytest.raises(Conflict):
            attempt()
    assert service.get(world.org_id, campaign.id).name == "Two"


def test_an_interrupted_start_is_resumable_and_its_leftovers_are_cleared(aws: None) -> None:
    from outreach.campaigns.domain import Audience, Recipient, RecipientStatus
    from outreach.campaigns.repository import CampaignRepository, RecipientRepository
    from outreach.campaigns.service import CampaignDraft

    world = world_with(2)
    service = world.services()
    campaign = service.create(
        world.org_id,
        CampaignDraft(name="Again", variants=(Variant("A", "Hi", 1),), audience=Audience(all=True)),
    )
    # A start that died after writing a recipient of an audience since changed.
    now = world.clock.now()
    CampaignRepository().begin_start(
        world.org_id,
        campaign.id,
        token="dead",
        now=now - timedelta(minutes=10),
        until=now - timedelta(minutes=8),
    )
    RecipientRepository().write_snapshot(
        [
            Recipient(
                org_id=world.org_id,
                campaign_id=campaign.id,
                contact_id="01ZZZZZZZZZZZZZZZZZZZZZZZZ",
                phone=boston(99),
                variant="A",
                status=RecipientStatus.PENDING,
                attempts=0,
                provider_message_id=None,
                error=None,
                sent_at=None,
                updated_at=now,
            )
        ]
    )
    started = service.start(world.org_id, campaign.id)
    assert started.recipients == 2
    world.campaign_id = campaign.id
    assert sorted(r.phone for r in world.recipients()) == [boston(0), boston(1)]


@pytest.mark.parametrize("action", ["pause", "cancel"])
def test_no_message_leaves_after_pause_or_cancel_returns_with_a_sender_mid_batch(
    aws: None, action: str
) -> None:
    import threading
    import time

    from outreach.clock import SystemClock

    world = world_with(60)
    starts: list[float] = []

    class SlowProvider:
        name = "slow"

        def __init__(self) -> None:
            self.inner = SandboxProvider()

        def send(self, message: OutboundMessage, *, sent_at: datetime) -> SendResult:
            starts.append(time.monotonic())
            time.sleep(0.02)
            return self.inner.send(message, sent_at=sent_at)

    real = World(org_id=world.org_id, clock=SystemClock(), campaign_id=world.campaign_id)  # type: ignore[arg-type]
    sender = threading.Thread(
        target=lambda: real.sender(SlowProvider()).run(world.work(), budget=60)
    )
    # The window rules run on the real clock now: open the campaign to every day and hour.
    from outreach.data.models import CampaignModel

    CampaignModel(world.org_id, world.campaign_id).update(
        actions=[
            CampaignModel.window_start.set("00:00"),
            CampaignModel.window_end.set("23:59"),
            CampaignModel.window_days.set(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
        ]
    )
    from outreach.identity.repository import IdentityRepository

    IdentityRepository().update_organization(
        world.org_id,
        {"quiet_hours_start": "00:00", "quiet_hours_end": "23:59"},
        now=world.clock.now(),
        old_sender="+16175550100",
    )
    sender.start()
    while len(starts) < 5:
        time.sleep(0.005)
    service = real.services()
    getattr(service, action)(world.org_id, world.campaign_id)
    returned = time.monotonic()
    sender.join(timeout=30)
    assert starts, "the sender never sent"
    assert max(starts) < returned, "a message left after the call returned"
    assert len(starts) < 60
    assert_no_duplicates(world)


def test_sends_by_status_see_claims_as_sending_not_pending(aws: None) -> None:
    from outreach.campaigns.repository import RecipientRepository

    world = world_with(3)

    def die(_: object) -> None:
        raise Killed

    with pytest.raises(Killed):
        world.sender(hooks=FaultHooks(after_claim=die)).run(world.work())
    recipients = RecipientRepository()

    def listed(status: RecipientStatus) -> int:
        items, _ = recipients.list(
            world.org_id, world.campaign_id, status=status, limit=50, start_key=None
        )
        return len(items)

    assert (listed(RecipientStatus.SENDING), listed(RecipientStatus.PENDING)) == (1, 2)


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
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    world = world_with(3)
    ticks = _monotonic_steps([0.0, 5.0], then=0.001)
    real_monotonic = time.monotonic
    # The sender's real clock for its deadline, not the simulated one: the first read stalls.
    monkeypatch.setattr(time, "monotonic", lambda: next(ticks))
    reads: list[str] = []
    status = SendingRepository.campaign_status

    def counted(self: SendingRepository, org_id: str, campaign_id: str) -> Any:
        reads.append(campaign_id)
        return status(self, org_id, campaign_id)

    monkeypatch.setattr(SendingRepository, "campaign_status", counted)
    report = world.sender().run(world.work())
    monkeypatch.setattr(time, "monotonic", real_monotonic)
    # The stale read (5 s > the deadline) was replaced by a fresh one before any send.
    assert report.sent == 3 and report.stopped is None
    assert len(reads) == 2
    assert_accounted(world)


def test_a_status_check_that_keeps_stalling_gives_the_recipient_back_and_goes_on(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    world = world_with(3)
    # Every read goes stale before it can be used, three times over: that recipient waits.
    ticks = _monotonic_steps([0.0, 5.0, 5.0, 5.0, 5.0, 5.0], then=0.001)
    real_monotonic = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: next(ticks))
    report = world.sender().run(world.work())
    monkeypatch.setattr(time, "monotonic", real_monotonic)
    assert report.sent == 2 and report.stopped is None
    assert world.statuses() == Counter({"sent": 2, "pending": 1})
    assert world.sender().run(world.work()).sent == 1
    assert_accounted(world)
