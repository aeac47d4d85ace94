"""The inbox's values: a conversation as ``GET /v1/conversations`` lists it.

The messages themselves, and the words of the domain, are in
:mod:`outreach.conversations.messages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from outreach.conversations.messages import Direction, Message, MessageKind, preview


@dataclass(frozen=True)
class LastMessage:
    """An inbox's view of a conversation's newest message: its first
    :data:`PREVIEW_LENGTH` characters."""

    id: str
    direction: Direction
    kind: MessageKind
    preview: str
    at: datetime

    @classmethod
    def of(cls, message: Message) -> LastMessage:
        """The summary of ``message``."""
        return cls(
            message.id, message.direction, message.kind, preview(message.body), message.created_at
        )


@dataclass(frozen=True)
class ContactName:
    """The contact a conversation's number belongs to now."""

    id: str
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True)
class ConversationSummary:
    """One conversation as the inbox lists it: newest activity first."""

    phone: str
    last_message: LastMessage
    unread_count: int
    last_campaign_id: str | None
    contact: ContactName | None = None
    opted_out: bool = False


@dataclass(frozen=True)
class TextingState:
    """What a manual text's rules read of a number: when the organization first texted it
    (``None``: never, so the opt-out footer goes on) and when it last texted the
    organization (``None``: never)."""

    first_sent_at: datetime | None
    last_inbound_at: datetime | None


SEND_KEY_KEPT = timedelta(hours=24)
"""How long an ``Idempotency-Key`` stays tied to the manual text it made."""


@dataclass(frozen=True)
class SendKey:
    """What an ``Idempotency-Key`` is tied to: the message its first request made (or was
    making: ``finished`` is false until the message is recorded), and a digest of that
    request (the number and the body), so that the key with another request is refused."""

    message_id: str
    request_digest: str
    created_at: datetime
    finished: bool = False
