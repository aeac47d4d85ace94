"""Inbound texts and delivery receipts through the inbound Lambda, with real event shapes:
SQS records whose bodies are the SNS notifications End User Messaging published."""

from __future__ import annotations

import copy
import json
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from outreach.campaigns.domain import RecipientStatus
from outreach.campaigns.repository import campaign_key
from outreach.config import get_settings
from outreach.contacts.repository import OptOutRepository
from outreach.data.models import InboundMessageModel, OutboxMessageModel
from outreach.data.pynamo import raw_map
from outreach.inbound.events import parse_sns_message
from outreach.inbound.service import DeliveryReceipt, InboundService, InboundText
from outreach.sms.providers import sandbox_box
from outreach_local.runtime import LocalLambdaContext, load_function, service_name, service_scope
from outreach_local.streams import StatsPump
from outreach_local.template import REPO_ROOT
from tests.support.engine import SENDER, World, boston, world_with
from tests.support.iam_replay import function_handler

TEXT_EVENT = json.loads((REPO_ROOT / "infra/events/sqs-inbound-text.json").read_text())
RECEIPT_EVENT = json.loads((REPO_ROOT / "infra/events/sqs-delivery-event.json").read_text())


def envelope_of(event: dict[str, Any]) -> dict[str, Any]:
    """The SNS notification an SQS record carries (raw delivery is off)."""
    envelope: dict[str, Any] = json.loads(event["Records"][0]["body"])
    return envelope


TEXTS_TOPIC = str(envelope_of(TEXT_EVENT)["TopicArn"])
EVENTS_TOPIC = str(envelope_of(RECEIPT_EVENT)["TopicArn"])


def message_of(event: dict[str, Any]) -> str:
    return str(envelope_of(event)["Message"])


def with_envelope(template: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The event with the notification's fields changed, as a new SQS message."""
    event = copy.deepcopy(template)
    record = event["Records"][0]
    record["body"] = json.dumps({**envelope_of(event), **fields})
    record["messageId"] = str(uuid.uuid4())
    return event


def sns(template: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The event with the published message's fields changed."""
    message = json.loads(message_of(template))
    message.update(fields)
    return with_envelope(template, Message=json.dumps(message))


def batch(*events: dict[str, Any]) -> dict[str, Any]:
    """One SQS batch of every record of ``events``."""
    return {"Records": [record for event in events for record in event["Records"]]}


@pytest.fixture(autouse=True)
def sample_topics(fresh_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's own topics (template.yaml passes them) are the sample events' ones."""
    monkeypatch.setenv("INBOUND_TEXTS_TOPIC_ARN", TEXTS_TOPIC)
    monkeypatch.setenv("DELIVERY_EVENTS_TOPIC_ARN", EVENTS_TOPIC)
    get_settings.cache_clear()


_counter = {"n": 0}


def text_event(
    body: str, *, sender: str, to: str = SENDER, message_id: str | None = None
) -> dict[str, Any]:
    _counter["n"] += 1
    return sns(
        TEXT_EVENT,
        originationNumber=sender,
        destinationNumber=to,
        messageBody=body,
        inboundMessageId=message_id or f"in-{_counter['n']}",
    )


@pytest.fixture
def sent(aws: None) -> World:
    """An organization that has texted three Boston numbers from one campaign."""
    world = world_with(3)
    assert world.sender().run(world.work()).sent == 3
    world.clock.advance(timedelta(minutes=5))  # answers come later than the campaign's texts
    return world


@pytest.fixture
def handle(sent: World, lambda_context: LocalLambdaContext) -> Any:
    """The partial-batch response and the outcomes of one batch: the handler's work, run as
    the inbound function (see iam_replay)."""
    function = load_function("inbound").handle

    def call(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
        with service_scope(service_name("inbound")):
            response, outcomes = function(event, lambda_context)
        return response, dict(outcomes)

    return call


@pytest.fixture
def inbound(handle: Any) -> Any:
    """The outcomes of one batch, which must have no failed record."""

    def call(event: dict[str, Any]) -> dict[str, int]:
        response, outcomes = handle(event)
        assert response == {"batchItemFailures": []}
        return dict(outcomes)

    return call


def stats(world: World) -> dict[str, int]:
    StatsPump(world.clock).drain()
    totals: Counter[str] = Counter()
    from outreach.data.models import CampaignStatsModel

    for item in CampaignStatsModel.query(
        campaign_key(world.org_id, world.campaign_id), consistent_read=True
    ):
        for name in ("sent", "delivered", "failed", "unknown", "replies", "repliers", "opt_outs"):
            totals[name] += int(getattr(item, name) or 0)
    return dict(totals)


def outbox_to(world: World, phone: str) -> list[str]:
    """Bodies sent to ``phone`` (the campaign's on simulated time, answers on the real clock)."""
    return [
        m.body for m in OutboxMessageModel.query(sandbox_box(world.org_id)) if m.to_number == phone
    ]


# --- Keywords ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "Stop.",
        "  sToP!! ",
        "STOPALL",
        "Unsubscribe",
        "cancel",
        "END",
        "quit",
        "REVOKE",
        "opt out",
        "Opt-Out",
        "OPTOUT",
    ],
)
def test_stop_keywords_opt_out_once_with_one_confirmation(
    sent: World, inbound: Any, body: str
) -> None:
    assert inbound(text_event(body, sender=boston(0))) == {"opted_out": 1}
    entry = OptOutRepository().get(sent.org_id, boston(0))
    assert entry is not None and entry.source.value == "keyword"
    assert stats(sent)["opt_outs"] == 1
    replies = outbox_to(sent, boston(0))
    assert len(replies) == 2 and sum("unsubscribed" in body for body in replies) == 1
    # Already opted out: nothing changes, nothing is sent.
    assert inbound(text_event("STOP", sender=boston(0))) == {"already_opted_out": 1}
    assert len(outbox_to(sent, boston(0))) == 2 and stats(sent)["opt_outs"] == 1


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "remove me from your list",
        "don't text me again",
        "unsubscribe me",
        "stop messaging me",
        "take me off your list",
        "I don't want these texts anymore",
        "no more texts please",
        "do not contact me",
        "stop sending me messages",
        "STOP STOP STOP",
        "please stop",
    ],
)
def test_plain_words_revocations_are_opt_outs(sent: World, inbound: Any, body: str) -> None:
    assert inbound(text_event(body, sender=boston(1))) == {"opted_out": 1}
    assert OptOutRepository().get(sent.org_id, boston(1)) is not None


@pytest.mark.parametrize(
    "body",
    [
        "can you stop by Tuesday?",
        "don't stop the work",
        "when will the crew stop by?",
        "the water won't stop leaking",
        "I want to cancel my appointment and reschedule",
        "yes, Tuesday works",
        "help me understand the quote",
        "info on pricing?",
        "start the work monday",
        "bus stop near my house",
        "Is this the end of the promotion?",
    ],
)
def test_look_alikes_are_replies(sent: World, inbound: Any, body: str) -> None:
    assert inbound(text_event(body, sender=boston(2))) == {"reply": 1}
    assert OptOutRepository().get(sent.org_id, boston(2)) is None


def test_replies_count_for_the_campaign_and_variant_that_last_texted(
    sent: World, inbound: Any
) -> None:
    inbound(text_event("Sounds good, call me", sender=boston(0)))
    inbound(text_event("Also Thursday works", sender=boston(0)))
    inbound(text_event("Who is this?", sender=boston(1)))
    counts = stats(sent)
    assert (counts["replies"], counts["repliers"]) == (3, 2)
    stored = [m for m in InboundMessageModel.query(sent.org_id) if m.kind == "reply"]
    assert {m.campaign_id for m in stored} == {sent.campaign_id}
    variants = {r.contact_id: r.variant for r in sent.recipients()}
    assert {m.variant for m in stored} <= set(variants.values())


def test_start_opts_back_in_and_confirms(sent: World, inbound: Any) -> None:
    inbound(text_event("STOP", sender=boston(0)))
    assert inbound(text_event("start", sender=boston(0))) == {"opted_in": 1}
    assert OptOutRepository().get(sent.org_id, boston(0)) is None
    assert sum("resubscribed" in body for body in outbox_to(sent, boston(0))) == 1
    for keyword in ("UNSTOP", "Yes!"):
        inbound(text_event("STOP", sender=boston(0)))
        inbound(text_event(keyword, sender=boston(0)))
        assert OptOutRepository().get(sent.org_id, boston(0)) is None


def test_start_when_not_opted_out_sends_nothing(sent: World, inbound: Any) -> None:
    inbound(text_event("START", sender=boston(1)))
    assert len(outbox_to(sent, boston(1))) == 1


def test_help_answers_with_the_help_text_outside_any_cap(sent: World, inbound: Any) -> None:
    from outreach.sending.repository import SendingRepository

    before = SendingRepository().sends_on(sent.org_id, sent.campaign_id, "2026-11-23")
    for body in ("HELP", "info", "Help?"):
        assert inbound(text_event(body, sender=boston(2))) == {"help_sent": 1}
    assert Counter(outbox_to(sent, boston(2)))["Acme: call us."] == 3
    assert SendingRepository().sends_on(sent.org_id, sent.campaign_id, "2026-11-23") == before


def test_a_text_to_an_unknown_number_is_dropped(sent: World, inbound: Any) -> None:
    assert inbound(text_event("STOP", sender=boston(0), to="+16175559999")) == {"unknown_number": 1}
    assert OptOutRepository().get(sent.org_id, boston(0)) is None


def test_the_same_inbound_message_delivered_twice_is_handled_once(
    sent: World, inbound: Any
) -> None:
    event = text_event("STOP", sender=boston(0), message_id="dup-1")
    assert inbound(event) == {"opted_out": 1}
    OptOutRepository().remove(sent.org_id, boston(0))
    # SNS delivered the carrier's message twice: two SQS messages, one carrier message id.
    assert inbound(with_envelope(event)) == {"duplicate": 1}
    assert OptOutRepository().get(sent.org_id, boston(0)) is None


def test_a_redelivered_sqs_record_changes_nothing_twice(sent: World, inbound: Any) -> None:
    # A record whose batch failed after it was handled comes back (or is redriven from the
    # dead-letter queue): same SQS message, received again.
    event = text_event("STOP", sender=boston(1), message_id="redelivered-1")
    assert inbound(event) == {"opted_out": 1}
    again = copy.deepcopy(event)
    again["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"
    assert inbound(again) == {"duplicate": 1}
    assert sum("unsubscribed" in body for body in outbox_to(sent, boston(1))) == 1
    assert stats(sent)["opt_outs"] == 1
    receipt_event = receipt(sent, boston(0), "TEXT_DELIVERED")
    assert inbound(receipt_event) == {"receipt_applied": 1}
    assert inbound(copy.deepcopy(receipt_event)) == {"receipt_ignored": 1}
    assert stats(sent)["delivered"] == 1


def test_the_sample_event_is_accepted(sent: World, inbound: Any) -> None:
    assert inbound(TEXT_EVENT) == {"opted_out": 1}


def test_a_text_from_a_number_never_texted_is_stored_unattributed(
    sent: World, inbound: Any
) -> None:
    assert inbound(text_event("hello?", sender="+13105550123")) == {"reply": 1}
    assert stats(sent)["replies"] == 0


# --- Delivery receipts ------------------------------------------------------------------------


def message_id_of(world: World, phone: str) -> str:
    item = next(r for r in world.recipients() if r.phone == phone)
    assert item.provider_message_id
    return str(item.provider_message_id)


def receipt(world: World, phone: str, event_type: str) -> dict[str, Any]:
    """The carrier's event, with the context the sender gave the provider (as the outbox kept)."""
    message_id = message_id_of(world, phone)
    sent = next(m for m in world.outbox() if m.message_id == message_id)
    context = dict(raw_map(sent.context))
    return sns(RECEIPT_EVENT, eventType=event_type, messageId=message_id, context=context)


def status_of(world: World, phone: str) -> str:
    return str(next(r for r in world.recipients() if r.phone == phone).status)


def test_a_delivery_receipt_moves_sent_to_delivered_once(sent: World, inbound: Any) -> None:
    event = receipt(sent, boston(0), "TEXT_DELIVERED")
    assert inbound(event) == {"receipt_applied": 1}
    assert inbound(event) == {"receipt_ignored": 1}
    assert status_of(sent, boston(0)) == "delivered"
    counts = stats(sent)
    assert (counts["sent"], counts["delivered"]) == (2, 1)


def test_a_failure_receipt_records_the_code(sent: World, inbound: Any) -> None:
    assert inbound(receipt(sent, boston(1), "TEXT_CARRIER_UNREACHABLE")) == {"receipt_applied": 1}
    item = next(r for r in sent.recipients() if r.phone == boston(1))
    assert (item.status, item.error) == ("failed", "TEXT_CARRIER_UNREACHABLE")
    assert stats(sent)["failed"] == 1


def test_an_older_status_never_overwrites_a_newer_one(sent: World, inbound: Any) -> None:
    inbound(receipt(sent, boston(0), "TEXT_DELIVERED"))
    assert inbound(receipt(sent, boston(0), "TEXT_SUCCESSFUL")) == {"ignored": 1}
    assert inbound(receipt(sent, boston(0), "TEXT_PENDING")) == {"ignored": 1}
    assert inbound(receipt(sent, boston(0), "TEXT_TTL_EXPIRED")) == {"receipt_ignored": 1}
    assert status_of(sent, boston(0)) == "delivered"
    assert stats(sent)["delivered"] == 1 and stats(sent)["failed"] == 0


def test_a_receipt_for_an_unknown_message_id_is_dropped(sent: World, inbound: Any) -> None:
    event = sns(RECEIPT_EVENT, messageId="no-such-message")
    assert inbound(event) == {"unknown_message": 1}


def test_a_receipt_whose_context_names_another_message_is_dropped(
    sent: World, inbound: Any
) -> None:
    # The context names boston(0)'s recipient, but the message id is boston(1)'s.
    event = receipt(sent, boston(0), "TEXT_DELIVERED")
    message = json.loads(message_of(event))
    wrong = sns(
        RECEIPT_EVENT,
        eventType="TEXT_DELIVERED",
        messageId=message_id_of(sent, boston(1)),
        context=message["context"],
    )
    assert inbound(wrong) == {"unknown_message": 1}
    assert status_of(sent, boston(0)) == "sent" and status_of(sent, boston(1)) == "sent"


def test_a_receipt_without_the_sender_context_is_dropped(sent: World, inbound: Any) -> None:
    event = sns(
        RECEIPT_EVENT,
        eventType="TEXT_DELIVERED",
        messageId=message_id_of(sent, boston(0)),
        context={},
    )
    assert inbound(event) == {"unknown_message": 1}
    assert status_of(sent, boston(0)) == "sent"


def test_a_receipt_72_hours_late_still_applies(sent: World, inbound: Any) -> None:
    sent.clock.advance(timedelta(hours=72))
    assert inbound(receipt(sent, boston(2), "TEXT_DELIVERED")) == {"receipt_applied": 1}


@pytest.mark.parametrize(
    "message",
    ["", "not json", "[]", '{"eventType": "TEXT_DELIVERED"}', '{"unrelated": true}'],
)
def test_unusable_sns_messages_are_ignored(message: str) -> None:
    assert parse_sns_message(message) is None


def test_parse_reads_both_shapes() -> None:
    text = parse_sns_message(message_of(TEXT_EVENT))
    assert isinstance(text, InboundText) and text.body == "STOP" and text.message_id
    delivered = parse_sns_message(message_of(RECEIPT_EVENT))
    assert isinstance(delivered, DeliveryReceipt) and delivered.status is RecipientStatus.DELIVERED


# --- Only the stack's own topics; a failed record fails alone and comes back ------------------


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_a_notification_from_another_topic_fails_only_its_own_record(
    sent: World, handle: Any
) -> None:
    foreign = with_envelope(
        text_event("STOP", sender=boston(0)),
        TopicArn="arn:aws:sns:us-east-1:999999999999:someone-elses-topic",
    )
    ours = text_event("STOP", sender=boston(1))
    response, outcomes = handle(batch(foreign, ours))
    assert failed_ids(response) == [foreign["Records"][0]["messageId"]]
    assert outcomes == {"failed": 1, "opted_out": 1}
    assert OptOutRepository().get(sent.org_id, boston(0)) is None
    assert OptOutRepository().get(sent.org_id, boston(1)) is not None


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        # Raw message delivery: the published message without its envelope (no TopicArn).
        json.dumps({"originationNumber": "+16175550000", "messageBody": "STOP"}),
        json.dumps({"Type": "SubscriptionConfirmation", "TopicArn": TEXTS_TOPIC, "Message": "x"}),
        json.dumps({"Type": "Notification", "TopicArn": TEXTS_TOPIC}),
    ],
    ids=["not-json", "not-an-object", "raw-delivery", "confirmation", "no-message"],
)
def test_a_record_that_is_not_a_notification_of_ours_fails(
    sent: World, handle: Any, body: str
) -> None:
    bad = copy.deepcopy(TEXT_EVENT)
    bad["Records"][0]["body"] = body
    ours = text_event("hello", sender=boston(2))
    response, outcomes = handle(batch(bad, ours))
    assert failed_ids(response) == [bad["Records"][0]["messageId"]]
    assert outcomes == {"failed": 1, "reply": 1}


def test_without_its_topics_configured_the_function_accepts_nothing(
    sent: World, handle: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INBOUND_TEXTS_TOPIC_ARN")
    monkeypatch.delenv("DELIVERY_EVENTS_TOPIC_ARN")
    get_settings.cache_clear()
    # Every record failed: the invocation fails and SQS delivers the batch again.
    with pytest.raises(BatchProcessingError):
        handle(text_event("STOP", sender=boston(0)))
    assert OptOutRepository().get(sent.org_id, boston(0)) is None


def test_each_topic_carries_its_own_kind(sent: World, inbound: Any) -> None:
    receipt_on_texts_topic = with_envelope(
        receipt(sent, boston(0), "TEXT_DELIVERED"), TopicArn=TEXTS_TOPIC
    )
    text_on_events_topic = with_envelope(
        text_event("STOP", sender=boston(1)), TopicArn=EVENTS_TOPIC
    )
    assert inbound(batch(receipt_on_texts_topic, text_on_events_topic)) == {"ignored": 2}
    assert status_of(sent, boston(0)) == "sent"
    assert OptOutRepository().get(sent.org_id, boston(1)) is None


def test_a_record_that_fails_is_reported_and_handled_when_delivered_again(
    sent: World, handle: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = text_event("STOP", sender=boston(0))
    reply = text_event("Tuesday works", sender=boston(1))
    real = InboundService.handle_text

    def throttled(self: InboundService, text: InboundText) -> Any:
        if text.from_number == boston(0):
            raise RuntimeError("ProvisionedThroughputExceededException")
        return real(self, text)

    monkeypatch.setattr(InboundService, "handle_text", throttled)
    response, outcomes = handle(batch(stop, reply))
    assert failed_ids(response) == [stop["Records"][0]["messageId"]]
    assert outcomes == {"failed": 1, "reply": 1}
    assert OptOutRepository().get(sent.org_id, boston(0)) is None
    # SQS delivers the failed record again (or it is redriven from the dead-letter queue).
    monkeypatch.setattr(InboundService, "handle_text", real)
    again = copy.deepcopy(stop)
    again["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"
    assert handle(again) == ({"batchItemFailures": []}, {"opted_out": 1})
    assert OptOutRepository().get(sent.org_id, boston(0)) is not None


def test_the_handler_answers_the_partial_batch_response(
    sent: World, lambda_context: LocalLambdaContext
) -> None:
    foreign = with_envelope(TEXT_EVENT, TopicArn="arn:aws:sns:us-east-1:999999999999:other")
    response = function_handler("inbound")(batch(foreign, TEXT_EVENT), lambda_context)
    assert response == {
        "batchItemFailures": [{"itemIdentifier": foreign["Records"][0]["messageId"]}]
    }
    assert OptOutRepository().get(sent.org_id, "+16175550000") is not None
