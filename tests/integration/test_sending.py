"""The sending engine's promises (``sending-rules.md``), in-process against moto.

The rules themselves are also tested on fakes in ``tests/unit/test_sender.py``;
what stays here needs DynamoDB: the claim protocol under crashes and concurrency,
the stream's counters agreeing with every recipient's state, the queue's batches.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.campaigns.domain import (
    Audience,
    Campaign,
    CampaignDraft,
    RecipientStatus,
    SendsQuery,
    Variant,
)
from outreach.campaigns.repository import CampaignRepository, RecipientRepository
from outreach.campaigns.service import CampaignService
from outreach.errors import Conflict
from outreach.sending.daily_cap import sends_on
from outreach.sending.dispatch import CampaignWork
from outreach.sending.domain import Claim, Outcome
from outreach.sending.repository import SendingRepository
from outreach.sending.send_queue import handle_send_batch
from outreach.sending.sender import CLAIM_LEASE, TIME_MARGIN_SECONDS, FaultHooks, SenderFactory
from outreach.sending.work_queue import ActiveCampaignRepository
from outreach.sms.providers import (
    AccountSendError,
    OutboundMessage,
    PermanentSendError,
    SandboxProvider,
    SendResult,
    TransientSendError,
    UnknownOutcomeError,
)
from tests.support import builders
from tests.support.builders import boston
from tests.support.engine import World, start_campaign, world_with
from tests.support.faults import KILLED_AFTER_CLAIM, KILLED_AFTER_PROVIDER, Killed, on_claim

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


def test_a_campaign_is_not_completed_while_the_table_has_an_open_recipient_the_index_lacks(
    aws: None,
) -> None:
    from outreach.data.keys import campaign_key
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
    pause = on_claim(3, lambda: world.services().pause(world.org_id, world.campaign_id))
    report = world.sender(hooks=pause).run(world.work())
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
    cancel = on_claim(4, lambda: world.services().cancel(world.org_id, world.campaign_id))
    report = world.sender(hooks=cancel).run(world.work())
    assert report.sent == 3
    assert world.statuses() == Counter({"sent": 3, "skipped": 7})
    assert_accounted(world)


def test_cancel_leaves_a_text_in_flight_to_its_run_and_a_dead_runs_claim_unknown(
    aws: None,
) -> None:
    # Given three pending recipients: one whose number a run is texting right now (its
    # claim's lease lasts), one a dead run claimed (its lease is over), one untouched
    world = world_with(3)
    store = SendingRepository()
    in_flight, dead, untouched = store.open_recipients(world.org_id, world.campaign_id)
    now = world.clock.now()
    live = Claim.of("live", now + CLAIM_LEASE)
    assert store.claim(in_flight, None, live, now=now) is not None
    earlier = now - CLAIM_LEASE - timedelta(seconds=1)
    assert store.claim(dead, None, Claim.of("dead", now - timedelta(seconds=1)), now=earlier)
    # When the campaign is cancelled
    skipped = RecipientRepository().skip_pending(
        world.org_id, world.campaign_id, reason="campaign cancelled", now=now
    )
    # Then the dead run's recipient is unknown (maybe sent), the untouched one skipped,
    # and the one in flight is left to its run, which records what it sent
    assert sum(skipped.values()) == 1
    by_contact = {item.contact_id: item.status for item in world.recipients()}
    assert [by_contact[c.contact_id] for c in (in_flight, dead, untouched)] == [
        "pending",
        "unknown",
        "skipped",
    ]
    sent = Outcome(RecipientStatus.SENT, message_id="provider-1")
    assert store.record(in_flight, sent, attempted=True, now=now)
    assert world.statuses() == Counter({"sent": 1, "unknown": 1, "skipped": 1})
    assert_accounted(world)


def test_a_recipient_the_open_index_still_shows_after_its_text_is_never_texted_again(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The open index is eventually consistent: a duplicated delivery may read the
    # recipients an earlier run recorded a moment ago as still open.
    world = world_with(4)
    stale = list(SendingRepository().open_recipients(world.org_id, world.campaign_id))
    assert world.sender().run(world.work(), budget=3).sent == 3
    monkeypatch.setattr(SendingRepository, "open_recipients", lambda *_: iter(stale))
    report = world.sender().run(world.work())
    assert (report.sent, report.unknown, report.skipped) == (1, 0, 0)
    assert not report.completed, "what the walk saw was not all closed by it"
    monkeypatch.undo()  # the index caught up
    assert world.sender().run(world.work()).completed
    assert len(world.outbox()) == 4
    assert_no_duplicates(world)
    assert world.statuses() == Counter({"sent": 4})
    assert_accounted(world)


class ScriptedProvider:
    """Answers each call from a script of outcomes, then sends normally."""

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


def test_an_account_level_refusal_pauses_the_campaign_and_fails_nobody(aws: None) -> None:
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


def test_a_worker_killed_between_claim_and_provider_ends_unknown_and_sends_nothing(
    aws: None,
) -> None:
    world = world_with(1)

    with pytest.raises(Killed):
        world.sender(hooks=KILLED_AFTER_CLAIM).run(world.work())
    assert world.statuses() == Counter({"pending": 1}), "the claim is on the number"
    assert world.sender().run(world.work()).stopped == "organization busy"  # not run out
    world.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    report = world.sender().run(world.work())  # its turn taken over: the claim closed
    assert report.sent == 0 and report.completed
    assert world.statuses() == Counter({"unknown": 1})
    assert world.outbox() == []
    assert_accounted(world)


def test_a_worker_killed_between_provider_and_record_never_sends_twice(aws: None) -> None:
    world = world_with(1)

    with pytest.raises(Killed):
        world.sender(hooks=KILLED_AFTER_PROVIDER).run(world.work())
    world.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    assert world.sender().run(world.work()).completed
    world.clock.advance(timedelta(days=1))
    world.sender().run(world.work())
    assert len(world.outbox()) == 1
    assert world.statuses() == Counter({"unknown": 1})
    assert_accounted(world)


class FlakyProvider:
    """Fails a share of calls at random: transient, permanent, or after sending (unknown)."""

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
        response, _reports = handle_send_batch(SQSEvent(event), lambda_context, factory)
        assert response == {"batchItemFailures": []}
    assert len(world.outbox()) == 5
    assert_no_duplicates(world)


def _records(*bodies: str, groups: list[str] | None = None) -> SQSEvent:
    return SQSEvent(
        {
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
    )


def test_a_bad_queue_message_fails_it_and_the_rest_of_its_group(
    aws: None, lambda_context: Any
) -> None:
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
    for campaign_id, report in zip((first, second, third), reports, strict=True):
        world.campaign_id = campaign_id
        statuses = world.statuses()
        assert statuses == Counter({"sent": report.sent, "pending": 100 - report.sent}), statuses
        # Unused cap slots were given back: the day's count is what left.
        assert sends_on(world.org_id, campaign_id, "2026-11-23") == report.sent


def test_a_batch_where_everything_fails_is_retried_whole(aws: None, lambda_context: Any) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        handle_send_batch(_records("not json", "{}"), lambda_context, SenderFactory())


def _draft_with_a_start(
    name: str, *, token: str, began: timedelta, lease: timedelta
) -> tuple[World, CampaignService, Campaign]:
    """Two Boston contacts and a draft whose start ``token`` began ``began`` ago and
    held its lease for ``lease``."""
    world = world_with(2)
    service = world.services()
    campaign = service.create(
        world.org_id,
        CampaignDraft(name=name, variants=(Variant("A", "Hi", 1),), audience=Audience(all=True)),
    )
    began_at = world.clock.now() - began
    CampaignRepository().begin_start(
        world.org_id, campaign.id, token=token, now=began_at, until=began_at + lease
    )
    return world, service, campaign


def test_a_second_start_while_one_runs_is_refused_and_changes_nothing(aws: None) -> None:
    world, service, campaign = _draft_with_a_start(
        "Two", token="other-start", began=timedelta(0), lease=timedelta(seconds=60)
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
    # A start that died after writing a recipient of an audience since changed.
    world, service, campaign = _draft_with_a_start(
        "Again", token="dead", began=timedelta(minutes=10), lease=timedelta(minutes=2)
    )
    now = world.clock.now()
    RecipientRepository().write_snapshot(
        [
            builders.pending_recipient(
                world.org_id, campaign.id, "01ZZZZZZZZZZZZZZZZZZZZZZZZ", boston(99), at=now
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

    from outreach.clock import SystemClock

    world = world_with(60)
    starts: list[float] = []

    class SlowProvider:
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
    from outreach.identity.domain import OrganizationChanges
    from outreach.identity.repository import IdentityRepository

    IdentityRepository().update_organization(
        world.org_id,
        OrganizationChanges(quiet_hours_start="00:00", quiet_hours_end="23:59"),
        now=world.clock.now(),
        old_sender="+16175550100",
    )
    # No setting widens the federal hours (08:00-21:00): the contacts live where it is
    # noon now (a fixed-offset zone), whatever the hour this test runs at.
    from outreach.data.models import ContactModel

    noon_offset = 12 - datetime.now(UTC).hour
    noon_zone = f"Etc/GMT{-noon_offset:+d}"
    for recipient in world.recipients():
        ContactModel(world.org_id, recipient.contact_id).update(
            actions=[ContactModel.timezone.set(noon_zone)]
        )
    sender.start()
    deadline = time.monotonic() + 30  # fail, never hang, if the sender sends nothing
    while len(starts) < 5:
        assert time.monotonic() < deadline, "the sender sent fewer than 5 messages in 30 s"
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
    world = world_with(3)

    with pytest.raises(Killed):
        world.sender(hooks=KILLED_AFTER_CLAIM).run(world.work())
    recipients = RecipientRepository()

    def listed(status: RecipientStatus) -> int:
        page = recipients.list(
            world.org_id, SendsQuery(world.campaign_id, status), limit=50, cursor=None
        )
        return len(page.items)

    assert (listed(RecipientStatus.SENDING), listed(RecipientStatus.PENDING)) == (1, 2)
