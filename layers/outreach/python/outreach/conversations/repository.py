"""Conversations for the API on DynamoDB: the inbox (the ``inbox`` index of the
``conversations`` items), a conversation's messages, read marks, manual texts and their
``Idempotency-Key`` items. The writers the event functions share are in
:mod:`outreach.conversations.recording`.

The models must be bound first (the service's factory does it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from outreach.conversations.domain import (
    SEND_KEY_KEPT,
    ConversationSummary,
    LastMessage,
    SendKey,
    TextingState,
)
from outreach.conversations.messages import Direction, Message, MessageKind
from outreach.conversations.recording import ConversationWriter, to_message
from outreach.data.keys import conversation_key, inbox_key, manual_send_key
from outreach.data.models import (
    ConversationModel,
    ManualSendModel,
    MessageModel,
    PhoneHistoryModel,
)
from outreach.data.pages import Page, decode_cursor, encode_cursor, sealed_page
from outreach.data.pynamo import condition_failed, raw_map, update_quietly

_PARTITIONS = ("unread", "read")
# With ``?campaign_id=``, one page reads on through at most this many inbox entries.
INBOX_EXAMINED_AT_MOST = 1000


def _last_message(stored: Any) -> LastMessage:
    values = raw_map(stored)
    return LastMessage(
        id=values["id"],
        direction=Direction(values["direction"]),
        kind=MessageKind(values["kind"]),
        preview=values["preview"],
        at=datetime.fromisoformat(values["at"]),
    )


def _entry_key(item: ConversationModel) -> dict[str, Any]:
    """The ``inbox`` index's key of an entry: where a Query goes on after it."""
    return {
        "inbox": {"S": item.inbox},
        "last_at": {"S": ConversationModel.last_at.serialize(item.last_at)},  # type: ignore[no-untyped-call]
        "org_id": {"S": item.org_id},
        "phone": {"S": item.phone},
    }


def _last_campaigns(org_id: str, phones: list[str]) -> dict[str, str]:
    """The campaign that last texted each of ``phones`` (their phone histories; one batch
    read, eventually consistent)."""
    keys = [(org_id, phone) for phone in dict.fromkeys(phones)]
    return {
        item.phone: item.last_campaign_id
        for item in PhoneHistoryModel.batch_get(
            keys, attributes_to_get=["phone", "last_campaign_id"]
        )
        if item.last_campaign_id
    }


class ConversationRepository(ConversationWriter):
    """The API's conversations: the inbox, one conversation's messages, read marks, and
    the manual texts it writes (:class:`ConversationWriter`)."""

    def inbox(
        self,
        org_id: str,
        *,
        unread_only: bool,
        campaign_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[ConversationSummary]:
        """Conversations newest activity first, ``limit`` a page: the unread and the read
        partitions of the ``inbox`` index, each Queried newest first and merged (only the
        unread one with ``unread_only``). Each one's last campaign is its number's phone
        history's (one batch read per ``limit`` entries, where the sender writes it with
        every text); ``campaign_id`` keeps those whose last campaign text was from it,
        reading on at most :data:`INBOX_EXAMINED_AT_MOST` entries for one page (a page
        may then be short, with a cursor). The cursor holds where each partition goes
        on."""
        listing = f"inbox:{int(unread_only)}:{campaign_id or ''}"
        positions = decode_cursor(cursor, org_id=org_id, listing=listing) or {}
        partitions = ("unread",) if unread_only else _PARTITIONS
        examine = INBOX_EXAMINED_AT_MOST if campaign_id else limit
        results: dict[str, Any] = {}
        heads: dict[str, ConversationModel | None] = {}
        for partition in partitions:
            start = positions.get(partition)
            if start is None and cursor is not None:
                continue  # this partition was read to its end on an earlier page
            results[partition] = ConversationModel.by_inbox.query(
                inbox_key(org_id, unread=partition == "unread"),
                scan_index_forward=False,
                limit=examine,
                page_size=limit,
                last_evaluated_key=start or None,
            )
            heads[partition] = next(results[partition], None)

        def take_newest() -> tuple[str, ConversationModel] | None:
            ready = [(item.last_at, item.phone, name) for name, item in heads.items() if item]
            if not ready:
                return None
            name = max(ready)[2]
            taken = heads[name]
            assert taken is not None
            heads[name] = next(results[name], None)
            return name, taken

        # Merged newest first, each item read as it is taken (one ahead per partition),
        # judged a batch at a time (one read of the batch's histories).
        examined: list[tuple[str, ConversationModel]] = []
        left_over: set[str] = set()  # partitions with entries taken but not judged
        page: list[ConversationSummary] = []
        while len(page) < limit and len(examined) < examine:
            batch: list[tuple[str, ConversationModel]] = []
            while len(batch) < min(limit, examine - len(examined)):
                taken = take_newest()
                if taken is None:
                    break
                batch.append(taken)
            if not batch:
                break
            last_campaigns = _last_campaigns(org_id, [item.phone for _, item in batch])
            for index, (name, item) in enumerate(batch):
                if len(page) == limit:  # the rest of the batch is read again next page
                    left_over.update(partition for partition, _ in batch[index:])
                    break
                examined.append((name, item))
                last_campaign_id = last_campaigns.get(item.phone) or item.last_campaign_id
                if campaign_id and last_campaign_id != campaign_id:
                    continue
                page.append(
                    ConversationSummary(
                        phone=item.phone,
                        last_message=_last_message(item.last_message),
                        unread_count=int(item.unread_count or 0),
                        last_campaign_id=last_campaign_id,
                    )
                )
        next_positions: dict[str, Any] = {}
        for name, result in results.items():
            more = (
                name in left_over
                or heads[name] is not None
                or result.last_evaluated_key is not None
            )
            if not more:
                continue
            mine = [item for partition, item in examined if partition == name]
            next_positions[name] = _entry_key(mine[-1]) if mine else positions.get(name) or {}
        return Page(
            page,
            encode_cursor(next_positions, org_id=org_id, listing=listing)
            if next_positions
            else None,
        )

    def messages(self, org_id: str, phone: str, *, limit: int, cursor: str | None) -> Page[Message]:
        """The conversation's messages, newest first, ``limit`` a page."""
        listing = f"messages:{phone}"
        result = MessageModel.query(
            conversation_key(org_id, phone),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor, org_id=org_id, listing=listing),
        )
        return sealed_page(result, to_message, org_id=org_id, listing=listing)

    def texting_state(self, org_id: str, phone: str) -> TextingState:
        """When the organization first texted ``phone`` (its history) and when the number
        last texted it (its conversation), each ``None`` if never; read consistently."""
        try:
            history = PhoneHistoryModel.get(
                org_id, phone, consistent_read=True, attributes_to_get=["first_sent_at"]
            )
            first_sent_at = history.first_sent_at
        except DoesNotExist:
            first_sent_at = None
        try:
            conversation = ConversationModel.get(
                org_id, phone, consistent_read=True, attributes_to_get=["last_inbound_at"]
            )
            last_inbound_at = conversation.last_inbound_at
        except DoesNotExist:
            last_inbound_at = None
        return TextingState(first_sent_at, last_inbound_at)

    def message(self, org_id: str, phone: str, message_id: str) -> Message | None:
        """One message of the conversation, read consistently; ``None`` if there is none."""
        try:
            return to_message(
                MessageModel.get(conversation_key(org_id, phone), message_id, consistent_read=True)
            )
        except DoesNotExist:
            return None

    def claim_send_key(self, org_id: str, key: str, claim: SendKey) -> SendKey:
        """Tie ``key`` (an ``Idempotency-Key``) to ``claim``'s message and request for a
        day, unless it already is: then what it is tied to (``claim`` itself when this
        call tied it). One conditional put."""
        item = ManualSendModel(
            manual_send_key(org_id, key),
            message_id=claim.message_id,
            request_digest=claim.request_digest,
            created_at=claim.created_at,
            finished=0,
            expires_at=claim.created_at + SEND_KEY_KEPT,
        )
        try:
            item.save(condition=ManualSendModel.key.does_not_exist())
        except PutError as error:
            if not condition_failed(error):
                raise
            found = ManualSendModel.get(manual_send_key(org_id, key), consistent_read=True)
            return SendKey(
                found.message_id,
                found.request_digest,
                found.created_at,
                finished=bool(found.finished),
            )
        return claim

    def finish_send_key(self, org_id: str, key: str) -> None:
        """The request that tied ``key`` is done: its message is recorded."""
        update_quietly(
            ManualSendModel(manual_send_key(org_id, key)),
            actions=[ManualSendModel.finished.set(1)],
        )

    def release_send_key(self, org_id: str, key: str, message_id: str) -> None:
        """Untie ``key`` from ``message_id`` (its text was not sent: a retry may send it)."""
        try:
            ManualSendModel(manual_send_key(org_id, key)).delete(
                condition=ManualSendModel.message_id == message_id
            )
        except DeleteError as error:
            if not condition_failed(error):
                raise

    def mark_read(self, org_id: str, phone: str) -> bool:
        """No unread texts in the conversation (it moves to the read partition); ``False``
        if there is no conversation with ``phone``."""
        try:
            update_quietly(
                ConversationModel(org_id, phone),
                actions=[
                    ConversationModel.unread_count.set(0),
                    ConversationModel.inbox.set(inbox_key(org_id, unread=False)),
                ],
                condition=ConversationModel.inbox.exists(),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True
