"""Reading back the messages conversations recorded, across an organization (tests only).

The product reads one conversation at a time (its partition); a test that drove several
numbers asks for all of an organization's messages at once, which only a Scan answers.
"""

from __future__ import annotations

from outreach.conversations.messages import Direction
from outreach.data.models import MessageModel


def messages_of(org_id: str) -> list[MessageModel]:
    """Every message of ``org_id``'s conversations, oldest first (a consistent Scan)."""
    found = MessageModel.scan(MessageModel.org_id == org_id, consistent_read=True)
    return sorted(found, key=lambda item: item.message_id)


def inbound_texts(org_id: str) -> list[MessageModel]:
    """The inbound texts of ``org_id``'s conversations, oldest first."""
    return [m for m in messages_of(org_id) if m.direction == Direction.INBOUND.value]


def inbound_text(org_id: str, carrier_id: str) -> MessageModel:
    """The inbound text the carrier sent with message id ``carrier_id`` (exactly one)."""
    (found,) = [m for m in inbound_texts(org_id) if m.provider_message_id == carrier_id]
    return found
