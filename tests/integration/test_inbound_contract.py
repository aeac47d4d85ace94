"""The in-memory inbound store and the DynamoDB repository answer the same calls the same way.

Every test runs once on ``tests/support/fakes/inbound.py`` and once on
:class:`~outreach.inbound.repository.InboundRepository` over moto, so a rule tested
through the fake in ``tests/unit/test_inbound_service.py`` holds on DynamoDB. What
identity and the sender would have written (a sender number's owner, a phone's last
send, a campaign's recipients) is arranged on each side: by :class:`OnDynamoDB` on the
tables, by the in-memory store's own methods on the fake.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

import pytest

from outreach.campaigns.statuses import RecipientStatus
from outreach.conversations.messages import Direction, Message, MessageKind, MessageStatus
from outreach.conversations.recording import message_item, to_message
from outreach.data.keys import campaign_key, conversation_key, sender_key
from outreach.data.models import (
    CampaignStatsModel,
    MessageModel,
    PhoneHistoryModel,
    RecipientModel,
    UniqueKeyModel,
)
from outreach.ids import new_id
from outreach.inbound.domain import AutoReply, LastSend, RecordedText, SendRef, Suppressed
from outreach.inbound.ports import InboundStore
from outreach.inbound.repository import InboundRepository
from tests.support.contract import IMPLEMENTATIONS, use_dynamodb
from tests.support.fakes.inbound import InMemoryInboundStore, StoredSend, StoredText

NOW = datetime(2026, 11, 23, 15, 0, 0, 123000, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
ORG = new_id(NOW)
OTHER_ORG = new_id(NOW + timedelta(milliseconds=1))
CAMPAIGN = new_id(NOW + timedelta(milliseconds=2))
DANA, LEE = new_id(NOW + timedelta(milliseconds=3)), new_id(NOW + timedelta(milliseconds=4))
SENDER = "+16175550100"
PHONE = "+16175550001"
COUNTERS = ("opt_outs", "replies", "repliers")


def sent(contact_id: str, variant: str, message_id: str | None = None) -> SendRef:
    """This campaign's recipient ``contact_id``, sent ``variant`` to :data:`PHONE` (its text
    the conversation's ``message_id``, if given)."""
    return SendRef(ORG, CAMPAIGN, contact_id, variant, RecipientStatus.SENT, PHONE, message_id)


def outbound(message_id: str, provider_message_id: str | None, **changes: object) -> Message:
    """An outbound text of :data:`PHONE`'s conversation, as the sender or the API wrote it."""
    fields_ = {
        "org_id": ORG,
        "phone": PHONE,
        "id": message_id,
        "direction": Direction.OUTBOUND,
        "kind": MessageKind.CAMPAIGN,
        "body": "Hi",
        "status": MessageStatus.SENT,
        "created_at": NOW,
        "updated_at": NOW,
        "provider_message_id": provider_message_id,
        **changes,
    }
    return Message(**fields_)  # type: ignore[arg-type]


class OnDynamoDB:
    """The writes the other domains make, and reads of what the store wrote, on the
    tables, item by item as identity and the sender write them (the in-memory store
    answers the same calls)."""

    def own_number(self, org_id: str, sender_number: str) -> None:
        UniqueKeyModel(sender_key(sender_number), org_id=org_id, created_at=NOW).save()

    def remember_send(self, org_id: str, phone: str, last: LastSend) -> None:
        PhoneHistoryModel(
            org_id,
            phone,
            first_sent_at=NOW,
            last_campaign_id=last.campaign_id,
            last_variant=last.variant,
            last_contact_id=last.contact_id,
            last_sent_at=NOW,
        ).save()

    def add_sent(self, ref: SendRef, provider_message_id: str | None) -> None:
        RecipientModel(
            campaign_key(ref.org_id, ref.campaign_id),
            ref.contact_id,
            org_id=ref.org_id,
            campaign_id=ref.campaign_id,
            phone=ref.phone or PHONE,
            variant=ref.variant,
            status=ref.status.value,
            provider_message_id=provider_message_id,
            sent_at=NOW,
            updated_at=NOW,
        ).save()

    def add_message(self, message: Message) -> None:
        message_item(message).save()

    def text(self, org_id: str, message_id: str) -> StoredText | None:
        try:
            item = MessageModel.get(
                conversation_key(org_id, PHONE), message_id, consistent_read=True
            )
        except MessageModel.DoesNotExist:
            return None
        renamed = {"from_number": "phone", "kind": "keyword", "received_at": "created_at"}
        renamed["carrier_id"] = "provider_message_id"
        return StoredText(
            **{
                field.name: getattr(item, renamed.get(field.name, field.name))
                for field in fields(StoredText)
            }
        )

    def message(self, org_id: str, phone: str, message_id: str) -> Message | None:
        try:
            item = MessageModel.get(
                conversation_key(org_id, phone), message_id, consistent_read=True
            )
        except MessageModel.DoesNotExist:
            return None
        return to_message(item)

    def recipient(self, org_id: str, campaign_id: str, contact_id: str) -> StoredSend | None:
        try:
            item = RecipientModel.get(
                campaign_key(org_id, campaign_id), contact_id, consistent_read=True
            )
        except RecipientModel.DoesNotExist:
            return None
        return StoredSend(
            variant=item.variant,
            status=RecipientStatus(item.status),
            provider_message_id=item.provider_message_id,
            error=item.error,
            replied_at=item.replied_at,
            updated_at=item.updated_at,
            phone=item.phone,
        )

    def variant_counters(self, org_id: str, campaign_id: str, variant: str) -> Counter[str]:
        try:
            item = CampaignStatsModel.get(
                campaign_key(org_id, campaign_id), variant, consistent_read=True
            )
        except CampaignStatsModel.DoesNotExist:
            return Counter()
        return Counter({name: int(getattr(item, name)) for name in COUNTERS if getattr(item, name)})


@dataclass(frozen=True)
class Side:
    store: InboundStore
    arrange: OnDynamoDB | InMemoryInboundStore


@pytest.fixture(params=IMPLEMENTATIONS)
def side(request: pytest.FixtureRequest) -> Side:
    if use_dynamodb(request):
        return Side(InboundRepository(), OnDynamoDB())
    fake = InMemoryInboundStore()
    return Side(fake, fake)


def _record(
    side: Side,
    message_id: str,
    *,
    body: str = "STOP",
    org_id: str = ORG,
    carrier_id: str | None = None,
    phone: str = PHONE,
) -> bool:
    return side.store.record_inbound(
        RecordedText(
            org_id=org_id,
            message_id=message_id,
            carrier_id=carrier_id or f"carrier-{message_id}",
            from_number=phone,
            to_number=SENDER,
            body=body,
            kind="opt_out",
            last=LastSend(CAMPAIGN, "A", DANA),
            received_at=NOW,
        )
    )


def test_a_sender_number_routes_to_the_organization_that_owns_it(side: Side) -> None:
    assert side.store.organization_for(SENDER) is None
    side.arrange.own_number(ORG, SENDER)
    assert side.store.organization_for(SENDER) == ORG
    assert side.store.organization_for("+16175559999") is None


def test_the_last_send_is_per_organization_and_phone(side: Side) -> None:
    assert side.store.last_send(ORG, PHONE) is None
    side.arrange.remember_send(ORG, PHONE, LastSend(CAMPAIGN, "B", DANA))
    assert side.store.last_send(ORG, PHONE) == LastSend(CAMPAIGN, "B", DANA)
    assert side.store.last_send(OTHER_ORG, PHONE) is None
    assert side.store.last_send(ORG, "+16175550002") is None


def test_a_text_is_recorded_once_per_carrier_id_with_its_attribution(side: Side) -> None:
    long_body = "x" * 2500
    first, again = new_id(NOW), new_id(NOW)
    assert _record(side, first, body=long_body, carrier_id="c-1")
    assert side.arrange.text(ORG, first) == StoredText(
        from_number=PHONE,
        body="x" * 2000,
        kind="opt_out",
        campaign_id=CAMPAIGN,
        variant="A",
        received_at=NOW,
        carrier_id="c-1",
    )
    # The same carrier message again (another body even): not recorded, nothing changes.
    assert not _record(side, again, body="START", carrier_id="c-1")
    assert side.arrange.text(ORG, again) is None
    stored = side.arrange.text(ORG, first)
    assert stored is not None and stored.body == "x" * 2000
    # Carrier ids are per organization and number.
    assert _record(side, new_id(NOW), org_id=OTHER_ORG, carrier_id="c-1")
    assert _record(side, new_id(NOW), phone="+16175550002", carrier_id="c-1")
    # A number never texted: stored unattributed.
    unattributed_id = new_id(LATER)
    assert side.store.record_inbound(
        RecordedText(
            org_id=ORG,
            message_id=unattributed_id,
            carrier_id="c-2",
            from_number=PHONE,
            to_number=SENDER,
            body="hello?",
            kind="reply",
            last=None,
            received_at=LATER,
        )
    )
    unattributed = side.arrange.text(ORG, unattributed_id)
    assert unattributed is not None
    assert (unattributed.campaign_id, unattributed.variant) == (None, None)
    assert unattributed.received_at == LATER


def test_many_texts_are_each_recorded_once(side: Side) -> None:
    """More texts than a conversation remembers carrier ids of: each new one is recorded,
    and a redelivery of any recent one is not."""
    ids = {f"c-{n}": new_id(NOW + timedelta(milliseconds=n)) for n in range(45)}
    for carrier, message_id in ids.items():
        assert _record(side, message_id, carrier_id=carrier)
    assert not _record(side, new_id(LATER), carrier_id="c-44")
    assert not _record(side, new_id(LATER), carrier_id="c-30")


def test_the_auto_reply_is_noted_on_its_text(side: Side) -> None:
    message_id = new_id(NOW)
    assert _record(side, message_id)
    side.store.note_auto_reply(ORG, PHONE, message_id, AutoReply.sent("reply-1"))
    stored = side.arrange.text(ORG, message_id)
    assert stored is not None
    assert (stored.body, stored.auto_reply) == ("STOP", "sent")


def test_a_suppressed_or_refused_auto_reply_is_noted_on_its_text(side: Side) -> None:
    one, two = new_id(NOW), new_id(NOW)
    assert _record(side, one)
    assert _record(side, two)
    side.store.note_auto_reply(ORG, PHONE, one, AutoReply.suppressed(Suppressed.HOURLY_LIMIT))
    side.store.note_auto_reply(ORG, PHONE, two, AutoReply.refused("x" * 300, maybe_sent=False))
    suppressed, refused = side.arrange.text(ORG, one), side.arrange.text(ORG, two)
    assert suppressed is not None and refused is not None
    assert suppressed.auto_reply == "suppressed:hourly_limit"
    assert refused.auto_reply == "failed:" + "x" * 100


def test_an_auto_reply_is_an_outbound_message(side: Side) -> None:
    reply = outbound(new_id(NOW), "p-1", kind=MessageKind.AUTO_REPLY, body="You are opted out.")
    side.store.record_auto_reply(reply)
    assert side.arrange.message(ORG, PHONE, reply.id) == reply


def test_a_help_answer_is_marked_once_per_number_per_interval(side: Side) -> None:
    day = timedelta(hours=24)
    assert side.store.take_help_answer(ORG, PHONE, now=NOW, interval=day)
    assert not side.store.take_help_answer(ORG, PHONE, now=NOW, interval=day)
    almost = NOW + day - timedelta(milliseconds=1)
    assert not side.store.take_help_answer(ORG, PHONE, now=almost, interval=day)
    # Per organization and number.
    assert side.store.take_help_answer(OTHER_ORG, PHONE, now=NOW, interval=day)
    assert side.store.take_help_answer(ORG, "+16175550002", now=NOW, interval=day)
    # A full interval later: marked again, from then on.
    assert side.store.take_help_answer(ORG, PHONE, now=NOW + day, interval=day)
    assert not side.store.take_help_answer(ORG, PHONE, now=NOW + day + day / 2, interval=day)


def test_a_help_mark_is_given_back_only_by_the_time_it_was_taken(side: Side) -> None:
    day = timedelta(hours=24)
    assert side.store.take_help_answer(ORG, PHONE, now=NOW, interval=day)
    side.store.give_back_help_answer(ORG, PHONE, taken_at=LATER)  # not this mark: stays
    assert not side.store.take_help_answer(ORG, PHONE, now=LATER, interval=day)
    side.store.give_back_help_answer(ORG, PHONE, taken_at=NOW)
    assert side.store.take_help_answer(ORG, PHONE, now=LATER, interval=day)
    side.store.give_back_help_answer(OTHER_ORG, PHONE, taken_at=LATER)  # none: nothing
    assert not side.store.take_help_answer(ORG, PHONE, now=LATER, interval=day)


def test_opt_outs_and_replies_count_on_the_variant_a_replier_once(side: Side) -> None:
    side.arrange.add_sent(sent(DANA, "A"), "m-1")
    dana = LastSend(CAMPAIGN, "A", DANA)
    side.store.count_opt_out(ORG, dana)
    assert side.arrange.variant_counters(ORG, CAMPAIGN, "A") == Counter(opt_outs=1)
    side.store.count_reply(ORG, dana, NOW)
    side.store.count_reply(ORG, dana, LATER)
    assert side.arrange.variant_counters(ORG, CAMPAIGN, "A") == Counter(
        opt_outs=1, replies=2, repliers=1
    )
    recipient = side.arrange.recipient(ORG, CAMPAIGN, DANA)
    assert recipient is not None and recipient.replied_at == NOW
    # Someone the phone history names but who is not this campaign's recipient: a reply,
    # no replier (and no recipient appears).
    side.store.count_reply(ORG, LastSend(CAMPAIGN, "B", LEE), NOW)
    assert side.arrange.variant_counters(ORG, CAMPAIGN, "B") == Counter(replies=1)
    assert side.arrange.recipient(ORG, CAMPAIGN, LEE) is None


def test_a_receipt_finds_its_recipient_only_by_context_and_message_id(side: Side) -> None:
    side.arrange.add_sent(sent(DANA, "B"), "m-dana")
    side.arrange.add_sent(sent(LEE, "A"), "m-lee")
    context = {"org_id": ORG, "campaign_id": CAMPAIGN, "contact_id": DANA}
    assert side.store.send_for_receipt("m-dana", context) == SendRef(
        org_id=ORG,
        campaign_id=CAMPAIGN,
        contact_id=DANA,
        variant="B",
        status=RecipientStatus.SENT,
        phone=PHONE,
    )
    with_message = {**context, "message_id": "msg-1"}
    found = side.store.send_for_receipt("m-dana", with_message)
    assert found is not None and found.message_id == "msg-1"
    # The context names Dana, the message id is Lee's: no recipient.
    assert side.store.send_for_receipt("m-lee", context) is None
    assert side.store.send_for_receipt("m-dana", {}) is None
    assert side.store.send_for_receipt("m-dana", {**context, "contact_id": ""}) is None
    assert side.store.send_for_receipt("m-dana", {**context, "org_id": OTHER_ORG}) is None
    assert side.store.send_for_receipt("m-dana", {**context, "contact_id": new_id(NOW)}) is None


def test_a_receipt_moves_a_recipient_only_from_the_status_it_was_read_with(side: Side) -> None:
    dana = sent(DANA, "A")
    side.arrange.add_sent(dana, "m-dana")
    side.arrange.add_sent(sent(LEE, "A"), "m-lee")
    assert side.store.apply_receipt(dana, status=RecipientStatus.DELIVERED, error=None, now=LATER)
    recipient = side.arrange.recipient(ORG, CAMPAIGN, DANA)
    assert recipient is not None
    assert (recipient.status, recipient.error, recipient.updated_at) == (
        RecipientStatus.DELIVERED,
        None,
        LATER,
    )
    # Read as `sent` before the first receipt applied: the second one changes nothing.
    assert not side.store.apply_receipt(
        dana, status=RecipientStatus.FAILED, error="TEXT_TTL_EXPIRED", now=LATER
    )
    after = side.arrange.recipient(ORG, CAMPAIGN, DANA)
    assert after is not None and (after.status, after.error) == (RecipientStatus.DELIVERED, None)
    # A failure keeps its code (cut to 500 characters).
    lee = SendRef(ORG, CAMPAIGN, LEE, "A", RecipientStatus.SENT, PHONE)
    assert side.store.apply_receipt(lee, status=RecipientStatus.FAILED, error="E" * 600, now=LATER)
    failed = side.arrange.recipient(ORG, CAMPAIGN, LEE)
    assert failed is not None
    assert (failed.status, failed.error) == (RecipientStatus.FAILED, "E" * 500)
    # No such recipient: nothing to move.
    ghost = SendRef(ORG, CAMPAIGN, new_id(NOW), "A", RecipientStatus.SENT)
    assert not side.store.apply_receipt(
        ghost, status=RecipientStatus.DELIVERED, error=None, now=LATER
    )


def test_a_campaign_receipt_moves_the_texts_message_once(side: Side) -> None:
    text = outbound(new_id(NOW), "m-dana")
    side.arrange.add_message(text)
    dana = sent(DANA, "A", text.id)
    side.arrange.add_sent(dana, "m-dana")
    assert side.store.apply_receipt(dana, status=RecipientStatus.FAILED, error="E" * 600, now=LATER)
    moved = side.arrange.message(ORG, PHONE, text.id)
    assert moved is not None
    assert (moved.status, moved.error, moved.updated_at) == (
        MessageStatus.FAILED,
        "E" * 500,
        LATER,
    )


def test_a_receipt_for_a_text_of_no_campaign_moves_its_message_once(side: Side) -> None:
    reply = outbound(new_id(NOW), "p-1", kind=MessageKind.AUTO_REPLY)
    side.arrange.add_message(reply)
    context = {"org_id": ORG, "phone": PHONE, "message_id": reply.id, "kind": "auto_reply"}
    assert side.store.apply_message_receipt(
        "p-1", context, status=MessageStatus.DELIVERED, error=None, now=LATER
    )
    moved = side.arrange.message(ORG, PHONE, reply.id)
    assert moved is not None and (moved.status, moved.updated_at) == (
        MessageStatus.DELIVERED,
        LATER,
    )
    # Once: a late "failed" changes nothing.
    assert (
        side.store.apply_message_receipt(
            "p-1", context, status=MessageStatus.FAILED, error="x", now=LATER
        )
        is False
    )
    # Another provider id, another organization, a missing message: no message of ours.
    for wrong_id, wrong in (
        ("p-2", context),
        ("p-1", {**context, "org_id": OTHER_ORG}),
        ("p-1", {**context, "message_id": new_id(NOW)}),
        ("p-1", {"org_id": ORG}),
    ):
        assert (
            side.store.apply_message_receipt(
                wrong_id, wrong, status=MessageStatus.DELIVERED, error=None, now=LATER
            )
            is None
        )
