"""Texts and receipts coming back from the carrier: STOP, START, HELP, replies, statuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from outreach.campaigns.domain import RecipientStatus
from outreach.clock import Clock, SystemClock
from outreach.contacts.domain import OptOutSource
from outreach.contacts.repository import OptOutRepository
from outreach.identity.repository import IdentityRepository
from outreach.ids import new_id
from outreach.inbound.keywords import InboundKind, classify
from outreach.inbound.repository import InboundRepository
from outreach.observability import logger
from outreach.phones import InvalidPhoneNumber, to_e164
from outreach.sms.providers import OutboundMessage, SendError, SmsProvider, get_sms_provider


@dataclass(frozen=True)
class InboundText:
    """A text a person sent to an organization's number."""

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


class InboundService:
    """Every rule of the sending rules' "Replies and keywords" and "Late carrier receipts"."""

    def __init__(
        self,
        *,
        repository: InboundRepository,
        opt_outs: OptOutRepository,
        organizations: IdentityRepository,
        provider: SmsProvider,
        clock: Clock,
    ) -> None:
        self._repo = repository
        self._opt_outs = opt_outs
        self._organizations = organizations
        self._provider = provider
        self._clock = clock

    def handle_text(self, text: InboundText) -> Outcome:
        now = self._clock.now()
        try:
            to_number, from_number = to_e164(text.to_number), to_e164(text.from_number)
        except InvalidPhoneNumber:
            logger.warning("inbound text with an unusable number dropped")
            return Outcome.UNKNOWN_NUMBER
        org_id = self._repo.organization_for(to_number)
        if org_id is None:
            logger.warning(
                "inbound text to a number no organization owns dropped", extra={"to": to_number}
            )
            return Outcome.UNKNOWN_NUMBER
        classification = classify(text.body)
        message_id = text.message_id or new_id(now)
        last = self._repo.last_send(org_id, from_number)
        if not self._repo.record_inbound(
            org_id=org_id,
            message_id=message_id,
            from_number=from_number,
            to_number=to_number,
            body=text.body,
            kind=classification.kind.value,
            last=last,
            received_at=now,
        ):
            return Outcome.DUPLICATE
        outcome = self._act(org_id, message_id, from_number, classification.kind, now)
        logger.info(
            "inbound text",
            extra={
                "org_id": org_id,
                "outcome": outcome.value,
                "reason": classification.reason,
                "campaign_id": last.campaign_id if last else None,
            },
        )
        return outcome

    def _act(
        self, org_id: str, message_id: str, phone: str, kind: InboundKind, now: datetime
    ) -> Outcome:
        last = self._repo.last_send(org_id, phone)
        organization = self._organizations.get_organization(org_id)
        if kind is InboundKind.OPT_OUT:
            _, added = self._opt_outs.add(org_id, phone, OptOutSource.KEYWORD, now)
            if not added:
                # Carriers block repeated confirmations: nothing more is sent.
                return Outcome.ALREADY_OPTED_OUT
            if last:
                self._repo.count_opt_out(org_id, last)
            self._answer(
                org_id,
                message_id,
                phone,
                f"{organization.name}: you are unsubscribed and will receive no more "
                "messages. Reply START to resubscribe.",
            )
            return Outcome.OPTED_OUT
        if kind is InboundKind.OPT_IN:
            if self._opt_outs.remove(org_id, phone):
                self._answer(
                    org_id,
                    message_id,
                    phone,
                    f"{organization.name}: you are resubscribed. Reply STOP to opt out.",
                )
            return Outcome.OPTED_IN
        if kind is InboundKind.HELP:
            self._answer(org_id, message_id, phone, organization.help_text)
            return Outcome.HELP_SENT
        if last:
            self._repo.count_reply(org_id, last, now)
        return Outcome.REPLY

    def _answer(self, org_id: str, message_id: str, phone: str, body: str) -> None:
        """Confirmations and HELP answers: sent through the provider, recorded, outside any cap."""
        organization = self._organizations.get_organization(org_id)
        if not organization.sender_number:
            return
        try:
            result = self._provider.send(
                OutboundMessage(
                    org_id=org_id,
                    from_number=organization.sender_number,
                    to_number=phone,
                    body=body,
                    context={"kind": "auto-reply"},
                ),
                sent_at=self._clock.now(),
            )
        except SendError as error:
            logger.warning("auto-reply not sent", extra={"org_id": org_id, "code": error.code})
            return
        self._repo.note_response(org_id, message_id, result.message_id)

    def handle_receipt(self, receipt: DeliveryReceipt) -> Outcome:
        """Idempotent: a duplicate counts once; an older status never overwrites a newer one."""
        ref = self._repo.send_for_receipt(receipt.message_id, receipt.context)
        if ref is None:
            logger.warning(
                "receipt for an unknown message id dropped",
                extra={"message_id": receipt.message_id},
            )
            return Outcome.UNKNOWN_MESSAGE
        if ref.status not in (RecipientStatus.SENT, RecipientStatus.UNKNOWN):
            return Outcome.RECEIPT_IGNORED
        applied = self._repo.apply_receipt(
            ref, status=receipt.status, error=receipt.error_code, now=self._clock.now()
        )
        return Outcome.RECEIPT_APPLIED if applied else Outcome.RECEIPT_IGNORED


def build_inbound_service(clock: Clock) -> InboundService:
    """The service on DynamoDB and the configured provider, with ``clock`` (the local stack
    gives each organization its own)."""
    return InboundService(
        repository=InboundRepository(),
        opt_outs=OptOutRepository(),
        organizations=IdentityRepository(),
        provider=get_sms_provider(),
        clock=clock,
    )


@lru_cache(maxsize=1)
def get_inbound_service() -> InboundService:
    """The process-wide service on the real clock, built on first use."""
    return build_inbound_service(SystemClock())
