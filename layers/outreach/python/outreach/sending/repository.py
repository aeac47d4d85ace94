"""What the sender and the dispatcher read and write: slots, claims, outcomes. Keys by org.

The claim protocol (an "equivalent conditional scheme" to one transaction;
``sending-rules.md``, "What is guaranteed"):

1. reserve slots of the day's cap, a few at a time: ``ADD n`` on the day
   counter if ``value <= limit - n``; the slots a run does not use go back at
   its end (so no interleaving of workers takes more than ``limit``;
   :mod:`outreach.sending.daily_cap`);
2. claim the recipient's number for its campaign, before the provider is called:
   one conditional write of the number's phone history that counts the text
   (first text, last campaign, the 24-hour window) and adds the campaign's claim,
   on condition that the campaign holds no claim on the number yet. A campaign has
   one recipient per number (a number belongs to one contact), so this is the
   recipient's claim; it is the history write the sender makes for every text
   anyway, so a claim costs no write of its own;
3. record the outcome: one conditional write on the recipient (``pending`` ->
   outcome), which also leaves the open index. The variant's counters follow from
   the table's stream (:mod:`outreach.stats`). A text that did not go gives its
   number's history back as it was (:meth:`SendingRepository.unclaim`).

The claim stays on the history after the text went (a day past its lease), so a
recipient the eventually consistent open index still shows as open is never
taken twice. A crash after 2 leaves a pending recipient whose number holds the
campaign's claim: once the lease has ended, the recipient ends ``unknown`` (never
re-sent); a crash also leaks the run's unused slots (the day sends a few fewer,
never one more).

The repositories bind no models themselves: their factories
(:class:`~outreach.sending.sender.SenderFactory`,
:func:`~outreach.sending.work_queue.get_dispatcher`) call ``ensure_models_bound()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition

from outreach.campaigns.domain import Campaign
from outreach.campaigns.repository import to_campaign
from outreach.campaigns.statuses import CampaignStatus, RecipientStatus
from outreach.contacts.domain import stored_attributes, template_values_from
from outreach.conversations.messages import Message
from outreach.conversations.recording import note_campaign_texts
from outreach.data.counters import DynamoCounters
from outreach.data.keys import campaign_key, daily_counter_key, open_key, sending_turn_key
from outreach.data.models import (
    CampaignModel,
    ContactModel,
    PhoneHistoryModel,
    RecipientModel,
    SendingTurnModel,
)
from outreach.data.pynamo import condition_failed, raw_map, update_quietly
from outreach.observability import logger
from outreach.sending.claims import claim_values, claims_on, stored_claims
from outreach.sending.domain import (
    CLAIM_EXPIRED,
    Candidate,
    Claim,
    ContactFields,
    Outcome,
    PhoneHistory,
    RecipientState,
    Retry,
    Turn,
    WaitingReason,
    history_with_text,
    history_without_text,
)
from outreach.spend import DAY_COUNTER_TTL

# A turn's item with no page in flight outlives its turn by this much (DynamoDB's TTL
# then removes it); one with a page in flight has no expiry until a turn reads it.
_TURN_KEPT = timedelta(days=2)

# The contact attributes a message body and the quiet hours are rendered from.
_RENDER_ATTRIBUTES = [
    "contact_id",
    "phone",
    "first_name",
    "last_name",
    "company",
    "email",
    "attributes",
    "timezone",
    "state",
]


def _history(item: PhoneHistoryModel) -> PhoneHistory | None:
    """The history an item holds; ``None`` for a number the organization never texted and
    no campaign holds a claim on. A number only manual texts went to has no campaign
    fields: it was texted (no footer), at ``first_sent_at``."""
    claims = stored_claims(item.claims)
    if item.first_sent_at is None and not claims:
        return None
    return PhoneHistory(
        first_sent_at=item.first_sent_at,
        last_campaign_id=item.last_campaign_id or "",
        last_variant=item.last_variant or "",
        last_contact_id=item.last_contact_id or "",
        last_sent_at=item.last_sent_at or item.first_sent_at,
        recent=tuple(item.recent or ()),
        claims=claims,
    )


def _history_attributes(history: PhoneHistory | None) -> dict[str, Any]:
    """The phone history item's campaign fields and claims as ``history`` has them, by
    attribute name (``None``: none of them; an empty one is left out of the item).
    ``first_sent_at`` is the caller's: a manual text may set it at any moment."""
    return {
        "last_campaign_id": history and history.last_campaign_id,
        "last_variant": history and history.last_variant,
        "last_contact_id": history and history.last_contact_id,
        "last_sent_at": history and history.last_sent_at,
        "recent": list(history.recent) if history else None,
        "claims": claim_values(history.claims) if history else None,
    }


def _pending_and_due(now: datetime) -> Condition:
    """A recipient nobody holds and no retry or hold waits on after ``now``: one a claim or
    a hold may take."""
    pending: Condition = (RecipientModel.status == RecipientStatus.PENDING.value) & (
        RecipientModel.retry_at.does_not_exist() | (RecipientModel.retry_at <= now)
    )
    return pending


class SendingRepository:
    """The sender's persistence (:class:`~outreach.sending.ports.SendingStore`)."""

    def __init__(self) -> None:
        self._counters = DynamoCounters()

    # --- Reads -------------------------------------------------------------------------

    def campaign(self, org_id: str, campaign_id: str) -> Campaign | None:
        """The campaign, read consistently through the campaigns' mapper; ``None`` if gone."""
        try:
            return to_campaign(CampaignModel.get(org_id, campaign_id, consistent_read=True))
        except DoesNotExist:
            return None

    def campaign_status(self, org_id: str, campaign_id: str) -> CampaignStatus | None:
        """The campaign's status, read consistently (right before provider calls)."""
        try:
            item = CampaignModel.get(
                org_id, campaign_id, consistent_read=True, attributes_to_get=["status"]
            )
        except DoesNotExist:
            return None
        return CampaignStatus(item.status)

    def open_recipients(self, org_id: str, campaign_id: str) -> Iterator[Candidate]:
        """Pending and claimed recipients, from the sparse open index (eventually consistent)."""
        for item in RecipientModel.by_status.query(open_key(org_id, campaign_id)):
            yield Candidate(
                org_id=org_id,
                campaign_id=campaign_id,
                contact_id=item.contact_id,
                phone=item.phone,
                variant=item.variant,
                retry_at=item.retry_at,
            )

    def has_open(self, org_id: str, campaign_id: str) -> bool:
        """Whether any recipient is still pending or claimed, read consistently.

        From the table, not the index: a recipient written moments ago (a start
        that just finished) may not be in the eventually consistent index yet.
        Read once, when a walk of the index found nothing left open.
        """
        return any(
            True
            for _ in RecipientModel.query(
                campaign_key(org_id, campaign_id),
                consistent_read=True,
                filter_condition=RecipientModel.status.is_in(
                    RecipientStatus.PENDING.value, RecipientStatus.SENDING.value
                ),
                attributes_to_get=["status"],
                limit=1,
                page_size=1000,  # read on past the closed ones a page at a time, not one by one
            )
        )

    def recipient_state(self, candidate: Candidate) -> RecipientState | None:
        """The recipient's status and attempts, read consistently."""
        try:
            item = RecipientModel.get(
                campaign_key(candidate.org_id, candidate.campaign_id),
                candidate.contact_id,
                consistent_read=True,
                attributes_to_get=["status", "attempts"],
            )
        except DoesNotExist:
            return None
        return RecipientState(RecipientStatus(item.status), int(item.attempts or 0))

    def contacts(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, ContactFields]:
        """The render fields of each contact that still exists (one batch read)."""
        keys = [(org_id, contact_id) for contact_id in dict.fromkeys(contact_ids)]
        found: dict[str, ContactFields] = {}
        for item in ContactModel.batch_get(keys, attributes_to_get=_RENDER_ATTRIBUTES):
            found[item.contact_id] = ContactFields(
                values=template_values_from(
                    phone=item.phone,
                    first_name=item.first_name,
                    last_name=item.last_name,
                    company=item.company,
                    email=item.email,
                    # Keyed as templates name them, also for contacts stored before
                    # keys were normalised (issue 17, point 4).
                    attributes=stored_attributes(raw_map(item.attributes))[0],
                ),
                timezone=item.timezone,
                state=item.state,
            )
        return found

    def phone_histories(self, org_id: str, phones: Iterable[str]) -> dict[str, PhoneHistory]:
        """What the organization's campaigns sent each of ``phones`` it has texted: one
        strongly consistent batch read, so the last turn's writes are seen."""
        keys = [(org_id, phone) for phone in dict.fromkeys(phones)]
        return {
            item.phone: history
            for item in PhoneHistoryModel.batch_get(keys, consistent_read=True)
            if (history := _history(item)) is not None
        }

    # --- The day's cap ----------------------------------------------------------------------

    def reserve_slots(
        self, org_id: str, campaign_id: str, day: str, *, limit: int, wanted: int, now: datetime
    ) -> int:
        """Take up to ``wanted`` of the day's ``limit`` slots; return how many (0: none left).

        The bounded counter's conditional ``ADD`` (:class:`~outreach.data.counters.DynamoCounters`).
        """
        return self._counters.reserve(
            daily_counter_key(org_id, campaign_id, day),
            limit=limit,
            wanted=wanted,
            expires_at=now + DAY_COUNTER_TTL,
        )

    def release_slots(self, org_id: str, campaign_id: str, day: str, count: int) -> None:
        """Give back ``count`` reserved slots nobody used."""
        self._counters.release(daily_counter_key(org_id, campaign_id, day), count)

    # --- Claims and outcomes ---------------------------------------------------------------

    @staticmethod
    def _item(candidate: Candidate) -> RecipientModel:
        return RecipientModel(
            campaign_key(candidate.org_id, candidate.campaign_id), candidate.contact_id
        )

    def claim(
        self, candidate: Candidate, earlier: PhoneHistory | None, claim: Claim, *, now: datetime
    ) -> PhoneHistory | None:
        """Claim ``candidate``'s number for its campaign with ``claim`` and count its text
        at ``now``: the number's history becomes
        :func:`~outreach.sending.domain.history_with_text` of ``earlier`` (as the page
        read it). One conditional put, on condition that the number's claims are still
        those read, so that none of this campaign's: ``None`` when they are not.

        A put, not an update: only the sending turn writes the campaign fields and the
        claims; a manual text sets ``first_sent_at`` at any moment, and one set since the
        read is overwritten by this text's instant (the number counts as texted either
        way).
        """
        if earlier is not None and earlier.claim_of(candidate.campaign_id) is not None:
            return None  # as read: the campaign holds a claim on the number already
        history = history_with_text(earlier, candidate, now, claim)
        read = claim_values(earlier.claims) if earlier else {}
        try:
            PhoneHistoryModel(
                candidate.org_id,
                candidate.phone,
                first_sent_at=history.first_sent_at,
                **_history_attributes(history),
            ).save(
                condition=PhoneHistoryModel.claims == read
                if read
                else PhoneHistoryModel.claims.does_not_exist()
            )
        except PutError as error:
            if condition_failed(error):
                return None
            raise
        return history

    def unclaim(
        self,
        candidate: Candidate,
        claim: Claim,
        earlier: PhoneHistory | None,
        *,
        closed_at: datetime | None,
    ) -> bool:
        """The text under ``claim`` did not go: the number's history is ``earlier`` again
        (:func:`~outreach.sending.domain.history_without_text`), with the claim closed at
        ``closed_at`` when the recipient was closed, or without it when it is pending
        again. ``False`` when the claim no longer holds."""
        history = history_without_text(earlier, candidate.campaign_id, closed_at=closed_at)
        first = history.first_sent_at if history else None
        try:
            update_quietly(
                PhoneHistoryModel(candidate.org_id, candidate.phone),
                actions=[
                    # A number first texted by this claim gets its footer on the next text.
                    getattr(PhoneHistoryModel, name).set(value)
                    if value
                    else getattr(PhoneHistoryModel, name).remove()
                    for name, value in {
                        "first_sent_at": first,
                        **_history_attributes(history),
                    }.items()
                ],
                condition=PhoneHistoryModel.claims[candidate.campaign_id] == claim.value,
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def hold_back(
        self, candidate: Candidate, *, until: datetime, reason: WaitingReason, now: datetime
    ) -> bool:
        """A pending recipient waits until ``until`` for ``reason``."""
        try:
            update_quietly(
                self._item(candidate),
                actions=[
                    RecipientModel.retry_at.set(until),
                    RecipientModel.waiting_reason.set(reason.value),
                    RecipientModel.updated_at.set(now),
                ],
                condition=_pending_and_due(now),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def release(
        self, candidate: Candidate, retry: Retry, *, attempted: bool, now: datetime
    ) -> bool:
        """A pending recipient whose text did not go waits for ``retry``; ``attempted``:
        the provider was called (an attempt counts)."""
        actions: list[Any] = [RecipientModel.updated_at.set(now)]
        if attempted:
            actions.append(RecipientModel.attempts.add(1))
        actions.append(
            RecipientModel.retry_at.set(retry.at) if retry.at else RecipientModel.retry_at.remove()
        )
        actions.append(
            RecipientModel.waiting_reason.set(retry.reason.value)
            if retry.at and retry.reason
            else RecipientModel.waiting_reason.remove()
        )
        try:
            update_quietly(
                self._item(candidate),
                actions=actions,
                condition=RecipientModel.status == RecipientStatus.PENDING.value,
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def record(
        self, candidate: Candidate, outcome: Outcome, *, attempted: bool, now: datetime
    ) -> bool:
        """``pending -> outcome`` in one conditional write, which also takes the recipient
        out of the open index; ``attempted``: the provider was called (an attempt
        counts). ``False`` when the recipient was not pending."""
        actions: list[Any] = [
            RecipientModel.status.set(outcome.status.value),
            RecipientModel.campaign_status.remove(),
            RecipientModel.updated_at.set(now),
        ]
        if candidate.retry_at is not None or not attempted:
            # A recipient tried with no retry pending (the index said so, and a claim is
            # only taken when no retry is due later) has none to clear.
            actions += [RecipientModel.retry_at.remove(), RecipientModel.waiting_reason.remove()]
        if attempted:
            actions.append(RecipientModel.attempts.add(1))
        if outcome.message_id is not None:
            actions += [
                RecipientModel.provider_message_id.set(outcome.message_id),
                RecipientModel.sent_at.set(now),
            ]
        if outcome.error is not None:
            actions.append(RecipientModel.error.set(outcome.error[:500]))
        try:
            update_quietly(
                self._item(candidate),
                actions=actions,
                condition=RecipientModel.status == RecipientStatus.PENDING.value,
            )
        except UpdateError as failure:
            if condition_failed(failure):
                return False
            raise
        return True

    def note_texts(self, messages: Sequence[Message]) -> None:
        """A page's campaign texts into their conversations, in batches
        (:func:`~outreach.conversations.recording.note_campaign_texts`)."""
        note_campaign_texts(messages)

    def pause_for_account(self, org_id: str, campaign_id: str, reason: str, now: datetime) -> bool:
        """``active -> paused`` by the engine, with ``reason`` (leaves the dispatch index).

        ``False`` when the campaign was no longer active (a user paused or ended it).
        """
        return self._leave_active(
            org_id,
            campaign_id,
            CampaignStatus.PAUSED,
            [CampaignModel.paused_reason.set(reason[:500])],
            now,
        )

    def complete(self, org_id: str, campaign_id: str, now: datetime) -> bool:
        """``active -> completed`` (leaves the dispatch index)."""
        return self._leave_active(
            org_id,
            campaign_id,
            CampaignStatus.COMPLETED,
            [CampaignModel.completed_at.set(now)],
            now,
        )

    @staticmethod
    def _leave_active(
        org_id: str, campaign_id: str, to: CampaignStatus, extra: list[Any], now: datetime
    ) -> bool:
        """``active -> to`` in one conditional update; ``False`` when it was not active."""
        try:
            CampaignModel(org_id, campaign_id).update(
                actions=[
                    CampaignModel.status.set(to.value),
                    CampaignModel.org_status.set(f"{org_id}#{to.value}"),
                    CampaignModel.dispatch_shard.remove(),
                    *extra,
                    CampaignModel.updated_at.set(now),
                ],
                condition=CampaignModel.status == CampaignStatus.ACTIVE.value,
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True


class SendingTurnRepository:
    """:class:`~outreach.sending.ports.SendingTurns` on the counters table: one item per
    organization, taken and given back by conditional writes. The page in flight is
    noted on it (``in_flight``), so that the next turn after a run that died closes
    the recipient that run had claimed and not recorded."""

    def take(self, org_id: str, *, token: str, now: datetime, until: datetime) -> Turn | None:
        """Hold the turn until ``until`` if nobody holds it (or their turn ran out before
        ``now``); ``None`` when another run holds it. When the run before died (its
        turn ran out with a page in flight), its page's claimed recipients end
        ``unknown`` first (:func:`_close_claims_of_dead_run`)."""
        item = SendingTurnModel(sending_turn_key(org_id))
        try:
            answer = item._get_connection().update_item(
                item.key,
                actions=[
                    SendingTurnModel.holder.set(token),
                    SendingTurnModel.until.set(until),
                    SendingTurnModel.expires_at.set(until + _TURN_KEPT),
                ],
                condition=SendingTurnModel.holder.does_not_exist() | (SendingTurnModel.until < now),
                return_values=ALL_OLD,
            )
        except UpdateError as error:
            if condition_failed(error):
                return None
            raise
        before = answer.get("Attributes")
        previous = SendingTurnModel.from_raw_data(before) if before else None
        if previous and previous.in_flight:
            # Left until our first page replaces it: if this raises, the next turn retries.
            _close_claims_of_dead_run(
                org_id, previous.in_flight_campaign or "", previous.in_flight, now
            )
        return Turn(org_id, token, until)

    def mark(
        self, org_id: str, *, token: str, campaign_id: str, contact_ids: Sequence[str]
    ) -> bool:
        """The recipients of the page about to be sent; ``False`` if the turn is not ours."""
        try:
            update_quietly(
                SendingTurnModel(sending_turn_key(org_id)),
                actions=[
                    SendingTurnModel.in_flight.set(list(contact_ids)),
                    SendingTurnModel.in_flight_campaign.set(campaign_id),
                    # A page in flight is kept until a turn reads it: a dead run's claims
                    # must be closed before any of them is a day old (history_with_text).
                    SendingTurnModel.expires_at.remove(),
                ],
                condition=SendingTurnModel.holder == token,
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def give_back(self, org_id: str, *, token: str, now: datetime, failed: bool = False) -> None:
        """End our turn at ``now``, with nothing in flight any more unless the run
        ``failed`` (its page is then kept, with no expiry, for the next turn); nothing if
        it is no longer ours."""
        actions: list[Any] = [SendingTurnModel.holder.remove(), SendingTurnModel.until.remove()]
        if not failed:
            actions += [
                SendingTurnModel.in_flight.remove(),
                SendingTurnModel.in_flight_campaign.remove(),
                SendingTurnModel.expires_at.set(now + _TURN_KEPT),
            ]
        try:
            update_quietly(
                SendingTurnModel(sending_turn_key(org_id)),
                actions=actions,
                condition=SendingTurnModel.holder == token,
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise


def _close_claims_of_dead_run(
    org_id: str, campaign_id: str, contact_ids: Iterable[str], now: datetime
) -> None:
    """A run died with a page in flight (its turn ran out, so it is over): the recipient of
    that page it claimed and did not record may have been texted, and ends ``unknown``
    now rather than whenever a walk of its campaign reaches it. That is a pending
    recipient whose number holds the campaign's claim, not a closed one; or one a run
    of the protocol before stop 31 left ``sending``."""
    key = campaign_key(org_id, campaign_id)
    recipients = list(
        RecipientModel.batch_get(
            [(key, contact_id) for contact_id in contact_ids],
            consistent_read=True,
            attributes_to_get=["contact_id", "phone", "status"],
        )
    )
    claims = claims_on(
        org_id,
        campaign_id,
        (r.phone for r in recipients if r.status == RecipientStatus.PENDING.value),
    )
    for recipient in recipients:
        if recipient.status == RecipientStatus.SENDING.value:
            was = RecipientStatus.SENDING
        elif recipient.status == RecipientStatus.PENDING.value:
            claim = claims.get(recipient.phone)
            if claim is None or claim.closed_by_outcome:
                continue
            was = RecipientStatus.PENDING
        else:
            continue
        actions: list[Any] = [
            RecipientModel.status.set(RecipientStatus.UNKNOWN.value),
            RecipientModel.campaign_status.remove(),
            RecipientModel.claim.remove(),
            RecipientModel.error.set(CLAIM_EXPIRED),
            RecipientModel.updated_at.set(now),
        ]
        if was is RecipientStatus.PENDING:  # a claim "sending" counted its attempt already
            actions.append(RecipientModel.attempts.add(1))
        try:
            update_quietly(
                RecipientModel(key, recipient.contact_id),
                actions=actions,
                condition=RecipientModel.status == was.value,
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise
            continue
        logger.warning(
            "a sender run died with a text in flight: its recipient ends unknown",
            extra={
                "org_id": org_id,
                "campaign_id": campaign_id,
                "contact_id": recipient.contact_id,
            },
        )
