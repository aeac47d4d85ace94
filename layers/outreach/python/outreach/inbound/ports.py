"""What the inbound service needs, as Protocols (the seams of the domain).

:class:`~outreach.inbound.service.InboundService` takes:

- an :class:`InboundStore` (below): :class:`~outreach.inbound.repository.InboundRepository`
  on DynamoDB, ``InMemoryInboundStore`` in ``tests/support/fakes/inbound.py``, both held
  to the same behaviour by ``tests/integration/test_inbound_contract.py``;
- the opt-out list, :class:`~outreach.contacts.ports.OptOutList` (whose policy is
  :mod:`outreach.contacts.opt_outs`), also read before an opt-in word is recorded (it
  acts only for a number on the list: issue 15, point 3);
- the organization's settings (name, sender number, support line, its own HELP answers
  and confirmations by language: :mod:`outreach.replies`),
  :class:`~outreach.identity.ports.OrganizationReader`;
- an SMS provider for confirmations and HELP answers,
  :class:`~outreach.sms.providers.SmsProvider`;
- the organization's bounded counters (its auto-replies per hour, its texts per day),
  :class:`~outreach.spend.BoundedCounters`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from outreach.campaigns.statuses import RecipientStatus
from outreach.conversations.messages import Message, MessageStatus
from outreach.inbound.domain import AutoReply, LastSend, RecordedText, SendRef


class InboundStore(Protocol):
    """Routing by sender number, conversations (inbound texts and auto-replies are
    messages of the number's conversation, :mod:`outreach.conversations`), attribution
    to campaigns, and receipts.

    Counters (``opt_outs``, ``replies``, ``repliers``) are per campaign and variant, the
    campaign's statistics; receipts change a recipient's status, and the delivered and
    failed counters follow from that change (the recipients' stream, not this store).
    """

    def organization_for(self, sender_number: str) -> str | None:
        """The id of the organization whose sender number (E.164) this is, or ``None``
        (a number belongs to at most one organization)."""
        ...

    def last_send(self, org_id: str, phone: str) -> LastSend | None:
        """The campaign, variant and contact that last texted ``phone`` (E.164) for
        ``org_id``, or ``None`` if the organization never texted it from a campaign."""
        ...

    def record_inbound(self, text: RecordedText) -> bool:
        """Record the text once as an inbound message of the conversation with
        ``text.from_number``, attributed to ``text.last`` (the body cut to 2,000
        characters): one more unread text, its last message. ``False``, and nothing is
        counted again, if its ``carrier_id`` was recorded for that conversation before."""
        ...

    def note_auto_reply(self, org_id: str, phone: str, message_id: str, reply: AutoReply) -> None:
        """Remember on the recorded text ``message_id`` of ``phone``'s conversation what
        became of its auto-reply: ``reply.recorded`` (``sent``, ``suppressed:<reason>``, ...)."""
        ...

    def record_auto_reply(self, message: Message) -> None:
        """Record an auto-reply the provider took (or may have) as an outbound message of
        its conversation, which becomes its last message (its unread texts stay unread)."""
        ...

    def take_help_answer(
        self, org_id: str, phone: str, *, now: datetime, interval: timedelta
    ) -> bool:
        """Mark that ``org_id`` answers a HELP from ``phone`` (E.164) at ``now``, unless it
        took a mark less than ``interval`` before ``now``: then ``False``, and nothing changes.

        One conditional write on the time of the last mark, so exactly one of any number
        of concurrent callers wins (``sending-rules.md``, rule 9: one HELP answer per
        number per 24 hours). Not a counter left to expire: DynamoDB's TTL deletes late.
        """
        ...

    def give_back_help_answer(self, org_id: str, phone: str, *, taken_at: datetime) -> None:
        """Undo the mark :meth:`take_help_answer` took at ``taken_at`` (no answer was sent
        after all); a mark taken at any other time stays."""
        ...

    def count_opt_out(self, org_id: str, last: LastSend) -> None:
        """Add one opt-out to ``last``'s campaign and variant."""
        ...

    def count_reply(self, org_id: str, last: LastSend, now: datetime) -> None:
        """Add one reply to ``last``'s campaign and variant; the recipient's first reply
        (``replied_at`` set to ``now``) also adds one replier. A contact who is not a
        recipient of that campaign adds a reply and no replier."""
        ...

    def send_for_receipt(self, message_id: str, context: dict[str, str]) -> SendRef | None:
        """The recipient named by ``context`` (``org_id``, ``campaign_id``, ``contact_id``;
        ``message_id``, the conversation's message, when the sender gave one) if the
        provider's message id stored on it is ``message_id``; else ``None``."""
        ...

    def apply_receipt(
        self, ref: SendRef, *, status: RecipientStatus, error: str | None, now: datetime
    ) -> bool:
        """Move the recipient from ``ref.status`` to ``status`` (with ``error``, cut to 500
        characters, and ``updated_at`` = ``now``), and its message in the conversation
        (``ref.message_id``) from ``sent`` or ``unknown`` to the same; ``False``, and
        nothing changes, if the recipient's status is no longer ``ref.status``."""
        ...

    def apply_message_receipt(
        self,
        message_id: str,
        context: dict[str, str],
        *,
        status: MessageStatus,
        error: str | None,
        now: datetime,
    ) -> bool | None:
        """A receipt for a text of no campaign (an auto-reply, a manual text): move the
        message ``context`` names (``org_id``, ``phone``, ``message_id``) from ``sent`` or
        ``unknown`` to ``status`` if the provider's message id on it is ``message_id``.
        ``None`` when the context names no such message, ``False`` when it had moved."""
        ...
