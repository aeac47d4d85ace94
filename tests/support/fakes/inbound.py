"""An in-memory :class:`~outreach.inbound.ports.InboundStore`, held to
:class:`~outreach.inbound.repository.InboundRepository` by
``tests/integration/test_inbound_contract.py``.

It keeps what the inbound rules depend on: a sender number routes to one
organization; a text is recorded once per (organization, number, carrier message id),
its body cut to 2,000 characters; the last send per (organization, phone); a reply
counts a replier only on the recipient's first reply, and only for a recipient of
that campaign; a receipt finds its recipient only by the context's ids *and* the
same provider message id, and moves it only from the status it was read with (and
its conversation message from ``sent`` or ``unknown``); a
HELP answer's mark is taken only when absent or at least the interval old, and given
back only by the time it was taken at.

Besides the Protocol's methods it has the arranging calls the sender and identity
would make on DynamoDB (:meth:`own_number`, :meth:`remember_send`, :meth:`add_sent`,
:meth:`add_message`) and the reads a test asserts on (:meth:`text`, :meth:`recipient`,
:meth:`counters`, :meth:`statuses`, :meth:`message`); ``reads`` counts the Protocol's
read calls by name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from outreach.campaigns.statuses import RecipientStatus
from outreach.conversations.messages import RECEIPT_STATUSES, Message, MessageStatus
from outreach.inbound.domain import AutoReply, LastSend, RecordedText, SendRef
from tests.support.fakes.conditional import update_if

BODY_LIMIT = 2000
ERROR_LIMIT = 500


@dataclass(frozen=True)
class StoredText:
    """A recorded inbound text (its ``messages`` item's fields)."""

    from_number: str
    body: str
    kind: str
    campaign_id: str | None
    variant: str | None
    received_at: datetime
    carrier_id: str
    auto_reply: str | None = None  # AutoReply.recorded


@dataclass(frozen=True)
class StoredSend:
    """The part of a campaign recipient that receipts and replies touch."""

    variant: str
    status: RecipientStatus
    provider_message_id: str | None
    error: str | None = None
    replied_at: datetime | None = None
    updated_at: datetime | None = None
    phone: str = ""


class InMemoryInboundStore:
    """An :class:`~outreach.inbound.ports.InboundStore` in dictionaries."""

    def __init__(self) -> None:
        self._senders: dict[str, str] = {}  # sender number -> org id
        self._history: dict[tuple[str, str], LastSend] = {}  # (org, phone)
        self._texts: dict[tuple[str, str], StoredText] = {}  # (org, message id)
        self._carrier_ids: set[tuple[str, str, str]] = set()  # (org, phone, carrier id)
        # Outbound messages of conversations: (org, phone, message id).
        self._messages: dict[tuple[str, str, str], Message] = {}
        self._sends: dict[tuple[str, str, str], StoredSend] = {}  # (org, campaign, contact)
        self._counters: dict[tuple[str, str, str], Counter[str]] = {}  # (org, campaign, variant)
        self._help_answers: dict[tuple[str, str], datetime] = {}  # (org, phone) -> last mark
        self.reads: Counter[str] = Counter()

    # --- Arranging: what identity and the sender write -----------------------------------

    def own_number(self, org_id: str, sender_number: str) -> None:
        """``org_id`` claims ``sender_number`` (identity's sender-number guard)."""
        self._senders[sender_number] = org_id

    def remember_send(self, org_id: str, phone: str, last: LastSend) -> None:
        """The sender texted ``phone`` for ``last``'s campaign (its phone history)."""
        self._history[org_id, phone] = last

    def add_sent(self, ref: SendRef, provider_message_id: str | None) -> None:
        """A recipient of the campaign, as the sender left it."""
        self._sends[ref.org_id, ref.campaign_id, ref.contact_id] = StoredSend(
            variant=ref.variant,
            status=ref.status,
            provider_message_id=provider_message_id,
            phone=ref.phone,
        )

    def add_message(self, message: Message) -> None:
        """An outbound message of a conversation, as the sender or the API wrote it."""
        self._messages[message.org_id, message.phone, message.id] = message

    # --- Reading back what the service did -----------------------------------------------

    def carrier_text(self, org_id: str, carrier_id: str) -> StoredText | None:
        """The recorded text the carrier sent with message id ``carrier_id``, or ``None``."""
        found = [
            text
            for (org, _), text in self._texts.items()
            if org == org_id and text.carrier_id == carrier_id
        ]
        return found[0] if found else None

    def auto_replies(self, org_id: str) -> list[Message]:
        """The auto-replies recorded as messages of ``org_id``'s conversations, in order."""
        return [m for (org, _, _), m in self._messages.items() if org == org_id]

    def message(self, org_id: str, phone: str, message_id: str) -> Message | None:
        """An outbound message of ``phone``'s conversation, or ``None``."""
        return self._messages.get((org_id, phone, message_id))

    def text(self, org_id: str, message_id: str) -> StoredText | None:
        """The recorded text, or ``None``."""
        return self._texts.get((org_id, message_id))

    def texts(self, org_id: str) -> list[StoredText]:
        """Every text recorded for ``org_id``, in the order they came."""
        return [text for (org, _), text in self._texts.items() if org == org_id]

    def recipient(self, org_id: str, campaign_id: str, contact_id: str) -> StoredSend | None:
        """The recipient's current state, or ``None``."""
        return self._sends.get((org_id, campaign_id, contact_id))

    def counters(self, org_id: str, campaign_id: str) -> Counter[str]:
        """``opt_outs``, ``replies``, ``repliers`` summed over the campaign's variants."""
        total: Counter[str] = Counter()
        for (org, campaign, _), counts in self._counters.items():
            if (org, campaign) == (org_id, campaign_id):
                total.update(counts)
        return total

    def variant_counters(self, org_id: str, campaign_id: str, variant: str) -> Counter[str]:
        """The counters of one variant."""
        return Counter(self._counters.get((org_id, campaign_id, variant), Counter()))

    def statuses(self, org_id: str, campaign_id: str) -> Counter[str]:
        """Recipients by status (what the stats stream projects onto the counters)."""
        return Counter(
            send.status.value
            for (org, campaign, _), send in self._sends.items()
            if (org, campaign) == (org_id, campaign_id)
        )

    # --- The InboundStore Protocol -------------------------------------------------------

    def organization_for(self, sender_number: str) -> str | None:
        self.reads["organization_for"] += 1
        return self._senders.get(sender_number)

    def last_send(self, org_id: str, phone: str) -> LastSend | None:
        self.reads["last_send"] += 1
        return self._history.get((org_id, phone))

    def record_inbound(self, text: RecordedText) -> bool:
        key, last = (text.org_id, text.message_id), text.last
        carrier = (text.org_id, text.from_number, text.carrier_id)
        if carrier in self._carrier_ids:
            return False
        self._carrier_ids.add(carrier)
        self._texts[key] = StoredText(
            from_number=text.from_number,
            body=text.body[:BODY_LIMIT],
            kind=text.kind,
            campaign_id=last.campaign_id if last else None,
            variant=last.variant if last else None,
            received_at=text.received_at,
            carrier_id=text.carrier_id,
        )
        return True

    def note_auto_reply(self, org_id: str, phone: str, message_id: str, reply: AutoReply) -> None:
        text = self._texts.get((org_id, message_id))
        if text is None or text.from_number != phone:
            # DynamoDB's update creates a bare item; the service only notes recorded texts.
            raise AssertionError(f"no recorded text {message_id} to note a response on")
        self._texts[org_id, message_id] = replace(text, auto_reply=reply.recorded)

    def record_auto_reply(self, message: Message) -> None:
        self.add_message(message)

    def take_help_answer(
        self, org_id: str, phone: str, *, now: datetime, interval: timedelta
    ) -> bool:
        last = self._help_answers.get((org_id, phone))
        if last is not None and last > now - interval:
            return False
        self._help_answers[org_id, phone] = now
        return True

    def give_back_help_answer(self, org_id: str, phone: str, *, taken_at: datetime) -> None:
        if self._help_answers.get((org_id, phone)) == taken_at:
            del self._help_answers[org_id, phone]

    def count_opt_out(self, org_id: str, last: LastSend) -> None:
        self._count(org_id, last)["opt_outs"] += 1

    def count_reply(self, org_id: str, last: LastSend, now: datetime) -> None:
        counts = self._count(org_id, last)
        counts["replies"] += 1
        key = (org_id, last.campaign_id, last.contact_id)
        send = self._sends.get(key)
        if send is not None and send.replied_at is None:
            self._sends[key] = replace(send, replied_at=now)
            counts["repliers"] += 1

    def send_for_receipt(self, message_id: str, context: dict[str, str]) -> SendRef | None:
        self.reads["send_for_receipt"] += 1
        org_id, campaign_id = context.get("org_id"), context.get("campaign_id")
        contact_id = context.get("contact_id")
        if not (org_id and campaign_id and contact_id):
            return None
        send = self._sends.get((org_id, campaign_id, contact_id))
        if send is None or send.provider_message_id != message_id:
            return None
        return SendRef(
            org_id=org_id,
            campaign_id=campaign_id,
            contact_id=contact_id,
            variant=send.variant,
            status=send.status,
            phone=send.phone,
            message_id=context.get("message_id") or None,
        )

    def apply_receipt(
        self, ref: SendRef, *, status: RecipientStatus, error: str | None, now: datetime
    ) -> bool:
        key = (ref.org_id, ref.campaign_id, ref.contact_id)
        changes: dict[str, Any] = {"status": status, "updated_at": now}
        if error:  # without one, the stored error stays
            changes["error"] = error[:ERROR_LIMIT]
        if not update_if(self._sends, key, lambda send: send.status is ref.status, **changes):
            return False
        if ref.message_id:
            self._move_message(
                (ref.org_id, ref.phone, ref.message_id), MessageStatus(status.value), error, now
            )
        return True

    def apply_message_receipt(
        self,
        message_id: str,
        context: dict[str, str],
        *,
        status: MessageStatus,
        error: str | None,
        now: datetime,
    ) -> bool | None:
        org_id, phone = context.get("org_id"), context.get("phone")
        conversation_message = context.get("message_id")
        if not (org_id and phone and conversation_message):
            return None
        key = (org_id, phone, conversation_message)
        found = self._messages.get(key)
        if found is None or found.provider_message_id != message_id:
            return None
        return self._move_message(key, status, error, now)

    def _move_message(
        self,
        key: tuple[str, str, str],
        status: MessageStatus,
        error: str | None,
        now: datetime,
    ) -> bool:
        changes: dict[str, Any] = {"status": status, "updated_at": now}
        if error:
            changes["error"] = error[:ERROR_LIMIT]
        return update_if(
            self._messages, key, lambda message: message.status in RECEIPT_STATUSES, **changes
        )

    def _count(self, org_id: str, last: LastSend) -> Counter[str]:
        return self._counters.setdefault((org_id, last.campaign_id, last.variant), Counter())
