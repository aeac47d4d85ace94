"""The sender's values: a recipient it may try, its claim, and what a send leaves behind.

Plain data shared by the sender, its ports and their implementations (the
DynamoDB one in :mod:`outreach.sending.repository`, the in-memory one the unit
tests use); no storage here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple

from outreach.campaigns.statuses import RecipientStatus
from outreach.contacts.domain import TemplateValues
from outreach.spend import within_window

# A claim's lease end as written in its ``claim`` attribute: fixed width, so that
# the strings sort as the instants do (the expired-claim condition compares them).
CLAIM_INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"


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
    """A recipient this worker holds, as its ``claim`` attribute says: ``<lease end>|<token>``."""

    value: str

    @classmethod
    def of(cls, token: str, until: datetime) -> Claim:
        """The claim of ``token`` whose lease ends at ``until``."""
        return cls(f"{claim_instant(until)}|{token}")

    @staticmethod
    def lease_end(value: str) -> datetime:
        """The lease end (UTC) of a stored claim value."""
        return datetime.strptime(value.partition("|")[0], CLAIM_INSTANT).replace(tzinfo=UTC)


class RecipientState(NamedTuple):
    """A recipient as a consistent read shows it: status, claim lease end, attempts made."""

    status: RecipientStatus
    lease_until: datetime | None
    attempts: int


@dataclass(frozen=True)
class PhoneHistory:
    """What an organization's campaigns sent one number: when first (the opt-out footer
    goes on the first text ever), what last (reply attribution), and ``recent``, its
    campaign texts of the last 24 hours (the ``contact_daily_limit`` of
    :mod:`outreach.spend`), oldest first.

    Only the organization's sending turn (:class:`Turn`) writes it, so the sender checks
    the window in memory and writes the page's histories in one batch.
    """

    first_sent_at: datetime
    last_campaign_id: str
    last_variant: str
    last_contact_id: str
    last_sent_at: datetime
    recent: tuple[datetime, ...] = ()


def history_with_text(
    earlier: PhoneHistory | None, candidate: Candidate, now: datetime
) -> PhoneHistory:
    """The history of ``candidate``'s number once its campaign text at ``now`` is counted
    after ``earlier`` (``None``: the number was never texted); texts older than the
    window are dropped."""
    return PhoneHistory(
        first_sent_at=earlier.first_sent_at if earlier else now,
        last_campaign_id=candidate.campaign_id,
        last_variant=candidate.variant,
        last_contact_id=candidate.contact_id,
        last_sent_at=now,
        recent=(*within_window(earlier.recent, now), now) if earlier else (now,),
    )


@dataclass(frozen=True)
class Turn:
    """An organization's sending turn, held by one sender run at a time until ``until``.

    One run sends for an organization at any moment (the send queue's message groups
    already make it so; the turn is the guarantee, a conditional write): the
    ``contact_daily_limit`` of each number is then checked in memory, exactly.
    ``until`` is past the end of the run's invocation, so a run cannot outlive its turn.

    ``maybe_sent``: numbers a run that died while holding the turn may have texted
    before writing their histories (the recipients of its page in flight it claimed or
    recorded sent), each with its ``sent_at`` or else the end of that turn; they count
    as texted then until the window has passed.
    """

    org_id: str
    token: str
    until: datetime
    maybe_sent: Mapping[str, datetime] = field(default_factory=dict)

    def texts_to(self, phone: str, history: PhoneHistory | None) -> tuple[datetime, ...]:
        """The campaign texts to ``phone`` the frequency window counts: its history's, and
        the instant a dead run may have texted it."""
        recent = history.recent if history else ()
        maybe = self.maybe_sent.get(phone)
        # A text the dead run recorded and wrote the history of is counted once.
        return recent if maybe is None or maybe in recent else (*recent, maybe)


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
    """A claim given back: when the recipient may be tried again (``None``: at once),
    why it waits until then, and whether the attempt the claim counted is refunded (it
    was not the recipient's)."""

    at: datetime | None = None
    refund_attempt: bool = False
    reason: WaitingReason | None = None
