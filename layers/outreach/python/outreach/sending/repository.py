"""What the sender and the dispatcher read and write: slots, claims, outcomes. Keys by org.

The claim protocol (an "equivalent conditional scheme" to one transaction):

1. reserve slots of the day's cap, a few at a time: ``ADD n`` on the day
   counter if ``value <= limit - n``; the slots a run does not use go back at
   its end (so no interleaving of workers takes more than ``limit``;
   :mod:`outreach.sending.daily_cap`);
2. claim the recipient: ``pending -> sending`` if pending, with a token and a lease;
3. record the outcome: one conditional write on the recipient, which also
   leaves the open index. The variant's counters follow from the table's
   stream (:mod:`outreach.stats`).

A crash after 2 leaves a claim that ends ``unknown`` once its lease has expired
(never re-sent); a crash also leaks the run's unused slots (the day sends a few
fewer, never one more).

The repositories bind no models themselves: their factories
(:class:`~outreach.sending.sender.SenderFactory`,
:func:`~outreach.sending.work_queue.get_dispatcher`) call ``ensure_models_bound()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DoesNotExist, UpdateError
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
from outreach.sending.domain import (
    Candidate,
    Claim,
    ContactFields,
    Outcome,
    PhoneHistory,
    RecipientState,
    Retry,
    Turn,
    WaitingReason,
    claim_instant,
)
from outreach.spend import DAY_COUNTER_TTL, FREQUENCY_WINDOW

# A turn's item outlives the numbers it may hand on as maybe sent (24 hours).
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
    """The history an item holds; ``None`` for a number the organization never texted. A
    number only manual texts went to has no campaign fields: it was texted (no footer),
    at ``first_sent_at``."""
    if item.first_sent_at is None:
        return None
    return PhoneHistory(
        first_sent_at=item.first_sent_at,
        last_campaign_id=item.last_campaign_id or "",
        last_variant=item.last_variant or "",
        last_contact_id=item.last_contact_id or "",
        last_sent_at=item.last_sent_at or item.first_sent_at,
        recent=tuple(item.recent or ()),
    )


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
        """The recipient's status, claim lease end and attempts, read consistently."""
        try:
            item = RecipientModel.get(
                campaign_key(candidate.org_id, candidate.campaign_id),
                candidate.contact_id,
                consistent_read=True,
                attributes_to_get=["status", "claim", "attempts"],
            )
        except DoesNotExist:
            return None
        lease = Claim.lease_end(item.claim) if item.claim else None
        return RecipientState(RecipientStatus(item.status), lease, int(item.attempts or 0))

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
        self, candidate: Candidate, *, token: str, now: datetime, lease: timedelta
    ) -> Claim | None:
        """``pending -> sending`` if still pending (and not waiting for a retry).

        One small write: the status, the claim and the attempt; ``updated_at``
        moves with the outcome.
        """
        claim = Claim.of(token, now + lease)
        try:
            update_quietly(
                self._item(candidate),
                actions=[
                    RecipientModel.status.set(RecipientStatus.SENDING.value),
                    RecipientModel.claim.set(claim.value),
                    RecipientModel.attempts.add(1),
                ],
                condition=_pending_and_due(now),
            )
        except UpdateError as error:
            if condition_failed(error):
                return None
            raise
        return claim

    def hold_back(
        self, candidate: Candidate, *, until: datetime, reason: WaitingReason, now: datetime
    ) -> bool:
        """A pending recipient waits until ``until`` for ``reason``, unclaimed."""
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

    def release(self, candidate: Candidate, claim: Claim, retry: Retry, *, now: datetime) -> bool:
        actions: list[Any] = [
            RecipientModel.status.set(RecipientStatus.PENDING.value),
            RecipientModel.claim.remove(),
            RecipientModel.updated_at.set(now),
        ]
        if retry.refund_attempt:
            actions.append(RecipientModel.attempts.add(-1))
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
                condition=RecipientModel.claim == claim.value,
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def record(
        self, candidate: Candidate, outcome: Outcome, *, claim: Claim | None, now: datetime
    ) -> bool:
        """One conditional write, which also takes the recipient out of the open index."""
        actions: list[Any] = [
            RecipientModel.status.set(outcome.status.value),
            RecipientModel.campaign_status.remove(),
            RecipientModel.updated_at.set(now),
            RecipientModel.claim.remove(),
        ]
        if claim is None or candidate.retry_at is not None:
            # Claimed with no retry pending (the index said so, and a claim is only
            # taken when no retry is due later): there is no retry_at to clear.
            actions += [RecipientModel.retry_at.remove(), RecipientModel.waiting_reason.remove()]
        if outcome.message_id is not None:
            actions += [
                RecipientModel.provider_message_id.set(outcome.message_id),
                RecipientModel.sent_at.set(now),
            ]
        if outcome.error is not None:
            actions.append(RecipientModel.error.set(outcome.error[:500]))
        if claim is not None:
            condition = RecipientModel.claim == claim.value
        elif outcome.status is RecipientStatus.UNKNOWN:
            condition = (RecipientModel.status == RecipientStatus.SENDING.value) & (
                RecipientModel.claim < claim_instant(now)
            )
        else:
            condition = RecipientModel.status == RecipientStatus.PENDING.value
        try:
            update_quietly(self._item(candidate), actions=actions, condition=condition)
        except UpdateError as failure:
            if condition_failed(failure):
                return False
            raise
        return True

    def note_texts(
        self,
        org_id: str,
        histories: Mapping[str, PhoneHistory],
        messages: Sequence[Message] = (),
    ) -> None:
        """Write the numbers' histories once a page's texts went (batched puts: only the
        organization's sending turn writes them), then the texts into their
        conversations (:func:`~outreach.conversations.recording.note_campaign_texts`)."""
        with PhoneHistoryModel.batch_write() as batch:
            for phone, history in histories.items():
                batch.save(
                    PhoneHistoryModel(
                        org_id, phone, **{**asdict(history), "recent": list(history.recent)}
                    )
                )
        note_campaign_texts(org_id, messages)

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
    organization, taken and given back by conditional writes."""

    def take(self, org_id: str, *, token: str, now: datetime, until: datetime) -> Turn | None:
        """Hold the turn until ``until`` if nobody holds it (or their turn ran out before
        ``now``); ``None`` when another run holds it. A turn that ran out while its run
        had a page in flight hands on the numbers of that page it may have texted."""
        item = SendingTurnModel(sending_turn_key(org_id))
        try:
            answer = item._get_connection().update_item(
                item.key,
                actions=[
                    SendingTurnModel.holder.set(token),
                    SendingTurnModel.until.set(until),
                    SendingTurnModel.in_flight.remove(),
                    SendingTurnModel.in_flight_campaign.remove(),
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
        maybe_sent = {
            phone: at
            for phone, at in _instants(previous.maybe_sent if previous else None).items()
            if at > now - FREQUENCY_WINDOW
        }
        if previous and previous.holder and previous.in_flight and previous.until:
            # The run before died holding the turn, its page's histories unwritten.
            maybe_sent.update(
                _maybe_texted(
                    org_id, previous.in_flight_campaign or "", previous.in_flight, previous.until
                )
            )
            update_quietly(
                SendingTurnModel(item.key),
                actions=[
                    SendingTurnModel.maybe_sent.set(
                        {phone: at.isoformat() for phone, at in maybe_sent.items()}
                    )
                ],
                condition=SendingTurnModel.holder == token,
            )
        return Turn(org_id, token, until, maybe_sent)

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
                ],
                condition=SendingTurnModel.holder == token,
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def give_back(self, org_id: str, *, token: str) -> None:
        """End our turn (nothing in flight any more); nothing if it is no longer ours."""
        try:
            update_quietly(
                SendingTurnModel(sending_turn_key(org_id)),
                actions=[
                    SendingTurnModel.holder.remove(),
                    SendingTurnModel.until.remove(),
                    SendingTurnModel.in_flight.remove(),
                    SendingTurnModel.in_flight_campaign.remove(),
                ],
                condition=SendingTurnModel.holder == token,
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise


def _maybe_texted(
    org_id: str, campaign_id: str, contact_ids: Iterable[str], turn_end: datetime
) -> dict[str, datetime]:
    """The numbers a dead run's page may have texted, and when at the latest: a recipient
    it claimed (``sending``) or ended ``unknown`` may have been texted up to the end of the
    run's turn; one recorded ``sent`` (or later) was texted at its ``sent_at``."""
    keys = [(campaign_key(org_id, campaign_id), contact_id) for contact_id in contact_ids]
    found: dict[str, datetime] = {}
    for item in RecipientModel.batch_get(
        keys, consistent_read=True, attributes_to_get=["phone", "status", "sent_at"]
    ):
        status = RecipientStatus(item.status)
        if status in (RecipientStatus.PENDING, RecipientStatus.SKIPPED):
            continue
        if status is RecipientStatus.FAILED and item.sent_at is None:
            continue  # refused by the provider: never sent
        found[item.phone] = item.sent_at or turn_end
    return found


def _instants(stored: Any) -> dict[str, datetime]:
    """The ``maybe_sent`` map as read (ISO instants by phone)."""
    return {phone: datetime.fromisoformat(at) for phone, at in raw_map(stored).items()}
