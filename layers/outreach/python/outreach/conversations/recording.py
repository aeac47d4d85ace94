"""Recording texts into conversations on DynamoDB: the ``messages`` table and the
``conversations`` items (the inbox's summaries, listed by their ``inbox`` index). What the
event functions write (the sender, the inbound function); the API's reads are
:mod:`outreach.conversations.repository`.

What each message costs (issue 19): the message item (1 write); a text that starts or
moves a conversation (an inbound text, a user's, an auto-reply) also its summary (1 write)
and its ``inbox`` index entry (2 writes for a key change, 1 for a new entry); an inbound
text's message replaces the inbound log item of before. A campaign text is a message and
nothing more: the campaign that last texted a number is its phone history's, which the
sender writes with every text anyway, and the inbox reads it from there.

The models must be bound first (the services' factories do it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pynamodb.constants import ALL_NEW
from pynamodb.exceptions import DoesNotExist, UpdateError

from outreach.conversations.messages import (
    RECEIPT_STATUSES,
    RECENT_INBOUND_KEPT,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    preview,
)
from outreach.data.keys import conversation_key, inbox_key
from outreach.data.models import ConversationModel, MessageModel, PhoneHistoryModel
from outreach.data.pynamo import (
    condition_failed,
    from_item,
    raw_map,
    to_item,
    update_quietly,
)

# A redelivered text whose message is not among a conversation's newest this many is
# taken as recorded (a redelivery comes within minutes of the first delivery).
_REDELIVERY_LOOKBACK = 100


def last_message_map(message: Message) -> dict[str, Any]:
    """The ``last_message`` map a conversation's summary holds for ``message``."""
    return {
        "id": message.id,
        "direction": message.direction.value,
        "kind": message.kind.value,
        "preview": preview(message.body),
        "at": message.created_at.isoformat(),
    }


def message_item(message: Message) -> MessageModel:
    """The ``messages`` item of ``message``."""
    return to_item(
        MessageModel,
        message,
        conversation_key=conversation_key(message.org_id, message.phone),
        message_id=message.id,
        direction=message.direction.value,
        kind=message.kind.value,
        status=message.status.value,
    )


def to_message(item: MessageModel) -> Message:
    """The :class:`Message` a ``messages`` item holds."""
    return from_item(
        Message,
        item,
        id=item.message_id,
        direction=Direction(item.direction),
        kind=MessageKind(item.kind),
        status=MessageStatus(item.status),
    )


def summary_actions(message: Message, *, read: bool = False) -> list[Any]:
    """The update actions that make ``message`` its conversation's last message and keep
    the conversation in the inbox index: read with ``read``, else read or unread as it
    was (a new one read)."""
    read_key = inbox_key(message.org_id, unread=False)
    return [
        ConversationModel.last_message.set(last_message_map(message)),
        ConversationModel.last_at.set(message.created_at),
        ConversationModel.inbox.set(read_key if read else ConversationModel.inbox | read_key),
    ]


def note_campaign_texts(messages: Sequence[Message]) -> None:
    """A page's campaign texts (the sender's), as messages of their numbers'
    conversations, in batches. A campaign text does not move a conversation in the inbox
    nor become its ``last_message``: the inbox follows the conversation proper (the
    person's texts, a user's, auto-replies), and a broadcast does not bury replies. The
    campaign that last texted the number (``?campaign_id=``) is its phone history's."""
    with MessageModel.batch_write() as batch:
        for message in messages:
            batch.save(message_item(message))


class ConversationWriter:
    """Records messages into conversations: the inbound function's texts, receipts and
    auto-replies, and the API's manual texts. (The sender writes its campaign texts
    with its history write: :meth:`outreach.sending.repository.SendingRepository.note_texts`.)
    """

    def record_inbound(self, message: Message, *, carrier_id: str) -> bool:
        """Record an inbound text once per ``carrier_id`` (the carrier's message id):
        first the conversation (one more unread text, the last message, when the person
        last texted, the carrier id), then the message. ``False`` when the carrier id was
        recorded before: nothing is counted again, but the message is written if the run
        that recorded the conversation died before writing it.
        """
        if not self._claim_carrier_id(message, carrier_id):
            self._write_if_missing(message, carrier_id)
            return False
        message_item(message).save()
        return True

    def _claim_carrier_id(self, message: Message, carrier_id: str) -> bool:
        """The conversation's update for a new inbound text, on condition that its carrier
        id is not among the latest ones; ``False`` if it is. The id map is created by the
        first text (a second conditional form), and cut back to the latest
        :data:`RECENT_INBOUND_KEPT` once it holds twice as many."""
        item = ConversationModel(message.org_id, message.phone)
        common = [
            ConversationModel.last_message.set(last_message_map(message)),
            ConversationModel.last_at.set(message.created_at),
            ConversationModel.inbox.set(inbox_key(message.org_id, unread=True)),
            ConversationModel.unread_count.add(1),
            ConversationModel.last_inbound_at.set(message.created_at),
        ]
        if message.campaign_id:  # the campaign that last texted the number
            common.append(ConversationModel.last_campaign_id.set(message.campaign_id))
        forms = (
            (
                [*common, ConversationModel.recent_inbound[carrier_id].set(message.id)],
                ConversationModel.recent_inbound.exists()
                & ConversationModel.recent_inbound[carrier_id].does_not_exist(),
            ),
            (
                [*common, ConversationModel.recent_inbound.set({carrier_id: message.id})],
                ConversationModel.recent_inbound.does_not_exist(),
            ),
        )
        hash_key, range_key = item._get_hash_range_key_serialized_values()
        # Both forms fail when the map holds the carrier id, or when another text created
        # the map between the two: then a read tells which, and the forms go again.
        for _ in range(3):
            for actions, condition in forms:
                try:
                    answer = item._get_connection().update_item(
                        hash_key,
                        range_key=range_key,
                        actions=actions,
                        condition=condition,
                        return_values=ALL_NEW,
                    )
                except UpdateError as error:
                    if condition_failed(error):
                        continue
                    raise
                self._trim_carrier_ids(message, answer)
                return True
            if self._has_carrier_id(message, carrier_id):
                return False
        raise RuntimeError("the conversation changed three times while a text was recorded")

    @staticmethod
    def _has_carrier_id(message: Message, carrier_id: str) -> bool:
        try:
            item = ConversationModel.get(
                message.org_id,
                message.phone,
                consistent_read=True,
                attributes_to_get=["recent_inbound"],
            )
        except DoesNotExist:
            return False
        return carrier_id in raw_map(item.recent_inbound)

    @staticmethod
    def _trim_carrier_ids(message: Message, answer: Mapping[str, Any]) -> None:
        stored = answer.get("Attributes", {}).get("recent_inbound", {}).get("M", {})
        if len(stored) <= 2 * RECENT_INBOUND_KEPT:
            return
        by_age = sorted(stored, key=lambda carrier: stored[carrier].get("S", ""))
        update_quietly(
            ConversationModel(message.org_id, message.phone),
            actions=[
                ConversationModel.recent_inbound[carrier].remove()
                for carrier in by_age[: len(stored) - RECENT_INBOUND_KEPT]
            ],
        )

    @staticmethod
    def _write_if_missing(message: Message, carrier_id: str) -> None:
        """A redelivered text: write its message if no recent message of the conversation
        carries ``carrier_id`` (the first run died between its two writes)."""
        recent = MessageModel.query(
            conversation_key(message.org_id, message.phone),
            scan_index_forward=False,
            limit=_REDELIVERY_LOOKBACK,
            consistent_read=True,
            filter_condition=MessageModel.provider_message_id == carrier_id,
        )
        if any(True for _ in recent):
            return
        message_item(message).save()

    def note_auto_reply(self, org_id: str, phone: str, message_id: str, recorded: str) -> None:
        """Keep on an inbound text what became of the answer it called for."""
        update_quietly(
            MessageModel(conversation_key(org_id, phone), message_id),
            actions=[MessageModel.auto_reply.set(recorded)],
        )

    def record_outbound(
        self, message: Message, *, mark_read: bool = False, first_text: bool = False
    ) -> None:
        """Record a text the organization sent (an auto-reply, a manual text): the message,
        then the conversation's summary (a conversation starts here if the number had
        none). ``mark_read``: a user's answer, so its unread texts are read too.
        ``first_text``: the first text the organization ever sent the number (the opt-out
        footer went on it), so its history says it was texted."""
        message_item(message).save()
        unread = 0 if mark_read else ConversationModel.unread_count | 0
        update_quietly(
            ConversationModel(message.org_id, message.phone),
            actions=[
                *summary_actions(message, read=mark_read),
                ConversationModel.unread_count.set(unread),
            ],
        )
        if first_text:
            update_quietly(
                PhoneHistoryModel(message.org_id, message.phone),
                actions=[
                    PhoneHistoryModel.first_sent_at.set(
                        PhoneHistoryModel.first_sent_at | message.created_at
                    )
                ],
            )

    def apply_receipt(
        self,
        org_id: str,
        phone: str,
        message_id: str,
        *,
        provider_message_id: str | None,
        status: MessageStatus,
        error: str | None,
        now: datetime,
    ) -> bool:
        """``sent``/``unknown`` -> ``delivered``/``failed`` on the message, once, if the
        provider's id on it is ``provider_message_id`` (``None``: already checked by the
        caller); ``False`` if it is not (or no longer) such a message."""
        actions: list[Any] = [
            MessageModel.status.set(status.value),
            MessageModel.updated_at.set(now),
        ]
        if error:
            actions.append(MessageModel.error.set(error[:500]))
        condition = MessageModel.status.is_in(*(s.value for s in RECEIPT_STATUSES))
        if provider_message_id is not None:
            condition &= MessageModel.provider_message_id == provider_message_id
        try:
            update_quietly(
                MessageModel(conversation_key(org_id, phone), message_id),
                actions=actions,
                condition=condition,
            )
        except UpdateError as failure:
            if condition_failed(failure):
                return False
            raise
        return True

    @staticmethod
    def has_message(org_id: str, phone: str, message_id: str, *, provider_message_id: str) -> bool:
        """Whether the conversation holds ``message_id`` with the provider's id
        ``provider_message_id`` (read consistently)."""
        try:
            item = MessageModel.get(
                conversation_key(org_id, phone),
                message_id,
                consistent_read=True,
                attributes_to_get=["provider_message_id"],
            )
        except DoesNotExist:
            return False
        return item.provider_message_id == provider_message_id
