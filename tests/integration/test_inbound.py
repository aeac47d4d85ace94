"""Inbound texts and delivery receipts through the inbound function on moto, with real event
shapes: SQS records whose bodies are the SNS notifications End User Messaging published.

These are the end-to-end paths: a campaign really sent by the sender (its phone history
and recipients), the batch handled as the function handles it (its role checked by the
IAM replay), the counters on DynamoDB and the stats stream, the sandbox outbox. The
rules themselves (every keyword, replies, duplicates, unknown numbers, every receipt
case, the topic checks) are tested on fakes in ``tests/unit/test_inbound_service.py``,
and the fakes are held to DynamoDB by ``test_inbound_contract.py``.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from outreach.contacts.repository import OptOutRepository
from outreach.data.keys import campaign_key
from outreach.data.models import OutboxMessageModel
from outreach.data.pynamo import raw_map
from outreach.sms.outbox import sandbox_box
from outreach_local.runtime import LocalLambdaContext
from outreach_local.streams import StatsPump
from tests.support.builders import boston
from tests.support.conversations import inbound_texts
from tests.support.engine import World, world_with
from tests.support.iam_replay import function_handler
from tests.support.inbound_events import (
    RECEIPT_EVENT,
    TEXT_EVENT,
    all_processed,
    batch,
    handled_by_inbound_function,
    received_again,
    sns,
    text_event,
    use_sample_topics,
    with_envelope,
)


@pytest.fixture(autouse=True)
def sample_topics(fresh_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's own topics (template.yaml passes them) are the sample events' ones."""
    use_sample_topics(monkeypatch)


@pytest.fixture
def sent(aws: None) -> World:
    """An organization that has texted three Boston numbers from one campaign."""
    world = world_with(3)
    assert world.sender().run(world.work()).sent == 3
    world.clock.advance(timedelta(minutes=5))  # answers come later than the campaign's texts
    return world


@pytest.fixture
def handle(sent: World, lambda_context: LocalLambdaContext) -> Any:
    """The partial-batch response and the outcomes of one batch: the call the handler makes
    (the service and topics it builds), run as the inbound function (see iam_replay)."""

    def call(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
        return handled_by_inbound_function(event, lambda_context)

    return call


@pytest.fixture
def inbound(handle: Any) -> Any:
    """The outcomes of one batch, which must have no failed record."""
    return partial(all_processed, handle)


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


# --- Texts: attribution through the sender's phone history, the cap, redelivery -----------


def test_replies_count_for_the_campaign_and_variant_that_last_texted(
    sent: World, inbound: Any
) -> None:
    inbound(text_event("Sounds good, call me", sender=boston(0)))
    inbound(text_event("Also Thursday works", sender=boston(0)))
    inbound(text_event("Who is this?", sender=boston(1)))
    counts = stats(sent)
    assert (counts["replies"], counts["repliers"]) == (3, 2)
    stored = [m for m in inbound_texts(sent.org_id) if m.keyword == "reply"]
    assert {m.campaign_id for m in stored} == {sent.campaign_id}
    variants = {r.contact_id: r.variant for r in sent.recipients()}
    assert {m.variant for m in stored} <= set(variants.values())


def test_help_answers_with_the_help_text_once_a_day_outside_the_campaigns_cap(
    sent: World, inbound: Any
) -> None:
    from outreach.sending.daily_cap import sends_on

    before = sends_on(sent.org_id, sent.campaign_id, "2026-11-23")
    outcomes = [inbound(text_event(body, sender=boston(2))) for body in ("HELP", "info", "Help?")]
    assert outcomes == [{"help_sent": 1}, {"help_not_answered": 1}, {"help_not_answered": 1}]
    # Issue 14 changed this on purpose: one HELP answer per number per 24 hours.
    assert Counter(outbox_to(sent, boston(2)))["Acme: call us."] == 1
    assert sends_on(sent.org_id, sent.campaign_id, "2026-11-23") == before
    answered = [m.auto_reply for m in inbound_texts(sent.org_id) if m.keyword == "help"]
    assert sorted(answered, key=str) == ["sent"] + ["suppressed:help_interval"] * 2


def test_a_redelivered_sqs_record_changes_nothing_twice(sent: World, inbound: Any) -> None:
    # A record whose batch failed after it was handled comes back (or is redriven from the
    # dead-letter queue): same SQS message, received again.
    event = text_event("STOP", sender=boston(1), message_id="redelivered-1")
    assert inbound(event) == {"opted_out": 1}
    assert inbound(received_again(event)) == {"duplicate": 1}
    assert sum("unsubscribed" in body for body in outbox_to(sent, boston(1))) == 1
    assert stats(sent)["opt_outs"] == 1
    receipt_event = receipt(sent, boston(0), "TEXT_DELIVERED")
    assert inbound(receipt_event) == {"receipt_applied": 1}
    assert inbound(copy.deepcopy(receipt_event)) == {"receipt_ignored": 1}
    assert stats(sent)["delivered"] == 1


def test_the_sample_event_is_accepted(sent: World, inbound: Any) -> None:
    assert inbound(TEXT_EVENT) == {"opted_out": 1}
    # The sample's STOP is boston(0)'s: on the list as a keyword opt-out, counted, confirmed.
    entry = OptOutRepository().get(sent.org_id, boston(0))
    assert entry is not None
    assert entry.source.value == "keyword"
    assert stats(sent)["opt_outs"] == 1
    assert sum("unsubscribed" in body for body in outbox_to(sent, boston(0))) == 1


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


# --- The real handler: the partial-batch response --------------------------------------------


def test_the_handler_answers_the_partial_batch_response(
    sent: World, lambda_context: LocalLambdaContext
) -> None:
    foreign = with_envelope(TEXT_EVENT, TopicArn="arn:aws:sns:us-east-1:999999999999:other")
    response = function_handler("inbound")(batch(foreign, TEXT_EVENT), lambda_context)
    assert response == {
        "batchItemFailures": [{"itemIdentifier": foreign["Records"][0]["messageId"]}]
    }
    assert OptOutRepository().get(sent.org_id, "+16175550000") is not None
