"""The inbound domain's values: what the carrier sends back, and what became of it.

:class:`InboundText` and :class:`DeliveryReceipt` are what the parser
(:mod:`outreach.inbound.events`) and the local stack's ``/v1/dev/inbound`` and
``/v1/dev/delivery`` routes hand to :class:`~outreach.inbound.service.InboundService`;
:class:`Outcome` is what it answers (the inbound function counts outcomes as the
``Inbound_<outcome>`` metrics). :class:`LastSend` and :class:`SendRef` are what the
service reads from its store (:class:`~outreach.inbound.ports.InboundStore`), and
:class:`RecordedText` what it records there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from outreach.campaigns.domain import RecipientStatus


@dataclass(frozen=True)
class InboundText:
    """A text a person sent to an organization's number.

    Numbers are as the carrier gave them (the service normalises them to E.164);
    ``message_id`` is the carrier's inbound message id, the key a redelivered text
    is recognised by (``None``: the service gives the text a fresh id).
    """

    from_number: str
    to_number: str
    body: str
    message_id: str | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    """What the carrier says became of a message we sent."""

    message_id: str
    status: RecipientStatus  # delivered or failed
    error_code: str | None = None
    # The context the sender gave the provider (org_id, campaign_id, contact_id).
    context: dict[str, str] = field(default_factory=dict)


class Outcome(StrEnum):
    """What handling one text or receipt did (``sending-rules.md``, "Replies and keywords"
    and "Late carrier receipts")."""

    OPTED_OUT = "opted_out"
    ALREADY_OPTED_OUT = "already_opted_out"
    OPTED_IN = "opted_in"
    HELP_SENT = "help_sent"
    REPLY = "reply"
    DUPLICATE = "duplicate"
    UNKNOWN_NUMBER = "unknown_number"
    RECEIPT_APPLIED = "receipt_applied"
    RECEIPT_IGNORED = "receipt_ignored"
    UNKNOWN_MESSAGE = "unknown_message"


@dataclass(frozen=True)
class LastSend:
    """What last texted a number: where its replies and opt-outs count."""

    campaign_id: str
    variant: str
    contact_id: str


@dataclass(frozen=True)
class RecordedText:
    """An inbound text as the store records it: by the organization and the carrier's
    message id, when it came, its numbers in E.164, its body, its keyword ``kind``
    (an :class:`~outreach.inbound.keywords.InboundKind` value) and the send it answers
    (``None``: unattributed)."""

    org_id: str
    message_id: str
    received_at: datetime
    from_number: str
    to_number: str
    body: str
    kind: str
    last: LastSend | None


@dataclass(frozen=True)
class SendRef:
    """The recipient a delivery receipt is about, and its status when the receipt came."""

    org_id: str
    campaign_id: str
    contact_id: str
    variant: str
    status: RecipientStatus
