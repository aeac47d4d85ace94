"""Inbound persistence: routing by sender number, conversations, attribution, receipts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from outreach.campaigns.statuses import RecipientStatus
from outreach.conversations.messages import (
    MESSAGE_BODY_LIMIT,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
)
from outreach.conversations.recording import ConversationWriter
from outreach.data.keys import campaign_key, help_answer_key, sender_key
from outreach.data.models import (
    CampaignStatsModel,
    CounterModel,
    PhoneHistoryModel,
    RecipientModel,
    UniqueKeyModel,
)
from outreach.data.pynamo import condition_failed, from_item, update_quietly
from outreach.data.transactions import ConditionsFailed, Transaction
from outreach.inbound.domain import AutoReply, LastSend, RecordedText, SendRef


class InboundRepository:
    """The :class:`~outreach.inbound.ports.InboundStore` on DynamoDB.

    The models must be bound first (``build_inbound_service`` does it).
    """

    def organization_for(self, sender_number: str) -> str | None:
        """The organization whose sender number received a text (numbers are unique)."""
        try:
            return UniqueKeyModel.get(sender_key(sender_number)).org_id
        except DoesNotExist:
            return None

    def __init__(self) -> None:
        self._conversations = ConversationWriter()

    def record_inbound(self, text: RecordedText) -> bool:
        """The text as an inbound message of its conversation, once per carrier id
        (:meth:`~outreach.conversations.repository.ConversationWriter.record_inbound`)."""
        last = text.last
        message = Message(
            org_id=text.org_id,
            phone=text.from_number,
            id=text.message_id,
            direction=Direction.INBOUND,
            kind=MessageKind.INBOUND,
            body=text.body[:MESSAGE_BODY_LIMIT],
            status=MessageStatus.RECEIVED,
            created_at=text.received_at,
            updated_at=text.received_at,
            campaign_id=last.campaign_id if last else None,
            variant=last.variant if last else None,
            contact_id=last.contact_id if last else None,
            keyword=text.kind,
            provider_message_id=text.carrier_id,
        )
        return self._conversations.record_inbound(message, carrier_id=text.carrier_id)

    def note_auto_reply(self, org_id: str, phone: str, message_id: str, reply: AutoReply) -> None:
        """Keep what became of the auto-reply on the inbound text's message."""
        self._conversations.note_auto_reply(org_id, phone, message_id, reply.recorded)

    def record_auto_reply(self, message: Message) -> None:
        """The auto-reply as an outbound message of its conversation."""
        self._conversations.record_outbound(message)

    # --- One HELP answer per number per interval ---------------------------------------------
    # An item of the counters table per (organization, number) whose ``value`` is the
    # time of the last answer in epoch milliseconds: taking a mark is one UpdateItem
    # conditioned on that time, so concurrent HELPs race on one condition. Its TTL is
    # only the clean-up; a mark the TTL has not removed yet is old by its time.

    def take_help_answer(
        self, org_id: str, phone: str, *, now: datetime, interval: timedelta
    ) -> bool:
        """Set the mark to ``now`` if it is absent or at least ``interval`` old."""
        try:
            update_quietly(
                CounterModel(help_answer_key(org_id, phone)),
                actions=[
                    CounterModel.value.set(_millis(now)),
                    CounterModel.expires_at.set(now + interval),
                ],
                condition=CounterModel.value.does_not_exist()
                | (CounterModel.value <= _millis(now - interval)),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def give_back_help_answer(self, org_id: str, phone: str, *, taken_at: datetime) -> None:
        """Delete the mark if it is still the one taken at ``taken_at``."""
        try:
            CounterModel(help_answer_key(org_id, phone)).delete(
                condition=CounterModel.value == _millis(taken_at)
            )
        except DeleteError as error:
            if not condition_failed(error):
                raise

    def last_send(self, org_id: str, phone: str) -> LastSend | None:
        """The number's phone history (written by the sender), if it names a campaign send."""
        try:
            item = PhoneHistoryModel.get(org_id, phone)
        except DoesNotExist:
            return None
        if not (item.last_campaign_id and item.last_variant and item.last_contact_id):
            return None
        return LastSend(item.last_campaign_id, item.last_variant, item.last_contact_id)

    def count_opt_out(self, org_id: str, last: LastSend) -> None:
        """One more opt-out on the campaign's variant statistics row."""
        CampaignStatsModel(campaign_key(org_id, last.campaign_id), last.variant).update(
            actions=[CampaignStatsModel.opt_outs.add(1)]
        )

    def count_reply(self, org_id: str, last: LastSend, now: datetime) -> None:
        """Count the reply; a recipient's first reply also counts them as a replier."""
        stats = CampaignStatsModel(campaign_key(org_id, last.campaign_id), last.variant)
        transaction = Transaction()
        transaction.update(
            RecipientModel(campaign_key(org_id, last.campaign_id), last.contact_id),
            actions=[RecipientModel.replied_at.set(now)],
            condition=RecipientModel.contact_id.exists()
            & RecipientModel.replied_at.does_not_exist(),
            label="first reply",
        )
        transaction.update(
            stats,
            actions=[CampaignStatsModel.replies.add(1), CampaignStatsModel.repliers.add(1)],
        )
        try:
            transaction.commit()
        except ConditionsFailed:
            stats.update(actions=[CampaignStatsModel.replies.add(1)])

    # --- Delivery receipts -----------------------------------------------------------------

    def send_for_receipt(self, message_id: str, context: dict[str, str]) -> SendRef | None:
        """The recipient a receipt is about: named by the message's context, same message id."""
        org_id, campaign_id = context.get("org_id"), context.get("campaign_id")
        contact_id = context.get("contact_id")
        if not (org_id and campaign_id and contact_id):
            return None
        try:
            item = RecipientModel.get(
                campaign_key(org_id, campaign_id), contact_id, consistent_read=True
            )
        except DoesNotExist:
            return None
        if item.provider_message_id != message_id:
            return None
        return from_item(
            SendRef,
            item,
            status=RecipientStatus(item.status),
            message_id=context.get("message_id") or None,
        )

    def apply_receipt(
        self, ref: SendRef, *, status: RecipientStatus, error: str | None, now: datetime
    ) -> bool:
        """``sent``/``unknown`` -> ``delivered``/``failed``, once (counters follow the
        stream); then the text's message in the conversation, if the sender named one."""
        actions: list[Any] = [
            RecipientModel.status.set(status.value),
            RecipientModel.updated_at.set(now),
        ]
        if error:
            actions.append(RecipientModel.error.set(error[:500]))
        try:
            RecipientModel(campaign_key(ref.org_id, ref.campaign_id), ref.contact_id).update(
                actions=actions, condition=RecipientModel.status == ref.status.value
            )
        except UpdateError as failure:
            if condition_failed(failure):
                return False
            raise
        if ref.message_id:
            # The recipient's provider message id matched the receipt's (send_for_receipt).
            self._conversations.apply_receipt(
                ref.org_id,
                ref.phone,
                ref.message_id,
                provider_message_id=None,
                status=MessageStatus(status.value),
                error=error,
                now=now,
            )
        return True

    def apply_message_receipt(
        self,
        message_id: str,
        context: dict[str, str],
        *,
        status: MessageStatus,
        error: str | None,
        now: datetime,
    ) -> bool | None:
        """A receipt for an auto-reply or a manual text, by the message its context names."""
        org_id, phone = context.get("org_id"), context.get("phone")
        conversation_message = context.get("message_id")
        if not (org_id and phone and conversation_message):
            return None
        moved = self._conversations.apply_receipt(
            org_id,
            phone,
            conversation_message,
            provider_message_id=message_id,
            status=status,
            error=error,
            now=now,
        )
        if moved:
            return True
        found = self._conversations.has_message(
            org_id, phone, conversation_message, provider_message_id=message_id
        )
        return False if found else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _millis(instant: datetime) -> int:
    """``instant`` in epoch milliseconds (a HELP mark's time)."""
    return (instant - _EPOCH) // timedelta(milliseconds=1)
