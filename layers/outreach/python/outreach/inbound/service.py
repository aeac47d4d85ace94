"""Texts and receipts coming back from the carrier: STOP, START, HELP (in English, Spanish
and French), replies, statuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from outreach.campaigns.statuses import RecipientStatus
from outreach.clock import Clock, SystemClock
from outreach.contacts.domain import OptOutSource
from outreach.contacts.ports import OptOutList
from outreach.contacts.repository import OptOutRepository
from outreach.conversations.messages import (
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    receipt_context,
)
from outreach.data.binding import ensure_models_bound
from outreach.data.counters import DynamoCounters
from outreach.data.keys import auto_reply_counter_key
from outreach.destinations import allowed_regions, not_textable_reason
from outreach.identity.domain import Organization
from outreach.identity.ports import OrganizationReader
from outreach.identity.repository import IdentityRepository
from outreach.ids import new_id
from outreach.inbound.domain import (
    AutoReply,
    AutoReplyStatus,
    DeliveryReceipt,
    InboundText,
    LastSend,
    Outcome,
    RecordedText,
    Suppressed,
)
from outreach.inbound.keywords import Classification, InboundKind, classify
from outreach.inbound.ports import InboundStore
from outreach.inbound.repository import InboundRepository
from outreach.observability import logger
from outreach.phones import InvalidPhoneNumber, to_e164
from outreach.replies import Language, help_text, opt_in_confirmation, opt_out_confirmation
from outreach.sms.providers import (
    OutboundMessage,
    SendError,
    SmsProvider,
    UnknownOutcomeError,
    get_sms_provider,
)
from outreach.spend import (
    HELP_ANSWER_INTERVAL,
    HOUR_COUNTER_TTL,
    BoundedCounters,
    OrganizationDay,
    auto_reply_hour,
)

# The CloudWatch metric (namespace POWERTOOLS_METRICS_NAMESPACE) counting auto-replies not
# sent, by ``reason`` (a Suppressed value); template.yaml's AutoRepliesSuppressedAlarm
# watches its total for the inbound function's ``service``.
AUTO_REPLIES_SUPPRESSED = "AutoRepliesSuppressed"


class InboundService:
    """Every rule of the sending rules' "Replies and keywords", "Keywords in other
    languages" and "Late carrier receipts".

    Each text is read once of each thing it needs: the organization owning the number
    it was sent to, the send that last texted the sender (where a reply or an opt-out
    counts), and the organization's settings (name, sender number, support line, its
    own HELP answers and confirmations, spend limits), which are passed down to the
    confirmation or answer rather than read again. An opt-in word also reads whether the
    number is on the opt-out list (:meth:`_opt_in_only_if_listed`).
    Confirmations and HELP answers go in the language the text was written in
    (:mod:`outreach.replies`: the organization's own text for it, else the default).

    Auto-replies are bounded (``sending-rules.md``, rule 9 and the last paragraph of
    "Keywords in other languages"; issue 14, point 2): see :meth:`_auto_reply`. The
    ``counters`` are the organization's auto-replies per hour and its texts per day
    (the daily one shared with the sender's campaign texts).
    """

    def __init__(
        self,
        *,
        store: InboundStore,
        opt_outs: OptOutList,
        organizations: OrganizationReader,
        provider: SmsProvider,
        counters: BoundedCounters,
        clock: Clock,
    ) -> None:
        self._store = store
        self._opt_outs = opt_outs
        self._organizations = organizations
        self._provider = provider
        self._counters = counters
        self._clock = clock

    def handle_text(self, text: InboundText) -> Outcome:
        """Classify, record once and act on one text (``sending-rules.md``, "Replies and
        keywords" and "Keywords in other languages").

        :attr:`Outcome.UNKNOWN_NUMBER` for a number that is not a phone number or a
        destination no organization owns (dropped); :attr:`Outcome.DUPLICATE` for a
        carrier message id already recorded (nothing happens twice). Otherwise
        opt-out, opt-in, help or reply; store errors propagate (the record is retried).
        An opt-in word (START, YES, SÍ, OUI, ...) from a number not on the opt-out list
        is a reply (issue 15, point 3): recorded with kind ``reply``, counted for the
        send that last texted the number, and not answered.
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
        classification = self._opt_in_only_if_listed(org_id, from_number, classify(text.body))
        message_id = new_id(now)
        last = self._store.last_send(org_id, from_number)
        if not self._store.record_inbound(
            RecordedText(
                org_id=org_id,
                message_id=message_id,
                carrier_id=text.message_id or message_id,
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
        # from this copy (its name, sender number and texts), never read again.
        organization = self._organizations.get_organization(org_id)
        outcome = self._act(
            organization, message_id, from_number, classification, last=last, now=now
        )
        logger.info(
            "inbound text",
            extra={
                "org_id": org_id,
                "outcome": outcome.value,
                "reason": classification.reason,
                "language": classification.language.value,
                "campaign_id": last.campaign_id if last else None,
            },
        )
        return outcome

    def _opt_in_only_if_listed(
        self, org_id: str, phone: str, classification: Classification
    ) -> Classification:
        """``classification``, except that an opt-in word from a number not on the
        organization's opt-out list is a reply (``sending-rules.md``, "Keywords in other
        languages"; issue 15, point 3: a bare "Yes" answers the campaign's question).

        Read before the text is recorded, so the recorded ``kind`` is what was done; a
        redelivered text is still a duplicate whatever the list says by then.
        """
        if classification.kind is not InboundKind.OPT_IN:
            return classification
        if self._opt_outs.get(org_id, phone) is not None:
            return classification
        return Classification(
            InboundKind.REPLY,
            f"{classification.reason}, from a number not opted out: reply",
            classification.language,
        )

    def _act(
        self,
        organization: Organization,
        message_id: str,
        phone: str,
        classification: Classification,
        *,
        last: LastSend | None,
        now: datetime,
    ) -> Outcome:
        org_id = organization.id
        kind, language = classification.kind, classification.language
        if kind is InboundKind.OPT_OUT:
            _, added = self._opt_outs.add(org_id, phone, OptOutSource.KEYWORD, now)
            if not added:
                # Carriers block repeated confirmations: nothing more is sent.
                return Outcome.ALREADY_OPTED_OUT
            self._confirm_opt_out(organization, message_id, phone, last, language, now=now)
            return Outcome.OPTED_OUT
        if kind is InboundKind.OPT_IN:
            # On the list when the text came (_opt_in_only_if_listed); a concurrent START
            # that took it off first has confirmed it.
            if self._opt_outs.remove(org_id, phone):
                self._answer(
                    organization,
                    message_id,
                    phone,
                    opt_in_confirmation(organization, language),
                    now=now,
                )
            return Outcome.OPTED_IN
        if kind is InboundKind.HELP:
            reply = self._answer(
                organization,
                message_id,
                phone,
                help_text(organization, language),
                now=now,
                help_answer=True,
            )
            if reply.status in (AutoReplyStatus.SENT, AutoReplyStatus.UNKNOWN):
                return Outcome.HELP_SENT
            return Outcome.HELP_NOT_ANSWERED
        if last:
            self._store.count_reply(org_id, last, now)
        return Outcome.REPLY

    def _confirm_opt_out(
        self,
        organization: Organization,
        message_id: str,
        phone: str,
        last: LastSend | None,
        language: Language,
        *,
        now: datetime,
    ) -> None:
        """Count a new opt-out against the campaign that last texted the number, and
        confirm it once (if the bounds allow), in ``language``."""
        if last:
            self._store.count_opt_out(organization.id, last)
        self._answer(
            organization,
            message_id,
            phone,
            opt_out_confirmation(organization, language),
            now=now,
        )

    def _answer(
        self,
        organization: Organization,
        message_id: str,
        phone: str,
        body: str,
        *,
        now: datetime,
        help_answer: bool = False,
    ) -> AutoReply:
        """Send a confirmation or HELP answer within the bounds, record on the text what
        became of it, and answer that; a suppressed one is also logged and counted in the
        ``AutoRepliesSuppressed`` metric. The opt-out or opt-in is already written."""
        reply = self._auto_reply(organization, phone, body, now=now, help_answer=help_answer)
        self._store.note_auto_reply(organization.id, phone, message_id, reply)
        if reply.reason is not None:
            logger.info(
                "auto-reply suppressed",
                extra={
                    "org_id": organization.id,
                    "message_id": message_id,
                    "reason": reply.reason.value,
                },
            )
            _count_suppressed(reply.reason)
        elif reply.status is not AutoReplyStatus.SENT:
            logger.warning(
                "auto-reply not sent",
                extra={"org_id": organization.id, "code": reply.code, "status": reply.status},
            )
        return reply

    def _auto_reply(
        self,
        organization: Organization,
        phone: str,
        body: str,
        *,
        now: datetime,
        help_answer: bool,
    ) -> AutoReply:
        """Send one auto-reply to ``phone`` if every bound allows it, in this order:

        1. the organization has a sender number, and may text ``phone``
           (:func:`outreach.destinations.not_textable_reason`: its allowed countries and
           a normal-cost line type), so no answer goes where it pays someone else;
        2. a HELP answer: ``phone`` had none in the last :data:`HELP_ANSWER_INTERVAL`
           (the store's conditional mark);
        3. one unit of the organization's ``auto_reply_hourly_limit`` for this clock hour;
        4. one unit of its ``daily_message_limit`` for today in its timezone (the counter
           the sender's campaign texts take from too).

        What a later step refuses, or the provider refuses, gives back what the earlier
        ones took; a provider that may have sent it (``UnknownOutcomeError``) keeps them.
        """
        org_id = organization.id
        if not organization.sender_number:
            return AutoReply.suppressed(Suppressed.NO_SENDER_NUMBER)
        allowed = allowed_regions(organization.allowed_countries, organization.sender_number)
        not_textable = not_textable_reason(phone, allowed)
        if not_textable is not None:
            return AutoReply.suppressed(Suppressed(not_textable.value))
        if help_answer and not self._store.take_help_answer(
            org_id, phone, now=now, interval=HELP_ANSWER_INTERVAL
        ):
            return AutoReply.suppressed(Suppressed.HELP_INTERVAL)
        give_back = self._reserve(organization, now)
        if isinstance(give_back, Suppressed):
            if help_answer:
                self._store.give_back_help_answer(org_id, phone, taken_at=now)
            return AutoReply.suppressed(give_back)
        sent_at = self._clock.now()
        message_id = new_id(sent_at)
        try:
            result = self._provider.send(
                OutboundMessage(
                    org_id=org_id,
                    from_number=organization.sender_number,
                    to_number=phone,
                    body=body,
                    # Carried back on delivery receipts: they find the message by it.
                    context=receipt_context(org_id, phone, message_id, MessageKind.AUTO_REPLY),
                ),
                sent_at=sent_at,
            )
        except UnknownOutcomeError as error:
            reply = AutoReply.refused(error.code, maybe_sent=True)
            self._store.record_auto_reply(
                auto_reply_message(
                    org_id, phone, message_id, body=body, reply=reply, sent_at=sent_at
                )
            )
            return reply
        except SendError as error:
            give_back()
            if help_answer:
                self._store.give_back_help_answer(org_id, phone, taken_at=now)
            return AutoReply.refused(error.code, maybe_sent=False)
        reply = AutoReply.sent(result.message_id)
        self._store.record_auto_reply(
            auto_reply_message(org_id, phone, message_id, body=body, reply=reply, sent_at=sent_at)
        )
        return reply

    def _reserve(
        self, organization: Organization, now: datetime
    ) -> Callable[[], None] | Suppressed:
        """One unit of the organization's auto-replies this hour, then of its texts today
        (:class:`~outreach.spend.OrganizationDay`, shared with the sender): how to give
        both back, or the limit that is reached (nothing then stays taken)."""
        hour = auto_reply_counter_key(organization.id, auto_reply_hour(now))
        if not self._counters.reserve(
            hour,
            limit=organization.auto_reply_hourly_limit,
            wanted=1,
            expires_at=now + HOUR_COUNTER_TTL,
        ):
            return Suppressed.HOURLY_LIMIT
        texts_today = OrganizationDay(self._counters, organization)
        day = texts_today.day_of(now)
        if not texts_today.reserve(day, wanted=1, now=now):
            self._counters.release(hour, 1)
            return Suppressed.DAILY_LIMIT

        def give_back() -> None:
            self._counters.release(hour, 1)
            texts_today.release(day, 1)

        return give_back

    def handle_receipt(self, receipt: DeliveryReceipt) -> Outcome:
        """Apply a carrier receipt (``sending-rules.md``, "Late carrier receipts").

        Idempotent: a duplicate counts once; an older status never overwrites a newer one
        (only a ``sent`` or ``unknown`` recipient moves, however late the receipt).
        :attr:`Outcome.UNKNOWN_MESSAGE` when the receipt's context and message id name no
        recipient of ours.
        """
        if not receipt.context.get("campaign_id"):
            return self._message_receipt(receipt)
        ref = self._store.send_for_receipt(receipt.message_id, receipt.context)
        if ref is None:
            return _unknown_message(receipt)
        if ref.status not in (RecipientStatus.SENT, RecipientStatus.UNKNOWN):
            return Outcome.RECEIPT_IGNORED
        applied = self._store.apply_receipt(
            ref, status=receipt.status, error=receipt.error_code, now=self._clock.now()
        )
        return Outcome.RECEIPT_APPLIED if applied else Outcome.RECEIPT_IGNORED

    def _message_receipt(self, receipt: DeliveryReceipt) -> Outcome:
        """A receipt for a text of no campaign (an auto-reply, a manual text): its message
        in the conversation moves, once, from ``sent`` or ``unknown``."""
        moved = self._store.apply_message_receipt(
            receipt.message_id,
            receipt.context,
            status=MessageStatus(receipt.status.value),
            error=receipt.error_code,
            now=self._clock.now(),
        )
        if moved is None:
            return _unknown_message(receipt)
        return Outcome.RECEIPT_APPLIED if moved else Outcome.RECEIPT_IGNORED


def _unknown_message(receipt: DeliveryReceipt) -> Outcome:
    """A receipt naming no message of ours: logged and dropped."""
    logger.warning(
        "receipt for an unknown message id dropped", extra={"message_id": receipt.message_id}
    )
    return Outcome.UNKNOWN_MESSAGE


def auto_reply_message(
    org_id: str, phone: str, message_id: str, *, body: str, reply: AutoReply, sent_at: datetime
) -> Message:
    """The outbound message an auto-reply the provider took (or may have) is."""
    return Message(
        org_id=org_id,
        phone=phone,
        id=message_id,
        direction=Direction.OUTBOUND,
        kind=MessageKind.AUTO_REPLY,
        body=body,
        status=MessageStatus.SENT
        if reply.status is AutoReplyStatus.SENT
        else MessageStatus.UNKNOWN,
        created_at=sent_at,
        updated_at=sent_at,
        provider_message_id=reply.response_id,
        error=reply.code,
    )


def build_inbound_service(clock: Clock) -> InboundService:
    """The service on DynamoDB and the configured provider, with ``clock`` (the local stack
    gives each organization its own). Binds the models to the configured tables first."""
    ensure_models_bound()
    return InboundService(
        store=InboundRepository(),
        opt_outs=OptOutRepository(),
        organizations=IdentityRepository(),
        provider=get_sms_provider(),
        counters=DynamoCounters(),
        clock=clock,
    )


@lru_cache(maxsize=1)
def get_inbound_service() -> InboundService:
    """The process-wide service on the real clock, built on first use."""
    return build_inbound_service(SystemClock())


def _count_suppressed(reason: Suppressed) -> None:
    """One ``AutoRepliesSuppressed`` data point, printed at once as CloudWatch EMF (the
    function's log becomes the metric) in two dimension sets: the function's ``service``
    alone, which the alarm watches, and ``service`` with the ``reason``, for the breakdown.

    A provider of its own (Powertools' ``single_metric`` takes one dimension set only),
    reading the namespace and service from the environment as ``observability.metrics``.
    """
    emf = AmazonCloudWatchEMFProvider()
    emf.add_metric(name=AUTO_REPLIES_SUPPRESSED, unit=MetricUnit.Count, value=1)
    service = {"service": emf.service} if emf.service else {}
    emf.add_dimensions(**service, reason=reason.value)
    emf.flush_metrics()
