"""The sender's values: a recipient it may try, its claim, and what a send leaves behind.

Plain data shared by the sender, its ports and their implementations (the
DynamoDB one in :mod:`outreach.sending.repository`, the in-memory one the unit
tests use); no storage here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple

from outreach.campaigns.statuses import RecipientStatus
from outreach.contacts.domain import TemplateValues
from outreach.spend import FREQUENCY_WINDOW, within_window

# A claim's lease end as written in its value: fixed width, so that the strings sort
# as the instants do.
CLAIM_INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"


# The error of a recipient whose number its campaign claimed, whose text may have gone,
# and whose run died before recording it: it ends ``unknown`` with it.
CLAIM_EXPIRED = "claim expired"


def claim_instant(instant: datetime) -> str:
    """An instant as a claim's lease end is written (``2026-11-23T15:00:00.000000Z``)."""
    return instant.astimezone(UTC).strftime(CLAIM_INSTANT)


@dataclass(frozen=True)
class Candidate:
    """An open recipient the sender may try, as the open index shows it.

    ``retry_at`` is set while a transient error's backoff runs (UTC).
    """

    org_id: str
    campaign_id: str
    contact_id: str
    phone: str
    variant: str
    retry_at: datetime | None


@dataclass(frozen=True)
class Claim:
    """A campaign's claim on one number, as its phone history's ``claims`` map holds it
    under the campaign's id: ``<lease end>|<token>``.

    The claim is taken (a conditional write) before the provider is called and stays
    after the text went, so the campaign never takes the number again; a claim whose
    lease ended while its recipient is still pending belonged to a run that died
    (the recipient ends ``unknown``). A text that did not go leaves a claim whose
    lease ended when it was given up (:meth:`closed`).
    """

    value: str

    @classmethod
    def of(cls, token: str, until: datetime) -> Claim:
        """The claim of ``token`` whose lease ends at ``until``."""
        return cls(f"{claim_instant(until)}|{token}")

    @classmethod
    def closed(cls, at: datetime) -> Claim:
        """What a claim becomes when its text did not go and its recipient was closed
        at ``at`` (``failed``, ``skipped``): a lease already over, no holder."""
        return cls.of("", at)

    @property
    def closed_by_outcome(self) -> bool:
        """Whether its text did not go and its recipient was closed (:meth:`closed`)."""
        return self.value.endswith("|")

    @property
    def until(self) -> datetime:
        """The lease end (UTC)."""
        return self.lease_end(self.value)

    @staticmethod
    def lease_end(value: str) -> datetime:
        """The lease end (UTC) of a stored claim value."""
        return datetime.strptime(value.partition("|")[0], CLAIM_INSTANT).replace(tzinfo=UTC)


class RecipientState(NamedTuple):
    """A recipient as a consistent read shows it: its status and the provider calls
    made for it (``attempts``)."""

    status: RecipientStatus
    attempts: int


@dataclass(frozen=True)
class PhoneHistory:
    """What an organization's campaigns sent one number: when first (the opt-out footer
    goes on the first text ever), what last (reply attribution), ``recent``, its
    campaign texts of the last 24 hours (the ``contact_daily_limit`` of
    :mod:`outreach.spend`), oldest first, and ``claims``, each campaign's
    :class:`Claim` on the number by campaign id (kept for the window after its lease).

    Only the organization's sending turn (:class:`Turn`) writes the campaign fields: the
    sender reads a page's histories consistently, checks the window in memory, and
    writes each text into its number's history, with its claim, before the provider is
    called.
    """

    first_sent_at: datetime | None  # None: never texted (only claims of texts that did not go)
    last_campaign_id: str = ""
    last_variant: str = ""
    last_contact_id: str = ""
    last_sent_at: datetime | None = None
    recent: tuple[datetime, ...] = ()
    claims: Mapping[str, Claim] = field(default_factory=dict)

    @property
    def texted(self) -> bool:
        """Whether the organization ever texted the number (no opt-out footer then)."""
        return self.first_sent_at is not None

    def claim_of(self, campaign_id: str) -> Claim | None:
        """The claim ``campaign_id`` holds or held on the number (``None``: none kept)."""
        return self.claims.get(campaign_id)


def history_with_text(
    earlier: PhoneHistory | None, candidate: Candidate, now: datetime, claim: Claim
) -> PhoneHistory:
    """The history of ``candidate``'s number once its campaign text at ``now`` is counted
    after ``earlier`` (``None``: the number was never texted), under ``claim``; texts
    older than the window, and claims whose lease ended before it, are dropped."""
    kept = {
        campaign_id: held
        for campaign_id, held in (earlier.claims if earlier else {}).items()
        if held.until > now - FREQUENCY_WINDOW
    }
    return PhoneHistory(
        first_sent_at=earlier.first_sent_at or now if earlier else now,
        last_campaign_id=candidate.campaign_id,
        last_variant=candidate.variant,
        last_contact_id=candidate.contact_id,
        last_sent_at=now,
        recent=(*within_window(earlier.recent, now), now) if earlier else (now,),
        claims={**kept, candidate.campaign_id: claim},
    )


def history_without_text(
    earlier: PhoneHistory | None, campaign_id: str, *, closed_at: datetime | None
) -> PhoneHistory | None:
    """The history as it was before a text of ``campaign_id`` that did not go
    (``earlier``, as the claim was taken after it): with the claim closed at
    ``closed_at`` when its recipient was closed (``failed``, ``skipped``), so the
    campaign never takes the number again, or without it (``None``: the recipient is
    pending again, to be retried). ``None`` when nothing is left to keep."""
    claims = {k: v for k, v in (earlier.claims if earlier else {}).items() if k != campaign_id}
    if closed_at is not None:
        claims[campaign_id] = Claim.closed(closed_at)
    if earlier is not None:
        return replace(earlier, claims=claims)
    # A number never texted keeps only the claim (no text went: its footer is still due).
    return PhoneHistory(first_sent_at=None, claims=claims) if claims else None


@dataclass(frozen=True)
class Turn:
    """An organization's sending turn, held by one sender run at a time until ``until``.

    One run sends for an organization at any moment (the send queue's message groups
    already make it so; the turn is the guarantee, a conditional write): the
    ``contact_daily_limit`` of each number is then checked in memory, exactly, and each
    text is written into its number's history before the provider is called, so a run
    that dies leaves every text it may have sent counted; the page in flight is noted on
    the turn, so the next run closes the recipient a dead run claimed and did not
    record. ``until`` is past the end of the run's invocation, so a run cannot outlive
    its turn.
    """

    org_id: str
    token: str
    until: datetime


@dataclass(frozen=True)
class ContactFields:
    """What a message body is rendered from (``values``), and the contact's own zone and US
    state (a USPS code), if set."""

    values: TemplateValues
    timezone: str | None
    state: str | None = None


@dataclass(frozen=True)
class Outcome:
    """Where an open recipient ends: its status, the provider's message id (sent), the error."""

    status: RecipientStatus
    message_id: str | None = None
    error: str | None = None


class WaitingReason(StrEnum):
    """Why a pending recipient waits (a send's ``waiting_reason``, api-contract.md
    Addendum 1). ``frequency_cap`` and ``retry`` are stored on the recipient with the
    instant it waits for; the others follow from the campaign's state when read."""

    WINDOW = "window"
    QUIET_HOURS = "quiet_hours"
    STATE_RULE = "state_rule"
    DAILY_LIMIT = "daily_limit"
    ORG_DAILY_LIMIT = "org_daily_limit"
    FREQUENCY_CAP = "frequency_cap"
    RETRY = "retry"


@dataclass(frozen=True)
class Retry:
    """A pending recipient whose text did not go: when it may be tried again (``None``:
    at once), and why it waits until then."""

    at: datetime | None = None
    reason: WaitingReason | None = None
