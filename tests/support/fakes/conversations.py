"""An in-memory :class:`~outreach.conversations.repository.ConversationRepository`, held to
it by ``tests/integration/test_conversations_contract.py``.

It keeps what the API's rules depend on: one conversation per (organization, number),
in the inbox once the number texted or was texted by a user or an auto-reply (campaign
texts alone are messages, not an inbox entry), listed newest activity first (unread
ones only, or those whose last campaign text was from a campaign, on request) in pages
whose cursor is sealed to the organization and the listing; a number's messages newest
first; a read mark only on a conversation of the inbox; an outbound text that becomes the
last message (starting a conversation), and marks the conversation read when asked.

Besides the repository's methods it has the arranging calls the sender and the inbound
function make on DynamoDB (:meth:`add_inbound`, :meth:`add_campaign_text`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from outreach.conversations.domain import (
    ConversationSummary,
    LastMessage,
    SendKey,
    TextingState,
)
from outreach.conversations.messages import Message
from outreach.data.pages import Page, decode_cursor, encode_cursor


@dataclass(frozen=True)
class _Conversation:
    last: Message
    unread: int = 0
    last_campaign_id: str | None = None
    last_inbound_at: datetime | None = None


class InMemoryConversations:
    """Conversations and their messages in dictionaries."""

    def __init__(self) -> None:
        self._conversations: dict[tuple[str, str], _Conversation] = {}
        self._messages: dict[tuple[str, str], dict[str, Message]] = {}
        self._send_keys: dict[tuple[str, str], SendKey] = {}
        # The numbers' histories: first text, and the campaign that last texted each.
        self._first_texts: dict[tuple[str, str], datetime] = {}
        self._last_campaigns: dict[tuple[str, str], str] = {}

    # --- Arranging: what the sender and the inbound function write -------------------------

    def add_inbound(self, message: Message) -> None:
        """An inbound text, recorded as the inbound function records it."""
        key = (message.org_id, message.phone)
        self._messages.setdefault(key, {})[message.id] = message
        found = self._conversations.get(key)
        self._conversations[key] = _Conversation(
            last=message,
            unread=(found.unread if found else 0) + 1,
            last_campaign_id=message.campaign_id or (found.last_campaign_id if found else None),
            last_inbound_at=message.created_at,
        )

    def add_campaign_text(self, message: Message) -> None:
        """A campaign text, written by the sender with the number's history: a message,
        and the history's last campaign (no conversation moves)."""
        key = (message.org_id, message.phone)
        self._messages.setdefault(key, {})[message.id] = message
        self._first_texts.setdefault(key, message.created_at)
        if message.campaign_id:
            self._last_campaigns[key] = message.campaign_id

    def _last_campaign(self, org_id: str, phone: str, found: _Conversation) -> str | None:
        """The number's history's last campaign, else the one the conversation names."""
        return self._last_campaigns.get((org_id, phone)) or found.last_campaign_id

    # --- The repository's reads and writes ----------------------------------------------------

    def inbox(
        self,
        org_id: str,
        *,
        unread_only: bool,
        campaign_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[ConversationSummary]:
        listing = f"inbox:{int(unread_only)}:{campaign_id or ''}"
        after = decode_cursor(cursor, org_id=org_id, listing=listing)
        rows = sorted(
            (
                (found.last.created_at, phone, found)
                for (org, phone), found in self._conversations.items()
                if org == org_id
                and (found.unread > 0 or not unread_only)
                and (campaign_id is None or self._last_campaign(org, phone, found) == campaign_id)
            ),
            key=lambda row: (row[0], row[1]),
            reverse=True,
        )
        if after is not None:
            mark = (datetime.fromisoformat(after["at"]), after["phone"])
            rows = [row for row in rows if (row[0], row[1]) < mark]
        page = rows[:limit]
        items = [
            ConversationSummary(
                phone=phone,
                last_message=LastMessage.of(found.last),
                unread_count=found.unread,
                last_campaign_id=self._last_campaign(org_id, phone, found),
            )
            for _, phone, found in page
        ]
        next_key: dict[str, Any] | None = None
        if len(rows) > limit:
            at, phone, _ = page[-1]
            next_key = {"at": at.isoformat(), "phone": phone}
        return Page(items, encode_cursor(next_key, org_id=org_id, listing=listing))

    def messages(self, org_id: str, phone: str, *, limit: int, cursor: str | None) -> Page[Message]:
        listing = f"messages:{phone}"
        after = decode_cursor(cursor, org_id=org_id, listing=listing)
        ordered = sorted(self._messages.get((org_id, phone), {}).values(), key=lambda m: m.id)
        ordered.reverse()
        if after is not None:
            ordered = [m for m in ordered if m.id < after["id"]]
        page = ordered[:limit]
        next_key = {"id": page[-1].id} if len(ordered) > limit else None
        return Page(page, encode_cursor(next_key, org_id=org_id, listing=listing))

    def mark_read(self, org_id: str, phone: str) -> bool:
        found = self._conversations.get((org_id, phone))
        if found is None:
            return False
        self._conversations[org_id, phone] = replace(found, unread=0)
        return True

    def record_outbound(
        self, message: Message, *, mark_read: bool = False, first_text: bool = False
    ) -> None:
        key = (message.org_id, message.phone)
        self._messages.setdefault(key, {})[message.id] = message
        found = self._conversations.get(key)
        self._conversations[key] = _Conversation(
            last=message,
            unread=0 if mark_read or found is None else found.unread,
            last_campaign_id=found.last_campaign_id if found else None,
            last_inbound_at=found.last_inbound_at if found else None,
        )
        if first_text:
            self._first_texts.setdefault(key, message.created_at)

    def texting_state(self, org_id: str, phone: str) -> TextingState:
        found = self._conversations.get((org_id, phone))
        return TextingState(
            self._first_texts.get((org_id, phone)), found.last_inbound_at if found else None
        )

    def message(self, org_id: str, phone: str, message_id: str) -> Message | None:
        return self._messages.get((org_id, phone), {}).get(message_id)

    def claim_send_key(self, org_id: str, key: str, claim: SendKey) -> SendKey:
        return self._send_keys.setdefault((org_id, key), claim)

    def finish_send_key(self, org_id: str, key: str) -> None:
        found = self._send_keys[org_id, key]
        self._send_keys[org_id, key] = replace(found, finished=True)

    def release_send_key(self, org_id: str, key: str, message_id: str) -> None:
        found = self._send_keys.get((org_id, key))
        if found is not None and found.message_id == message_id:
            del self._send_keys[org_id, key]
