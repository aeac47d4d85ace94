"""In-memory fakes of the sending ports (:mod:`outreach.sending.ports`) and of an SMS provider.

:class:`InMemorySendingStore` keeps what the sender's rules depend on: the claim
protocol's conditional moves (``pending -> sending`` only when pending and no
retry is due later, outcomes and releases only under the claim held, an
expired claim to ``unknown`` only once its lease string sorts before now),
attempts counted by claims and refunded on request, the day's cap counter that
never passes its limit, the open recipients (pending or claimed) in contact-id
order, the campaign's status moves out of ``active`` only, the numbers'
histories (first text, last campaign, the rolling window of campaign texts), and
every recipient write as a stream record (so that the unit tests check the stats
projection agrees with the recipients, as on DynamoDB).
``tests/integration/test_sending_contract.py`` runs the same calls on it and on
the DynamoDB repository. The opt-out list is contacts' (its fake is
``InMemoryOptOutList`` in ``tests/support/fakes/contacts.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from outreach.campaigns.domain import Campaign
from outreach.campaigns.statuses import CampaignStatus, RecipientStatus
from outreach.conversations.messages import Message
from outreach.data.keys import campaign_key
from outreach.sending.dispatch import CampaignWork
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
from outreach.sms.providers import OutboundMessage, SendResult, UnknownOutcomeError
from outreach.stats.projection import PROJECTED_COUNTERS, deltas, split_stats_key
from tests.support.fakes.conditional import update_if

OPEN = frozenset({RecipientStatus.PENDING, RecipientStatus.SENDING})


@dataclass
class StoredRecipient:
    """A recipient item: what the recipients table holds of one send."""

    org_id: str
    campaign_id: str
    contact_id: str
    phone: str
    variant: str
    status: RecipientStatus = RecipientStatus.PENDING
    attempts: int = 0
    claim: str | None = None
    retry_at: datetime | None = None
    waiting_reason: WaitingReason | None = None
    provider_message_id: str | None = None
    sent_at: datetime | None = None
    error: str | None = None
    updated_at: datetime | None = None

    def image(self) -> dict[str, Any]:
        """The item as the table's stream shows it (what the stats projection reads)."""
        image = {
            "campaign_key": {"S": campaign_key(self.org_id, self.campaign_id)},
            "contact_id": {"S": self.contact_id},
            "variant": {"S": self.variant},
            "status": {"S": self.status.value},
        }
        if self.provider_message_id is not None:
            image["provider_message_id"] = {"S": self.provider_message_id}
        return image

    def candidate(self) -> Candidate:
        """The recipient as the open index shows it."""
        return Candidate(
            self.org_id, self.campaign_id, self.contact_id, self.phone, self.variant, self.retry_at
        )


class InMemorySendingStore:
    """The sender's persistence (:class:`~outreach.sending.ports.SendingStore`) in dicts."""

    def __init__(self) -> None:
        self.campaigns: dict[tuple[str, str], Campaign] = {}
        self.recipients: dict[tuple[str, str, str], StoredRecipient] = {}
        self.contact_fields: dict[tuple[str, str], ContactFields] = {}
        self.day_counters: dict[tuple[str, str, str], int] = {}
        self.history: dict[tuple[str, str], PhoneHistory] = {}
        # The campaign texts written into conversations, in the order they were noted.
        self.messages: list[Message] = []
        # Every recipient write as a stream record (NEW_AND_OLD_IMAGES), as DynamoDB keeps it.
        self.stream: list[dict[str, Any]] = []

    # --- Setting up (what the campaign and contact services write) ---------------------------

    def add_campaign(self, campaign: Campaign) -> None:
        self.campaigns[(campaign.org_id, campaign.id)] = campaign

    def set_status(self, org_id: str, campaign_id: str, status: CampaignStatus) -> None:
        """A user's pause, resume or cancel as the campaign service writes it."""
        key = (org_id, campaign_id)
        self.campaigns[key] = replace(self.campaigns[key], status=status)

    def add_contact(self, org_id: str, contact_id: str, fields: ContactFields) -> None:
        self.contact_fields[(org_id, contact_id)] = fields

    def delete_contact(self, org_id: str, contact_id: str) -> None:
        del self.contact_fields[(org_id, contact_id)]

    def add_recipient(self, recipient: StoredRecipient) -> None:
        key = (recipient.org_id, recipient.campaign_id, recipient.contact_id)
        old = self.recipients.get(key)
        self.recipients[key] = recipient
        self._streamed(old.image() if old else None, recipient)

    # --- Looking (for the tests' assertions) -------------------------------------------------

    def of_campaign(self, org_id: str, campaign_id: str) -> list[StoredRecipient]:
        return [
            r for (o, c, _), r in sorted(self.recipients.items()) if (o, c) == (org_id, campaign_id)
        ]

    def statuses(self, org_id: str, campaign_id: str) -> Counter[str]:
        return Counter(r.status.value for r in self.of_campaign(org_id, campaign_id))

    def counters(self, org_id: str, campaign_id: str) -> dict[str, int]:
        """The campaign's counters as the stats function projects them from the stream."""
        totals: Counter[str] = Counter()
        for key, counts in deltas(self.stream).items():
            if split_stats_key(key)[0] == campaign_key(org_id, campaign_id):
                totals.update(counts)
        return {name: totals[name] for name in PROJECTED_COUNTERS}

    def _streamed(self, old: dict[str, Any] | None, recipient: StoredRecipient) -> None:
        images = {"NewImage": recipient.image()} | ({"OldImage": old} if old else {})
        self.stream.append({"eventName": "MODIFY" if old else "INSERT", "dynamodb": images})

    # --- SendingStore: reads ------------------------------------------------------------------

    def campaign(self, org_id: str, campaign_id: str) -> Campaign | None:
        return self.campaigns.get((org_id, campaign_id))

    def campaign_status(self, org_id: str, campaign_id: str) -> CampaignStatus | None:
        found = self.campaigns.get((org_id, campaign_id))
        return found.status if found else None

    def open_recipients(self, org_id: str, campaign_id: str) -> Iterator[Candidate]:
        for recipient in self.of_campaign(org_id, campaign_id):
            if recipient.status in OPEN:
                yield recipient.candidate()

    def has_open(self, org_id: str, campaign_id: str) -> bool:
        return any(r.status in OPEN for r in self.of_campaign(org_id, campaign_id))

    def recipient_state(self, candidate: Candidate) -> RecipientState | None:
        found = self.recipients.get(_key(candidate))
        return None if found is None else RecipientState(found.status, found.attempts)

    def contacts(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, ContactFields]:
        return {
            contact_id: self.contact_fields[(org_id, contact_id)]
            for contact_id in dict.fromkeys(contact_ids)
            if (org_id, contact_id) in self.contact_fields
        }

    def phone_histories(self, org_id: str, phones: Iterable[str]) -> dict[str, PhoneHistory]:
        return {
            phone: self.history[(org_id, phone)]
            for phone in dict.fromkeys(phones)
            if (org_id, phone) in self.history
        }

    # --- The day's cap ------------------------------------------------------------------------

    def reserve_slots(
        self, org_id: str, campaign_id: str, day: str, *, limit: int, wanted: int, now: datetime
    ) -> int:
        key = (org_id, campaign_id, day)
        taken = self.day_counters.get(key)
        asked = min(wanted, limit)
        while asked > 0:
            if taken is None or taken <= limit - asked:
                self.day_counters[key] = (taken or 0) + asked
                return asked
            asked = min(asked - 1, limit - taken)
        return 0

    def release_slots(self, org_id: str, campaign_id: str, day: str, count: int) -> None:
        if count <= 0:
            return
        key = (org_id, campaign_id, day)
        if self.day_counters.get(key, 0) < count:
            raise AssertionError(f"releasing {count} slots of {key}, more than were taken")
        self.day_counters[key] -= count

    def sends_on(self, org_id: str, campaign_id: str, day: str) -> int:
        """The day's counter, as :func:`outreach.sending.daily_cap.sends_on` reads it."""
        return self.day_counters.get((org_id, campaign_id, day), 0)

    # --- Claims and outcomes ------------------------------------------------------------------

    def claim(
        self, candidate: Candidate, earlier: PhoneHistory | None, claim: Claim, *, now: datetime
    ) -> PhoneHistory | None:
        key = (candidate.org_id, candidate.phone)
        stored = self.history.get(key)
        read = earlier.claims if earlier else {}
        if candidate.campaign_id in read or (stored.claims if stored else {}) != read:
            return None
        history = history_with_text(earlier, candidate, now, claim)
        self.history[key] = history
        return history

    def unclaim(
        self,
        candidate: Candidate,
        claim: Claim,
        earlier: PhoneHistory | None,
        *,
        closed_at: datetime | None,
    ) -> bool:
        key = (candidate.org_id, candidate.phone)
        stored = self.history.get(key)
        if stored is None or stored.claims.get(candidate.campaign_id) != claim:
            return False
        restored = history_without_text(earlier, candidate.campaign_id, closed_at=closed_at)
        if restored is None:
            del self.history[key]
        else:
            self.history[key] = restored
        return True

    def release(
        self, candidate: Candidate, retry: Retry, *, attempted: bool, now: datetime
    ) -> bool:
        found = self.recipients.get(_key(candidate))
        if found is None or found.status is not RecipientStatus.PENDING:
            return False
        old = found.image()
        found.updated_at = now
        found.attempts += int(attempted)
        found.retry_at = retry.at
        found.waiting_reason = retry.reason if retry.at else None
        self._streamed(old, found)
        return True

    def record(
        self, candidate: Candidate, outcome: Outcome, *, attempted: bool, now: datetime
    ) -> bool:
        found = self.recipients.get(_key(candidate))
        if found is None or found.status is not RecipientStatus.PENDING:
            return False
        old = found.image()
        found.status = outcome.status
        found.updated_at = now
        found.attempts += int(attempted)
        found.retry_at = None
        found.waiting_reason = None
        if outcome.message_id is not None:
            found.provider_message_id = outcome.message_id
            found.sent_at = now
        if outcome.error is not None:
            found.error = outcome.error[:500]
        self._streamed(old, found)
        return True

    def note_texts(self, messages: Sequence[Message]) -> None:
        self.messages.extend(messages)

    def hold_back(
        self, candidate: Candidate, *, until: datetime, reason: WaitingReason, now: datetime
    ) -> bool:
        found = self.recipients.get(_key(candidate))
        if found is None or not _pending_and_due(found, now):
            return False
        old = found.image()
        found.retry_at = until
        found.waiting_reason = reason
        found.updated_at = now
        self._streamed(old, found)
        return True

    def pause_for_account(self, org_id: str, campaign_id: str, reason: str, now: datetime) -> bool:
        return self._leave_active(
            org_id, campaign_id, CampaignStatus.PAUSED, now, paused_reason=reason[:500]
        )

    def complete(self, org_id: str, campaign_id: str, now: datetime) -> bool:
        return self._leave_active(
            org_id, campaign_id, CampaignStatus.COMPLETED, now, completed_at=now
        )

    def _leave_active(
        self, org_id: str, campaign_id: str, to: CampaignStatus, now: datetime, **changes: Any
    ) -> bool:
        key = (org_id, campaign_id)
        return update_if(self.campaigns, key, _active, status=to, updated_at=now, **changes)


def _active(campaign: Campaign) -> bool:
    return campaign.status is CampaignStatus.ACTIVE


def _pending_and_due(found: StoredRecipient, now: datetime) -> bool:
    """Nobody holds it and no retry or hold waits on it after ``now`` (the repository's
    claim and hold condition)."""
    return found.status is RecipientStatus.PENDING and (
        found.retry_at is None or found.retry_at <= now
    )


def _key(candidate: Candidate) -> tuple[str, str, str]:
    return (candidate.org_id, candidate.campaign_id, candidate.contact_id)


@dataclass
class InMemoryActiveCampaigns:
    """The dispatch index (:class:`~outreach.sending.ports.ActiveCampaigns`): shard -> campaigns."""

    shards: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def in_shard(self, shard: int) -> Iterator[tuple[str, str]]:
        yield from self.shards.get(shard, [])


@dataclass
class InMemoryWorkQueue:
    """A work queue (:class:`~outreach.sending.ports.WorkQueue`) that keeps what is published."""

    works: list[CampaignWork] = field(default_factory=list)

    def publish(self, works: Sequence[CampaignWork]) -> None:
        self.works.extend(works)


@dataclass
class ScriptedProvider:
    """An SMS provider (:class:`~outreach.sms.providers.SmsProvider`) in memory.

    Answers each call from a script of outcomes (``None``: send), then sends; an
    ``UnknownOutcomeError`` in the script is raised after the message went out,
    as a provider that timed out after accepting it would.
    """

    outcomes: list[Exception | None] = field(default_factory=list)
    sent: list[tuple[OutboundMessage, datetime]] = field(default_factory=list)
    calls: int = 0

    def send(self, message: OutboundMessage, *, sent_at: datetime) -> SendResult:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is None or isinstance(outcome, UnknownOutcomeError):
            self.sent.append((message, sent_at))
        if outcome is not None:
            raise outcome
        return SendResult(message_id=f"fake-{self.calls}")

    @property
    def bodies(self) -> list[str]:
        return [message.body for message, _ in self.sent]

    @property
    def numbers(self) -> list[str]:
        return [message.to_number for message, _ in self.sent]


@dataclass
class StoredTurn:
    """An organization's turn item: its holder until when, and the page in flight."""

    holder: str | None = None
    until: datetime | None = None
    campaign_id: str = ""
    in_flight: tuple[str, ...] = ()


@dataclass
class InMemorySendingTurns:
    """:class:`~outreach.sending.ports.SendingTurns` in a dictionary: taken only when free
    or run out; a dead run's page in flight is looked up in ``store``, and its recipient
    claimed (its number holds the campaign's claim, not a closed one) and still pending
    ends ``unknown``."""

    store: InMemorySendingStore
    turns: dict[str, StoredTurn] = field(default_factory=dict)

    def take(self, org_id: str, *, token: str, now: datetime, until: datetime) -> Turn | None:
        stored = self.turns.setdefault(org_id, StoredTurn())
        if stored.holder is not None and stored.until is not None and stored.until >= now:
            return None
        stored.holder, stored.until = token, until
        for contact_id in stored.in_flight:
            found = self.store.recipients.get((org_id, stored.campaign_id, contact_id))
            if found is None or found.status is not RecipientStatus.PENDING:
                continue
            history = self.store.history.get((org_id, found.phone))
            claim = history.claim_of(stored.campaign_id) if history else None
            if claim is None or claim.closed_by_outcome:
                continue
            expired = Outcome(RecipientStatus.UNKNOWN, error=CLAIM_EXPIRED)
            self.store.record(found.candidate(), expired, attempted=True, now=now)
        return Turn(org_id, token, until)

    def mark(
        self, org_id: str, *, token: str, campaign_id: str, contact_ids: Sequence[str]
    ) -> bool:
        stored = self.turns.get(org_id)
        if stored is None or stored.holder != token:
            return False
        stored.campaign_id, stored.in_flight = campaign_id, tuple(contact_ids)
        return True

    def give_back(self, org_id: str, *, token: str, now: datetime, failed: bool = False) -> None:
        stored = self.turns.get(org_id)
        if stored is not None and stored.holder == token:
            stored.holder, stored.until = None, None
            if not failed:
                stored.in_flight = ()
