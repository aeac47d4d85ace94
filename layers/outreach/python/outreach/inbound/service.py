"""Texts and receipts coming back from the carrier: STOP, START, HELP, replies, statuses."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from outreach.campaigns.domain import RecipientStatus
from outreach.clock import Clock, SystemClock
from outreach.contacts.domain import OptOutSource
from outreach.contacts.ports import OptOutList
from outreach.contacts.repository import OptOutRepository
from outreach.data.binding import ensure_models_bound
from outreach.identity.domain import Organization
from outreach.identity.ports import OrganizationReader
from outreach.identity.repository import IdentityRepository
from outreach.ids import new_id
from outreach.inbound.domain import DeliveryReceipt, InboundText, LastSend, Outcome, RecordedText
from outreach.inbound.keywords import InboundKind, classify
from outreach.inbound.ports import InboundStore
from outreach.inbound.repository import InboundRepository
from outreach.observability import logger
from outreach.phones import InvalidPhoneNumber, to_e164
from outreach.sms.providers import OutboundMessage, SendError, SmsProvider, get_sms_provider


class InboundService:
    """Every rule of the sending rules' "Replies and keywords" and "Late carrier receipts".

    Each text is read once of each thing it needs: the organization owning the number
    it was sent to, the send that last texted the sender (where a reply or an opt-out
    counts), and the organization's settings (name, sender number, help text), which
    are passed down to the confirmation or answer rather than read again.
    """

    def __init__(
        self,
        *,
        store: InboundStore,
        opt_outs: OptOutList,
        organizations: OrganizationReader,
        provider: SmsProvider,
        clock: Clock,
    ) -> None:
        self._store = store
        self._opt_outs = opt_outs
        self._organizations = organizations
        self._provider = provider
        self._clock = clock

    def handle_text(self, text: InboundText) -> Outcome:
        """Classify, record once and act on one text (``sending-rules.md``, "Replies and
        keywords").

        :attr:`Outcome.UNKNOWN_NUMBER` for a number that is not a phone number or a
        destination no organization owns (dropped); :attr:`Outcome.DUPLICATE` for a
        carrier message id already recorded (nothing happens twice). Otherwise
        opt-out, opt-in, help or reply; store errors propagate (the record is retried).
        """
        now = self._clock.now()
        try:
            to_number, from_number = to_e164(text.to_number), to_e164(text.from_number)
        except InvalidPhoneNumber:
            logger.warning("inbound text with an unusable number dropped")
            return Outcome.UNKNOWN_NUMBER
        org_id = self._store.organization_for(to_number)
        if org_id is None:
            logger.warning(
                "inbound text to a number no organization owns dropped", extra={"to": to_number}
            )
            return Outcome.UNKNOWN_NUMBER
        classification = classify(text.body)
        message_id = text.message_id or new_id(now)
        last = self._store.last_send(org_id, from_number)
        if not self._store.record_inbound(
            RecordedText(
                org_id=org_id,
                message_id=message_id,
                from_number=from_number,
                to_number=to_number,
                body=text.body,
                kind=classification.kind.value,
                last=last,
                received_at=now,
            )
        ):
            return Outcome.DUPLICATE
        # Read once for the text, like `last` above: the confirmation or answer is built
        # from this copy (its name, sender number and help text), never read again.
        organization = self._organizations.get_organization(org_id)
        outcome = self._act(
            organization, message_id, from_number, classification.kind, last=last, now=now
        )
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
        self,
        organization: Organization,
        message_id: str,
        phone: str,
        kind: InboundKind,
        *,
        last: LastSend | None,
        now: datetime,
    ) -> Outcome:
        org_id = organization.id
        if kind is InboundKind.OPT_OUT:
            _, added = self._opt_outs.add(org_id, phone, OptOutSource.KEYWORD, now)
            if not added:
                # Carriers block repeated confirmations: nothing more is sent.
                return Outcome.ALREADY_OPTED_OUT
            self._confirm_opt_out(organization, message_id, phone, last)
            return Outcome.OPTED_OUT
        if kind is InboundKind.OPT_IN:
            if self._opt_outs.remove(org_id, phone):
                self._answer(
                    organization,
                    message_id,
                    phone,
                    f"{organization.name}: you are resubscribed. Reply STOP to opt out.",
                )
            return Outcome.OPTED_IN
        if kind is InboundKind.HELP:
            self._answer(organization, message_id, phone, organization.help_text)
            return Outcome.HELP_SENT
        if last:
            self._store.count_reply(org_id, last, now)
        return Outcome.REPLY

    def _confirm_opt_out(
        self, organization: Organization, message_id: str, phone: str, last: LastSend | None
    ) -> None:
        """Count a new opt-out against the campaign that last texted the number, and
        confirm it once."""
        if last:
            self._store.count_opt_out(organization.id, last)
        self._answer(
            organization,
            message_id,
            phone,
            f"{organization.name}: you are unsubscribed and will receive no more "
            "messages. Reply START to resubscribe.",
        )

    def _answer(self, organization: Organization, message_id: str, phone: str, body: str) -> None:
        """Confirmations and HELP answers: sent through the provider, recorded, outside any cap.

        Not sent when the organization has no sender number; a provider refusal is logged
        and the text stays handled (the opt-out or opt-in itself is already written).
        """
        if not organization.sender_number:
            return
        try:
            result = self._provider.send(
                OutboundMessage(
                    org_id=organization.id,
                    from_number=organization.sender_number,
                    to_number=phone,
                    body=body,
                    context={"kind": "auto-reply"},
                ),
                sent_at=self._clock.now(),
            )
        except SendError as error:
            logger.warning(
                "auto-reply not sent", extra={"org_id": organization.id, "code": error.code}
            )
            return
        self._store.note_response(organization.id, message_id, result.message_id)

    def handle_receipt(self, receipt: DeliveryReceipt) -> Outcome:
        """Apply a carrier receipt (``sending-rules.md``, "Late carrier receipts").

        Idempotent: a duplicate counts once; an older status never overwrites a newer one
        (only a ``sent`` or ``unknown`` recipient moves, however late the receipt).
        :attr:`Outcome.UNKNOWN_MESSAGE` when the receipt's context and message id name no
        recipient of ours.
        """
        ref = self._store.send_for_receipt(receipt.message_id, receipt.context)
        if ref is None:
            logger.warning(
                "receipt for an unknown message id dropped",
                extra={"message_id": receipt.message_id},
            )
            return Outcome.UNKNOWN_MESSAGE
        if ref.status not in (RecipientStatus.SENT, RecipientStatus.UNKNOWN):
            return Outcome.RECEIPT_IGNORED
        applied = self._store.apply_receipt(
            ref, status=receipt.status, error=receipt.error_code, now=self._clock.now()
        )
        return Outcome.RECEIPT_APPLIED if applied else Outcome.RECEIPT_IGNORED


def build_inbound_service(clock: Clock) -> InboundService:
    """The service on DynamoDB and the configured provider, with ``clock`` (the local stack
    gives each organization its own). Binds the models to the configured tables first."""
    ensure_models_bound()
    return InboundService(
        store=InboundRepository(),
        opt_outs=OptOutRepository(),
        organizations=IdentityRepository(),
        provider=get_sms_provider(),
        clock=clock,
    )


@lru_cache(maxsize=1)
def get_inbound_service() -> InboundService:
    """The process-wide service on the real clock, built on first use."""
    return build_inbound_service(SystemClock())
