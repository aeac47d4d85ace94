"""What the sender and the dispatcher need from storage and the queue, as small Protocols.

The DynamoDB implementations are :class:`~outreach.sending.repository.SendingRepository`
and :class:`~outreach.sending.work_queue.ActiveCampaignRepository`, the SQS one is
:class:`~outreach.sending.work_queue.SqsWorkQueue`; the in-memory ones the unit
tests use are in ``tests/support/fakes/sending.py``, and
``tests/integration/test_sending_contract.py`` holds both to the same behaviour.
Two reads belong to other packages and come through their ports: the
organization (identity's :class:`~outreach.identity.ports.OrganizationReader`)
and the opt-out list (contacts' :class:`~outreach.contacts.ports.OptOutList`).

Every read the sending rules depend on at the moment of sending (the campaign's
status, the opt-outs, a recipient's state, the day's counter) is strongly
consistent; the open index alone is eventually consistent, and the sender never
relies on it for a promise (a claim is a conditional write, kept on the number).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from outreach.campaigns.domain import Campaign
from outreach.campaigns.statuses import CampaignStatus
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
)

if TYPE_CHECKING:
    from outreach.conversations.messages import Message
    from outreach.sending.dispatch import CampaignWork


class DayCounter(Protocol):
    """The day's cap counter of each campaign (:mod:`outreach.sending.daily_cap`)."""

    def reserve_slots(
        self, org_id: str, campaign_id: str, day: str, *, limit: int, wanted: int, now: datetime
    ) -> int:
        """Add up to ``wanted`` to ``day``'s counter without passing ``limit``, atomically.

        Answers how many were taken (0: the day's cap is used up). ``day`` is
        ``YYYY-MM-DD`` in the campaign's zone; ``now`` dates the counter's expiry.
        """
        ...

    def release_slots(self, org_id: str, campaign_id: str, day: str, count: int) -> None:
        """Give back ``count`` reserved slots nobody used (``count <= 0``: nothing)."""
        ...


class CampaignStatusSource(Protocol):
    """The status read a send checkpoint makes (:mod:`outreach.sending.checkpoint`)."""

    def campaign_status(self, org_id: str, campaign_id: str) -> CampaignStatus | None:
        """The campaign's status, read consistently; ``None`` if it is gone."""
        ...


class SendingStore(DayCounter, CampaignStatusSource, Protocol):
    """Everything the sender reads and writes about a campaign's recipients.

    The claim protocol (see :mod:`outreach.sending.repository`): the recipient's
    campaign claims its number by :meth:`claim` (the text counted in the number's
    history), then the recipient moves ``pending ->`` its outcome by :meth:`record`,
    or waits by :meth:`release` (with :meth:`unclaim` when the text did not go), each
    a conditional write that fails (``None``/``False``) when another writer got there
    first.
    """

    def campaign(self, org_id: str, campaign_id: str) -> Campaign | None:
        """The campaign, read consistently; ``None`` if there is none."""
        ...

    def open_recipients(self, org_id: str, campaign_id: str) -> Iterator[Candidate]:
        """Pending and claimed recipients, from the open index (eventually consistent)."""
        ...

    def has_open(self, org_id: str, campaign_id: str) -> bool:
        """Whether any recipient is still pending or claimed, read consistently."""
        ...

    def recipient_state(self, candidate: Candidate) -> RecipientState | None:
        """The recipient's status and attempts, read consistently (``None``: gone)."""
        ...

    def contacts(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, ContactFields]:
        """The render fields of each contact that still exists, by contact id."""
        ...

    def phone_histories(self, org_id: str, phones: Iterable[str]) -> dict[str, PhoneHistory]:
        """What the organization's campaigns sent each of ``phones`` it has texted or
        claimed, read consistently (the footer, reply attribution, the frequency window,
        the campaigns' claims)."""
        ...

    def claim(
        self, candidate: Candidate, earlier: PhoneHistory | None, claim: Claim, *, now: datetime
    ) -> PhoneHistory | None:
        """Claim the candidate's number for its campaign with ``claim``, counting its text
        at ``now`` after ``earlier`` (the history as read): the new history, or ``None``
        when the campaign holds a claim on the number already."""
        ...

    def unclaim(
        self,
        candidate: Candidate,
        claim: Claim,
        earlier: PhoneHistory | None,
        *,
        closed_at: datetime | None,
    ) -> bool:
        """The text under ``claim`` did not go: the number's history is ``earlier`` again,
        with the claim closed at ``closed_at`` (the recipient was closed) or without it
        (``None``: the recipient waits to be retried). ``False`` when ``claim`` no longer
        holds."""
        ...

    def release(
        self, candidate: Candidate, retry: Retry, *, attempted: bool, now: datetime
    ) -> bool:
        """A pending recipient waits until ``retry.at`` (``None``: not at all) for
        ``retry.reason``; ``attempted``: a provider call counts as an attempt. ``False``
        when it was not pending."""
        ...

    def record(
        self, candidate: Candidate, outcome: Outcome, *, attempted: bool, now: datetime
    ) -> bool:
        """``pending -> outcome``; ``False`` when the recipient was not pending.

        ``attempted``: a provider call counts as an attempt. The outcome's ``error`` is
        kept to 500 characters; a ``message_id`` also dates the send (``sent_at``).
        """
        ...

    def note_texts(self, messages: Sequence[Message]) -> None:
        """Write a page's campaign texts (the provider took them or may have) into their
        conversations."""
        ...

    def hold_back(
        self, candidate: Candidate, *, until: datetime, reason: WaitingReason, now: datetime
    ) -> bool:
        """A pending recipient (not claimed, no retry due later) waits until ``until`` for
        ``reason``; ``False`` when it was not pending."""
        ...

    def pause_for_account(self, org_id: str, campaign_id: str, reason: str, now: datetime) -> bool:
        """``active -> paused`` with ``reason``; ``False`` when it was no longer active."""
        ...

    def complete(self, org_id: str, campaign_id: str, now: datetime) -> bool:
        """``active -> completed``; ``False`` when it was no longer active."""
        ...


class SendingTurns(Protocol):
    """The organization's sending turn (:class:`~outreach.sending.domain.Turn`): one
    sender run at a time, taken and given back by conditional writes."""

    def take(self, org_id: str, *, token: str, now: datetime, until: datetime) -> Turn | None:
        """Hold the turn until ``until`` unless another run holds it (``None``) and its turn
        has not run out by ``now``. When the run before died with a page in flight, that
        page's recipients it claimed and did not record end ``unknown`` first."""
        ...

    def mark(
        self, org_id: str, *, token: str, campaign_id: str, contact_ids: Sequence[str]
    ) -> bool:
        """Note the recipients of the page about to be sent (``False``: the turn is not
        ours)."""
        ...

    def give_back(self, org_id: str, *, token: str, now: datetime, failed: bool = False) -> None:
        """End the turn ``token`` holds at ``now`` (nothing if it no longer holds it).
        ``failed``: the run raised; its page in flight stays noted, for the next turn to
        close as a dead run's."""
        ...


class ActiveCampaigns(Protocol):
    """The dispatch index: the only way the engine finds work."""

    def in_shard(self, shard: int) -> Iterator[tuple[str, str]]:
        """``(org_id, campaign_id)`` of every active campaign in ``shard``."""
        ...


class WorkQueue(Protocol):
    """Where dispatched work goes."""

    def publish(self, works: Sequence[CampaignWork]) -> None:
        """Enqueue every item of ``works`` or raise."""
        ...
