"""Inbound texts and delivery receipts through the inbound Lambda, with real SNS event shapes."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from outreach.campaigns.domain import RecipientStatus
from outreach.campaigns.repository import campaign_key
from outreach.contacts.repository import OptOutRepository
from outreach.data.models import InboundMessageModel, OutboxMessageModel
from outreach.data.pynamo import raw_map
from outreach.inbound.events import parse_sns_message
from outreach.inbound.service import DeliveryReceipt, InboundText
from outreach.sms.providers import sandbox_box
from outreach_local.runtime import LocalLambdaContext, load_function
from outreach_local.streams import StatsPump
from outreach_local.template import REPO_ROOT
from tests.support.engine import SENDER, World, boston, world_with

TEXT_EVENT = json.loads((REPO_ROOT / "infra/events/sns-inbound-text.json").read_text())
RECEIPT_EVENT = json.loads((REPO_ROOT / "infra/events/sns-delivery-event.json").read_text())


def sns(template: dict[str, Any], **fields: Any) -> dict[str, Any]:
    event = copy.deepcopy(template)
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message.update(fields)
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


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
def inbound(sent: World, lambda_context: LocalLambdaContext) -> Any:
    handler = load_function("inbound").handler

    def call(event: dict[str, Any]) -> dict[str, int]:
        result: dict[str, int] = handler(event, lambda_context)
        return result

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
    assert inbound(event) == {"duplicate": 1}
    assert OptOutRepository().get(sent.org_id, boston(0)) is None


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
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    wrong = sns(RECEIPT_EVENT, eventType="TEXT_DELIVERED", messageId=message_id_of(sent, boston(1)))
    wrong_message = json.loads(wrong["Records"][0]["Sns"]["Message"])
    wrong_message["context"] = message["context"]
    wrong["Records"][0]["Sns"]["Message"] = json.dumps(wrong_message)
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
    text = parse_sns_message(TEXT_EVENT["Records"][0]["Sns"]["Message"])
    assert isinstance(text, InboundText) and text.body == "STOP" and text.message_id
    delivered = parse_sns_message(RECEIPT_EVENT["Records"][0]["Sns"]["Message"])
    assert isinstance(delivered, DeliveryReceipt) and delivered.status is RecipientStatus.DELIVERED
