"""Conversations: the inbox, a conversation's messages, read marks, and manual texts
(issue 19)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from outreach.clock import Clock, SystemClock, to_iso
from outreach.contacts.opt_outs import with_footer
from outreach.contacts.ports import ContactStore, OptOutList
from outreach.contacts.repository import ContactRepository, OptOutRepository
from outreach.conversations.domain import (
    ContactName,
    ConversationSummary,
    SendKey,
    TextingState,
)
from outreach.conversations.messages import (
    REPLY_WINDOW_HOURS,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    receipt_context,
)
from outreach.conversations.ports import ConversationStore
from outreach.conversations.repository import ConversationRepository
from outreach.data.binding import ensure_models_bound
from outreach.data.counters import DynamoCounters
from outreach.data.pages import Page
from outreach.destinations import allowed_regions, not_textable_reason
from outreach.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from outreach.identity.domain import Organization
from outreach.identity.ports import OrganizationReader
from outreach.identity.repository import IdentityRepository
from outreach.ids import new_id
from outreach.phones import InvalidPhoneNumber, to_e164
from outreach.sending.rules import QuietHours, RecipientPlace, recipient_hold
from outreach.sending.waiting import next_allowed_minute, next_day_start
from outreach.sms.providers import (
    OutboundMessage,
    PermanentSendError,
    SendError,
    SmsProvider,
    UnknownOutcomeError,
    get_sms_provider,
)
from outreach.spend import BoundedCounters, OrganizationDay

# A refused manual text may be asked again this many seconds later (the provider's
# throttling and transient errors pass within seconds).
PROVIDER_RETRY_AFTER = 30

_NOT_FOUND = "Conversation not found."


class ConversationService:
    """The inbox and each conversation, scoped to the caller's organization.

    A conversation is the organization's with one number (E.164), whoever the number
    belongs to: its contact now (``contact``, or ``null`` for a number no contact has,
    a deleted contact's included) and whether it is on the opt-out list are read when
    the inbox is, so both are current.
    """

    def __init__(
        self,
        *,
        conversations: ConversationStore,
        contacts: ContactStore,
        opt_outs: OptOutList,
        organizations: OrganizationReader,
        counters: BoundedCounters,
        provider: SmsProvider,
        clock: Clock,
    ) -> None:
        self._conversations = conversations
        self._contacts = contacts
        self._opt_outs = opt_outs
        self._organizations = organizations
        self._counters = counters
        self._provider = provider
        self._clock = clock

    def inbox(
        self,
        org_id: str,
        *,
        unread_only: bool,
        campaign_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[ConversationSummary]:
        """A page of conversations, newest activity first, with their contacts and
        opt-outs: one Query of each inbox partition and four batch reads (the numbers'
        last campaigns, contact ids by number, the contacts, the opt-outs), whatever the
        page's size (more with ``campaign_id``, which reads on past other campaigns'
        conversations)."""
        page = self._conversations.inbox(
            org_id,
            unread_only=unread_only,
            campaign_id=campaign_id,
            limit=limit,
            cursor=cursor,
        )
        phones = [summary.phone for summary in page.items]
        if not phones:
            return page
        ids = self._contacts.ids_for_phones(org_id, phones)
        contacts = self._contacts.get_many(org_id, ids.values())
        opted_out = self._opt_outs.opted_out_among(org_id, phones)
        items = []
        for summary in page.items:
            contact = contacts.get(ids.get(summary.phone, ""))
            name = (
                ContactName(contact.id, contact.first_name, contact.last_name)
                if contact is not None and contact.phone == summary.phone
                else None
            )
            items.append(replace(summary, contact=name, opted_out=summary.phone in opted_out))
        return Page(items, page.next_cursor)

    def messages(
        self, org_id: str, raw_phone: str, *, limit: int, cursor: str | None
    ) -> Page[Message]:
        """The number's messages (any common format), newest first, a campaign's texts
        included; 404 when the organization never texted it nor was texted by it (a
        number that cannot be read has none)."""
        phone = self._phone(raw_phone)
        page = self._conversations.messages(org_id, phone, limit=limit, cursor=cursor)
        if cursor is None and not page.items:
            raise NotFound(_NOT_FOUND)
        return page

    def mark_read(self, org_id: str, raw_phone: str) -> None:
        """The conversation's texts are read (its unread count is 0); 404 when the number
        has no conversation in the inbox."""
        if not self._conversations.mark_read(org_id, self._phone(raw_phone)):
            raise NotFound(_NOT_FOUND)

    def send(self, org_id: str, raw_phone: str, request: ManualText) -> Message:
        """Text ``request.body`` to the number (any common format) from the organization's
        sender number, as ``request.user_id``, and record it in the conversation (which
        is then read): the message, ``sent`` (or ``failed``/``unknown`` as the provider
        answered). Every rule a campaign text meets holds (``sending-rules.md``):

        1. the organization has a sender number and may text the number (its allowed
           countries, a normal-cost line): else 409 ``not_textable``;
        2. the number is not on the opt-out list: else 409 ``opted_out``;
        3. the organization's quiet hours and the states' rules where the number is
           (its contact's zone and state, else its area code's), unless the person
           texted the organization within the last :data:`REPLY_WINDOW_HOURS` hours
           (an answer is not a solicitation): else 409 ``quiet_hours`` or ``state_rule``
           with ``next_allowed_at``;
        4. one unit of the organization's ``daily_message_limit`` for today: else 409
           ``daily_limit`` with ``next_allowed_at``;
        5. the opt-out footer on the first text the organization ever sends the number.

        ``request.idempotency_key``: a request repeated with it (the same number and
        body) answers the message the first one made, and texts nothing more; with
        another number or body it is a 422; while the first is unfinished, a 409. A
        provider that cannot take the text now (throttling, an outage, the account) is
        a 503 with ``Retry-After``: nothing was sent or counted, and the key is free.
        """
        phone = self._phone_to_text(raw_phone)
        now = self._clock.now()
        message_id = new_id(now)
        key = request.idempotency_key
        if key is not None:
            digest = hashlib.sha256(f"{phone}\n{request.body}".encode()).hexdigest()
            tied = self._conversations.claim_send_key(org_id, key, SendKey(message_id, digest, now))
            if tied.message_id != message_id:
                return self._replay(org_id, phone, tied, digest)
        try:
            message = self._send(org_id, phone, request, message_id=message_id, now=now)
        except (Conflict, ServiceUnavailable):
            if key is not None:
                self._conversations.release_send_key(org_id, key, message_id)
            raise
        if key is not None:
            self._conversations.finish_send_key(org_id, key)
        return message

    def _replay(self, org_id: str, phone: str, tied: SendKey, digest: str) -> Message:
        if tied.request_digest != digest:
            raise ValidationFailed(
                "This Idempotency-Key was used with another request.",
                [{"loc": ["header", "idempotency-key"], "msg": "used with another request"}],
            )
        found = self._conversations.message(org_id, phone, tied.message_id)
        if found is not None:
            return found
        raise Conflict(
            "A request with this Idempotency-Key is being handled, or stopped before it "
            "finished (its text may have gone): the conversation shows the message once "
            "it is recorded.",
            extra={"reason": "in_progress"},
        )

    def _send(
        self, org_id: str, phone: str, request: ManualText, *, message_id: str, now: datetime
    ) -> Message:
        organization = self._organizations.get_organization(org_id)
        sender, state = self._check_may_text(organization, phone, now)
        give_back = self._take_daily_unit(organization, now)
        body = with_footer(
            request.body, organization.opt_out_footer, first_text=state.first_sent_at is None
        )
        base = Message(
            org_id=org_id,
            phone=phone,
            id=message_id,
            direction=Direction.OUTBOUND,
            kind=MessageKind.MANUAL,
            body=body,
            status=MessageStatus.SENT,
            created_at=now,
            updated_at=now,
            user_id=request.user_id,
        )
        try:
            result = self._provider.send(
                OutboundMessage(
                    org_id=org_id,
                    from_number=sender,
                    to_number=phone,
                    body=body,
                    context=receipt_context(org_id, phone, message_id, MessageKind.MANUAL),
                ),
                sent_at=now,
            )
        except UnknownOutcomeError as error:
            message = replace(base, status=MessageStatus.UNKNOWN, error=error.code)
        except PermanentSendError as error:
            give_back()
            message = replace(base, status=MessageStatus.FAILED, error=error.code)
        except SendError as error:
            give_back()
            raise ServiceUnavailable(
                f"The SMS provider did not take the text ({error.code}); nothing was sent.",
                PROVIDER_RETRY_AFTER,
            ) from error
        else:
            message = replace(base, provider_message_id=result.message_id)
        self._conversations.record_outbound(
            message, mark_read=True, first_text=state.first_sent_at is None
        )
        return message

    def _check_may_text(
        self, organization: Organization, phone: str, now: datetime
    ) -> tuple[str, TextingState]:
        """Rules 1 to 3 of :meth:`send`; the sender number, and what the number's history
        says."""
        if not organization.sender_number:
            raise _refused("not_textable", "The organization has no sender number.")
        allowed = allowed_regions(organization.allowed_countries, organization.sender_number)
        reason = not_textable_reason(phone, allowed)
        if reason is not None:
            raise _refused(
                "not_textable", f"The organization may not text this number ({reason.value})."
            )
        if self._opt_outs.get(organization.id, phone) is not None:
            raise _refused("opted_out", "This number is on the opt-out list.")
        state = self._conversations.texting_state(organization.id, phone)
        answering = state.last_inbound_at is not None and now - state.last_inbound_at < (
            timedelta(hours=REPLY_WINDOW_HOURS)
        )
        if not answering:
            self._check_hours(organization, phone, now)
        return organization.sender_number, state

    def _check_hours(self, organization: Organization, phone: str, now: datetime) -> None:
        contact_id = self._contacts.ids_for_phones(organization.id, [phone]).get(phone)
        place_of = self._contacts.places(organization.id, [contact_id]) if contact_id else {}
        known = place_of.get(contact_id or "")
        place = RecipientPlace.of(
            phone,
            timezone=known.timezone if known else None,
            state=known.state if known else None,
            fallback_zones=organization.fallback_time_zones,
        )
        quiet = QuietHours.of(organization)
        hold = recipient_hold(now, quiet, place)
        if hold is not None:
            raise _refused(
                hold.value,
                "Outside the hours this number may be texted where it is (the quiet "
                "hours, or its state's rules), and it has not texted you in the last "
                f"{REPLY_WINDOW_HOURS} hours.",
                next_allowed_at=next_allowed_minute(now, quiet, place),
            )

    def _take_daily_unit(self, organization: Organization, now: datetime) -> Callable[[], None]:
        today = OrganizationDay(self._counters, organization)
        day = today.day_of(now)
        if not today.reserve(day, wanted=1, now=now):
            raise _refused(
                "daily_limit",
                "The organization sent its daily_message_limit of texts today.",
                next_allowed_at=next_day_start(now, organization.timezone),
            )
        return lambda: today.release(day, 1)

    @staticmethod
    def _phone_to_text(raw_phone: str) -> str:
        try:
            return to_e164(raw_phone)
        except InvalidPhoneNumber as error:
            raise ValidationFailed(
                "This is not a phone number.",
                [{"loc": ["path", "phone"], "msg": "not a valid phone number"}],
            ) from error

    @staticmethod
    def _phone(raw_phone: str) -> str:
        try:
            return to_e164(raw_phone)
        except InvalidPhoneNumber as error:
            raise NotFound(_NOT_FOUND) from error


@dataclass(frozen=True)
class ManualText:
    """A user's text in a conversation: its body (as written: the footer is added where
    due), its author, and the request's ``Idempotency-Key`` (``None``: none given)."""

    body: str
    user_id: str
    idempotency_key: str | None = None


def _refused(reason: str, detail: str, *, next_allowed_at: datetime | None = None) -> Conflict:
    """A 409 saying why a manual text may not go, and when it may (``null``: not known)."""
    extra: dict[str, Any] = {
        "reason": reason,
        "next_allowed_at": to_iso(next_allowed_at) if next_allowed_at else None,
    }
    return Conflict(detail, extra=extra)


def build_conversation_service(clock: Clock) -> ConversationService:
    """The service on DynamoDB and the configured provider, with ``clock`` (the local stack
    gives each organization its own). Binds the models to the configured tables first."""
    ensure_models_bound()
    return ConversationService(
        conversations=ConversationRepository(),
        contacts=ContactRepository(),
        opt_outs=OptOutRepository(),
        organizations=IdentityRepository(),
        counters=DynamoCounters(),
        provider=get_sms_provider(),
        clock=clock,
    )


@lru_cache(maxsize=1)
def get_conversation_service() -> ConversationService:
    """The process-wide service on the real clock, built on first use."""
    return build_conversation_service(SystemClock())
