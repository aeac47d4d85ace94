"""The sender's values: a recipient it may try, its claim, and what a send leaves behind.

Plain data shared by the sender, its ports and their implementations (the
DynamoDB one in :mod:`outreach.sending.repository`, the in-memory one the unit
tests use); no storage here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from outreach.campaigns.domain import RecipientStatus
from outreach.contacts.domain import TemplateValues

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
    """What last texted a number, and when it was first texted (reply attribution)."""

    first_sent_at: datetime
    last_campaign_id: str
    last_variant: str
    last_contact_id: str
    last_sent_at: datetime


@dataclass(frozen=True)
class SentNote:
    """A message sent, for the number's history: when, and when the number was first texted."""

    candidate: Candidate
    sent_at: datetime
    first_sent_at: datetime | None

    @property
    def history(self) -> PhoneHistory:
        """The number's history once this message is noted."""
        return PhoneHistory(
            first_sent_at=self.first_sent_at or self.sent_at,
            last_campaign_id=self.candidate.campaign_id,
            last_variant=self.candidate.variant,
            last_contact_id=self.candidate.contact_id,
            last_sent_at=self.sent_at,
        )


@dataclass(frozen=True)
class ContactFields:
    """What a message body is rendered from (``values``) and the contact's own zone, if set."""

    values: TemplateValues
    timezone: str | None


@dataclass(frozen=True)
class Outcome:
    """Where an open recipient ends: its status, the provider's message id (sent), the error."""

    status: RecipientStatus
    message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Retry:
    """A claim given back: when the recipient may be tried again (``None``: at once),
    and whether the attempt the claim counted is refunded (it was not the recipient's)."""

    at: datetime | None = None
    refund_attempt: bool = False
