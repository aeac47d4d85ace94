"""Conversations: every text an organization exchanges with one phone number.

One conversation per (organization, E.164 number), whoever the number belongs to: a
contact, a deleted contact, or nobody yet (the number is the key, so a conversation
outlives its contact). Every text in or out is a :class:`Message` of it:

* ``campaign``: a campaign's text (with its campaign and variant), written by the
  sender once the provider took it (or may have: status ``unknown``);
* ``manual``: a text a user wrote in the conversation (with the user);
* ``auto_reply``: a STOP or START confirmation, or a HELP answer, the provider took;
* ``inbound``: a text the person sent, with its keyword outcome (``reply``,
  ``opt_out``, ``opt_in``, ``help``: what was done, sending-rules.md "Replies and
  keywords").

Delivery receipts move an outbound message from ``sent`` (or ``unknown``) to
``delivered`` or ``failed``, never back. The conversation keeps a summary for the
inbox (:class:`outreach.conversations.domain.ConversationSummary`): its last message,
how many inbound texts arrived since it was last read, and the campaign that last texted
the number.

This module is what the writers (the sender, the inbound function) need, and nothing
more: the inbox's read-side values are in :mod:`outreach.conversations.domain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

PREVIEW_LENGTH = 160
"""The characters of a message an inbox summary shows (one GSM-7 segment)."""

MESSAGE_BODY_LIMIT = 2000
"""The characters of a text a message keeps (a longer inbound text is cut)."""

RECENT_INBOUND_KEPT = 20
"""Carrier message ids a conversation remembers, to record a redelivered text once."""

REPLY_WINDOW_HOURS = 24
"""A manual text within this many hours of the person's own last text answers them: not
a solicitation, so quiet hours and state rules do not hold it (issue 19, point 4)."""


class Direction(StrEnum):
    """Whether a message came from the person or went to them."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageKind(StrEnum):
    """What wrote a message (module docstring)."""

    CAMPAIGN = "campaign"
    MANUAL = "manual"
    AUTO_REPLY = "auto_reply"
    INBOUND = "inbound"


class MessageStatus(StrEnum):
    """Where a message is: ``received`` (inbound); ``sent`` (the provider took it),
    ``delivered`` or ``failed`` (a carrier receipt said so, or the provider refused it),
    ``unknown`` (the provider did not say whether it took it: never sent again)."""

    RECEIVED = "received"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"


RECEIPT_STATUSES = (MessageStatus.SENT, MessageStatus.UNKNOWN)
"""The statuses a delivery receipt may move a message from."""


def preview(body: str) -> str:
    """The first :data:`PREVIEW_LENGTH` characters of ``body``."""
    return body[:PREVIEW_LENGTH]


@dataclass(frozen=True)
class Message:
    """One text of a conversation.

    ``id`` is time-ordered (:func:`outreach.ids.new_id`), so a conversation's messages
    list newest first by key. ``keyword`` is an inbound text's outcome (``reply``,
    ``opt_out``, ``opt_in``, ``help``) and ``auto_reply`` what became of the answer it
    called for (``sent``, ``suppressed:<reason>``, ...); ``campaign_id`` and ``variant``
    name the campaign text (or, inbound, the send it answers); ``user_id`` the author
    of a manual text; ``provider_message_id`` the provider's id (outbound) or the
    carrier's (inbound); ``error`` a provider or carrier error code.
    """

    org_id: str
    phone: str
    id: str
    direction: Direction
    kind: MessageKind
    body: str
    status: MessageStatus
    created_at: datetime
    updated_at: datetime
    campaign_id: str | None = None
    variant: str | None = None
    contact_id: str | None = None
    user_id: str | None = None
    keyword: str | None = None
    auto_reply: str | None = None
    provider_message_id: str | None = None
    error: str | None = None


def receipt_context(org_id: str, phone: str, message_id: str, kind: MessageKind) -> dict[str, str]:
    """The context a text of no campaign gives the provider: delivery receipts carry it
    back and find the message by it (a campaign text's names its recipient instead)."""
    return {"org_id": org_id, "phone": phone, "message_id": message_id, "kind": kind.value}
