"""The inbound domain's values: what the carrier sends back, and what became of it.

:class:`InboundText` and :class:`DeliveryReceipt` are what the parser
(:mod:`outreach.inbound.events`) and the local stack's ``/v1/dev/inbound`` and
``/v1/dev/delivery`` routes hand to :class:`~outreach.inbound.service.InboundService`;
:class:`Outcome` is what it answers (the inbound function counts outcomes as the
``Inbound_<outcome>`` metrics). :class:`LastSend` and :class:`SendRef` are what the
service reads from its store (:class:`~outreach.inbound.ports.InboundStore`), and
:class:`RecordedText` what it records there, then :class:`AutoReply`: what became of the
confirmation or HELP answer the text called for (sent, or suppressed and why:
:class:`Suppressed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from outreach.campaigns.statuses import RecipientStatus


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
    """What handling one text or receipt did (``sending-rules.md``, "Replies and keywords",
    "Keywords in other languages" and "Late carrier receipts"). An opt-in word from a
    number not on the opt-out list is a :attr:`REPLY` (issue 15, point 3)."""

    OPTED_OUT = "opted_out"
    ALREADY_OPTED_OUT = "already_opted_out"
    OPTED_IN = "opted_in"
    # A HELP answered (or perhaps: the provider did not say), or not: suppressed by a
    # bound or refused by the provider (the recorded text's ``auto_reply`` says which).
    HELP_SENT = "help_sent"
    HELP_NOT_ANSWERED = "help_not_answered"
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
    """An inbound text as the store records it, a message of the sender's conversation:
    its ``message_id`` there (time-ordered), the carrier's message id ``carrier_id`` (a
    text redelivered with it is recorded once), when it came, its numbers in E.164, its
    body, its keyword ``kind`` (an :class:`~outreach.inbound.keywords.InboundKind` value:
    what was done, so an opt-in word from a number not opted out is ``reply``) and the
    send it answers (``None``: unattributed)."""

    org_id: str
    message_id: str
    carrier_id: str
    received_at: datetime
    from_number: str
    to_number: str
    body: str
    kind: str
    last: LastSend | None


@dataclass(frozen=True)
class SendRef:
    """The recipient a delivery receipt is about, and its status when the receipt came;
    ``phone`` its number and ``message_id`` the text's message in the conversation
    (``None`` for a text sent before conversations were recorded)."""

    org_id: str
    campaign_id: str
    contact_id: str
    variant: str
    status: RecipientStatus
    phone: str = ""
    message_id: str | None = None


class Suppressed(StrEnum):
    """Why an auto-reply (a HELP answer, a STOP or START confirmation) was not sent
    (``sending-rules.md``, rule 9 and the last paragraph of "Keywords in other languages";
    issue 14, point 2). The text itself is recorded and acted on all the same.
    """

    NO_SENDER_NUMBER = "no_sender_number"  # nothing to send it from
    # The organization may not text the number (outreach.destinations.NotTextableReason).
    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    LINE_TYPE = "line_type"
    HELP_INTERVAL = "help_interval"  # the number had a HELP answer in the last 24 hours
    HOURLY_LIMIT = "hourly_limit"  # the organization's auto_reply_hourly_limit this hour
    DAILY_LIMIT = "daily_limit"  # the organization's daily_message_limit today


class AutoReplyStatus(StrEnum):
    """Where an auto-reply ended: sent; suppressed by a rule; refused by the provider
    (``failed``: the limits' units are given back); or perhaps sent (``unknown``: the
    provider did not say, so the units stay taken)."""

    SENT = "sent"
    SUPPRESSED = "suppressed"
    FAILED = "failed"
    UNKNOWN = "unknown"


# A provider error code kept on the text is cut to this many characters.
CODE_LIMIT = 100


@dataclass(frozen=True)
class AutoReply:
    """What became of the auto-reply a text called for, as the store records it on the text.

    ``response_id`` is the provider's message id (``sent``), ``reason`` why it was not
    sent (``suppressed``), ``code`` the provider's error code (``failed``, ``unknown``).
    :attr:`recorded` is the one string kept on the text.
    """

    status: AutoReplyStatus
    response_id: str | None = None
    reason: Suppressed | None = None
    code: str | None = None

    @classmethod
    def sent(cls, response_id: str) -> AutoReply:
        """Sent: the provider's message id is ``response_id``."""
        return cls(AutoReplyStatus.SENT, response_id=response_id)

    @classmethod
    def suppressed(cls, reason: Suppressed) -> AutoReply:
        """Not sent, because of ``reason``."""
        return cls(AutoReplyStatus.SUPPRESSED, reason=reason)

    @classmethod
    def refused(cls, code: str, *, maybe_sent: bool) -> AutoReply:
        """The provider answered the error ``code`` (``maybe_sent``: without saying whether
        it sent the text)."""
        status = AutoReplyStatus.UNKNOWN if maybe_sent else AutoReplyStatus.FAILED
        return cls(status, code=code[:CODE_LIMIT])

    @property
    def recorded(self) -> str:
        """``sent``, ``suppressed:<reason>``, ``failed:<code>`` or ``unknown:<code>``."""
        detail = self.reason.value if self.reason else self.code
        return f"{self.status.value}:{detail}" if detail else self.status.value
