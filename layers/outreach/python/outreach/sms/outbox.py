"""The sandbox provider's outbox: the messages it "sent", kept per organization.

The sandbox provider writes here instead of sending (``SMS_PROVIDER=sandbox``); the
local stack's ``GET /v1/dev/outbox`` lists an organization's messages and
``POST /v1/dev/delivery`` reads one back for the context its receipt carries. Every
read is by organization: the partition key is ``sandbox#<org_id>``
(:func:`sandbox_box`), so one organization's query never reads another's messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from outreach.data.binding import ensure_models_bound
from outreach.data.models import OutboxMessageModel
from outreach.data.pynamo import from_item, raw_map, to_item


def sandbox_box(org_id: str) -> str:
    """The outbox partition of one organization's sandbox messages (every read is by org)."""
    return f"sandbox#{org_id}"


@dataclass(frozen=True)
class OutboxMessage:
    """One message the sandbox provider "sent"."""

    message_id: str
    org_id: str
    from_number: str
    to_number: str
    body: str
    sent_at: datetime
    # What a real provider would carry back on the message's receipts (End User
    # Messaging's Context); empty when the sender gave none.
    context: dict[str, str] = field(default_factory=dict)


class OutboxRepository:
    """The outbox table, read and written one organization at a time."""

    def add(self, message: OutboxMessage) -> None:
        """Store ``message`` in its organization's partition (a put: the id is new)."""
        to_item(
            OutboxMessageModel,
            message,
            box=sandbox_box(message.org_id),
            context=dict(message.context) or None,
        ).save()

    def messages(self, org_id: str) -> list[OutboxMessage]:
        """Every message of ``org_id``'s partition, oldest first (by ``sent_at``, then id)."""
        found = [_message(org_id, item) for item in OutboxMessageModel.query(sandbox_box(org_id))]
        found.sort(key=lambda message: (message.sent_at, message.message_id))
        return found

    def get(self, org_id: str, message_id: str) -> OutboxMessage | None:
        """``org_id``'s message ``message_id``; None when that organization has no such one."""
        try:
            return _message(org_id, OutboxMessageModel.get(sandbox_box(org_id), message_id))
        except DoesNotExist:
            return None


def outbox_repository() -> OutboxRepository:
    """The outbox, on the tables the settings name."""
    ensure_models_bound()
    return OutboxRepository()


def _message(org_id: str, item: OutboxMessageModel) -> OutboxMessage:
    return from_item(
        OutboxMessage,
        item,
        org_id=org_id,  # the partition's: sandbox#<org_id>
        context={str(key): str(value) for key, value in raw_map(item.context).items()},
    )
