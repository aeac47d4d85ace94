"""What the sender reads and writes: slots, claims, outcomes, leases. Keys by organization.

The claim protocol (an "equivalent conditional scheme" to one transaction):

1. claim the recipient: ``pending -> sending`` if pending, with a token and a lease;
2. reserve a slot of the day's cap: ``ADD 1`` on the day counter if ``value < limit``
   (none left: the claim is released);
3. record the outcome (the recipient and its variant's counters in one transaction).

A crash after 1 leaves a claim that ends ``unknown`` when its lease expires
(never re-sent); a crash after 2 also leaks the slot (the day sends one fewer,
never one more).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from outreach.campaigns.domain import Campaign, CampaignStatus, RecipientStatus
from outreach.campaigns.repository import campaign_key, daily_counter_key, status_key, to_campaign
from outreach.data.binding import ensure_models_bound
from outreach.data.models import (
    CampaignModel,
    CampaignStatsModel,
    ContactModel,
    CounterModel,
    OptOutModel,
    PhoneHistoryModel,
    RecipientModel,
)
from outreach.data.pynamo import condition_failed, raw_map
from outreach.data.transactions import ConditionsFailed, Transaction

DAY_COUNTER_TTL = timedelta(days=3)


@dataclass(frozen=True)
class Candidate:
    """A recipient the sender may try: open (pending or claimed) in the status index."""

    org_id: str
    campaign_id: str
    contact_id: str
    phone: str
    variant: str
    status: RecipientStatus
    attempts: int
    lease_until: datetime | None
    retry_at: datetime | None


@dataclass(frozen=True)
class ContactFields:
    """What a message body can be rendered from."""

    values: dict[str, Any]
    timezone: str | None


class SendingRepository:
    """The sender's persistence."""

    def __init__(self) -> None:
        ensure_models_bound()

    # --- Reads -------------------------------------------------------------------------

    def campaign(self, org_id: str, campaign_id: str) -> Campaign | None:
        try:
            return to_campaign(CampaignModel.get(org_id, campaign_id, consistent_read=True))
        except DoesNotExist:
            return None

    def campaign_status(self, org_id: str, campaign_id: str) -> CampaignStatus | None:
        """The campaign's status, read consistently (right before a provider call)."""
        try:
            item = CampaignModel.get(
                org_id, campaign_id, consistent_read=True, attributes_to_get=["status"]
            )
        except DoesNotExist:
            return None
        return CampaignStatus(item.status)

    def open_recipients(
        self, org_id: str, campaign_id: str, *, limit: int | None = None
    ) -> Iterator[Candidate]:
        """Pending and claimed recipients, from the status index (eventually consistent)."""
        for item in RecipientModel.by_status.query(
            status_key(org_id, campaign_id, RecipientStatus.PENDING), limit=limit
        ):
            yield Candidate(
                org_id=item.org_id,
                campaign_id=item.campaign_id,
                contact_id=item.contact_id,
                phone=item.phone,
                variant=item.variant,
                status=RecipientStatus(item.status),
                attempts=int(item.attempts or 0),
                lease_until=item.lease_until,
                retry_at=item.retry_at,
            )

    def contacts(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, ContactFields]:
        keys = [(org_id, contact_id) for contact_id in dict.fromkeys(contact_ids)]
        found: dict[str, ContactFields] = {}
        for item in ContactModel.batch_get(keys):
            found[item.contact_id] = ContactFields(
                values={
                    "first_name": item.first_name,
                    "last_name": item.last_name,
                    "company": item.company,
                    "email": item.email,
                    "phone": item.phone,
                    "attributes": dict(raw_map(item.attributes)),
                },
                timezone=item.timezone,
            )
        return found

    def texted_before(self, org_id: str, phones: Iterable[str]) -> set[str]:
        """Numbers the organization has sent a message to before (no footer for them)."""
        keys = [(org_id, phone) for phone in dict.fromkeys(phones)]
        return {
            item.phone
            for item in PhoneHistoryModel.batch_get(keys)
            if item.first_sent_at is not None
        }

    def is_opted_out(self, org_id: str, phone: str) -> bool:
        try:
            OptOutModel.get(org_id, phone, consistent_read=True, attributes_to_get=["phone"])
        except DoesNotExist:
            return False
        return True

    def sends_on(self, org_id: str, campaign_id: str, day: str) -> int:
        try:
            return int(
                CounterModel.get(
                    daily_counter_key(org_id, campaign_id, day), consistent_read=True
                ).value
            )
        except DoesNotExist:
            return 0

    def open_count(self, org_id: str, campaign_id: str) -> int:
        """Recipients still pending or in flight, from the counters (consistent)."""
        return sum(
            int(item.pending or 0)
            for item in CampaignStatsModel.query(
                campaign_key(org_id, campaign_id), consistent_read=True
            )
        )

    # --- The day's cap ----------------------------------------------------------------------

    def reserve_slot(
        self, org_id: str, campaign_id: str, day: str, limit: int, now: datetime
    ) -> bool:
        """Take one of the day's ``limit`` slots; ``False`` when none is left."""
        key = daily_counter_key(org_id, campaign_id, day)
        try:
            CounterModel(key).update(
                actions=[
                    CounterModel.value.add(1),
                    CounterModel.expires_at.set(now + DAY_COUNTER_TTL),
                ],
                condition=CounterModel.value.does_not_exist() | (CounterModel.value < limit),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def release_slot(self, org_id: str, campaign_id: str, day: str) -> None:
        CounterModel(daily_counter_key(org_id, campaign_id, day)).update(
            actions=[CounterModel.value.add(-1)], condition=CounterModel.value > 0
        )

    # --- Claims and outcomes ---------------------------------------------------------------

    @staticmethod
    def _item(candidate: Candidate) -> RecipientModel:
        return RecipientModel(
            campaign_key(candidate.org_id, candidate.campaign_id), candidate.contact_id
        )

    def claim(self, candidate: Candidate, *, token: str, now: datetime, lease: timedelta) -> bool:
        """``pending -> sending`` if still pending (and not waiting for a retry)."""
        try:
            self._item(candidate).update(
                actions=[
                    RecipientModel.status.set(RecipientStatus.SENDING.value),
                    RecipientModel.claim_token.set(token),
                    RecipientModel.lease_until.set(now + lease),
                    RecipientModel.attempts.add(1),
                    RecipientModel.updated_at.set(now),
                ],
                condition=(RecipientModel.status == RecipientStatus.PENDING.value)
                & (RecipientModel.retry_at.does_not_exist() | (RecipientModel.retry_at <= now)),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def release(
        self, candidate: Candidate, *, token: str, now: datetime, retry_at: datetime | None
    ) -> bool:
        """Give a claim back (``sending -> pending``), e.g. after a transient error."""
        actions: list[Any] = [
            RecipientModel.status.set(RecipientStatus.PENDING.value),
            RecipientModel.claim_token.remove(),
            RecipientModel.lease_until.remove(),
            RecipientModel.updated_at.set(now),
        ]
        actions.append(
            RecipientModel.retry_at.set(retry_at) if retry_at else RecipientModel.retry_at.remove()
        )
        try:
            self._item(candidate).update(
                actions=actions, condition=RecipientModel.claim_token == token
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def record(
        self,
        candidate: Candidate,
        *,
        outcome: RecipientStatus,
        now: datetime,
        token: str | None,
        message_id: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Move an open recipient to its outcome and its variant's counters with it, atomically.

        With ``token`` the recipient must hold that claim; without, it must be
        pending (a skip) or its lease must have expired (``unknown``).
        """
        item = self._item(candidate)
        actions: list[Any] = [
            RecipientModel.status.set(outcome.value),
            RecipientModel.campaign_status.set(
                status_key(candidate.org_id, candidate.campaign_id, outcome)
            ),
            RecipientModel.updated_at.set(now),
            RecipientModel.claim_token.remove(),
            RecipientModel.lease_until.remove(),
            RecipientModel.retry_at.remove(),
        ]
        if message_id is not None:
            actions += [
                RecipientModel.provider_message_id.set(message_id),
                RecipientModel.sent_at.set(now),
            ]
        if error is not None:
            actions.append(RecipientModel.error.set(error[:500]))
        if token is not None:
            condition = RecipientModel.claim_token == token
        elif outcome is RecipientStatus.UNKNOWN:
            condition = (RecipientModel.status == RecipientStatus.SENDING.value) & (
                RecipientModel.lease_until < now
            )
        else:
            condition = RecipientModel.status == RecipientStatus.PENDING.value
        counters: list[Any] = [CampaignStatsModel.pending.add(-1)]
        counters.append(getattr(CampaignStatsModel, outcome.value).add(1))
        if outcome is RecipientStatus.SENT:
            counters.append(CampaignStatsModel.accepted.add(1))
        transaction = Transaction()
        transaction.update(item, actions=actions, condition=condition, label="recipient")
        transaction.update(
            CampaignStatsModel(
                campaign_key(candidate.org_id, candidate.campaign_id), candidate.variant
            ),
            actions=counters,
        )
        try:
            transaction.commit()
        except ConditionsFailed:
            return False
        return True

    def note_first_and_last_send(self, candidate: Candidate, *, now: datetime) -> None:
        """Remember what last texted the number (reply attribution) and that it was texted."""
        PhoneHistoryModel(candidate.org_id, candidate.phone).update(
            actions=[
                PhoneHistoryModel.first_sent_at.set(PhoneHistoryModel.first_sent_at | now),
                PhoneHistoryModel.last_campaign_id.set(candidate.campaign_id),
                PhoneHistoryModel.last_variant.set(candidate.variant),
                PhoneHistoryModel.last_contact_id.set(candidate.contact_id),
                PhoneHistoryModel.last_sent_at.set(now),
            ]
        )

    def complete(self, org_id: str, campaign_id: str, now: datetime) -> bool:
        """``active -> completed`` (leaves the dispatch index)."""
        try:
            CampaignModel(org_id, campaign_id).update(
                actions=[
                    CampaignModel.status.set(CampaignStatus.COMPLETED.value),
                    CampaignModel.org_status.set(f"{org_id}#{CampaignStatus.COMPLETED.value}"),
                    CampaignModel.dispatch_shard.remove(),
                    CampaignModel.completed_at.set(now),
                    CampaignModel.updated_at.set(now),
                ],
                condition=CampaignModel.status == CampaignStatus.ACTIVE.value,
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True


def ceil_div(numerator: int, denominator: int) -> int:
    return math.ceil(numerator / max(1, denominator))
