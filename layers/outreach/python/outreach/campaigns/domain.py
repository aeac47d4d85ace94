"""Campaign domain objects and the lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WINDOW_START = "09:00"
DEFAULT_WINDOW_END = "18:00"
DEFAULT_WINDOW_DAYS = ("mon", "tue", "wed", "thu", "fri")
DEFAULT_DAILY_LIMIT = 125
MAX_DAILY_LIMIT = 125
MAX_VARIANTS = 5
MAX_WEIGHT = 10_000
MAX_BODY_LENGTH = 1600
MAX_AUDIENCE_IDS = 10_000
# A sender starts a provider call within this of reading the campaign active;
# pause and cancel wait this long after their status change, so that nothing
# leaves once they return.
SEND_DEADLINE_SECONDS = 1.0


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class RecipientStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


# action -> (states it may leave, state it reaches); "completed" is reached by the engine.
TRANSITIONS: dict[str, tuple[frozenset[CampaignStatus], CampaignStatus]] = {
    "start": (frozenset({CampaignStatus.DRAFT}), CampaignStatus.ACTIVE),
    "pause": (frozenset({CampaignStatus.ACTIVE}), CampaignStatus.PAUSED),
    "resume": (frozenset({CampaignStatus.PAUSED}), CampaignStatus.ACTIVE),
    "cancel": (
        frozenset({CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.PAUSED}),
        CampaignStatus.CANCELLED,
    ),
}
EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.PAUSED})


@dataclass(frozen=True)
class Variant:
    name: str
    body: str
    weight: int


@dataclass(frozen=True)
class Audience:
    """Exactly one of: everyone, contacts with any of ``tags``, or ``contact_ids``."""

    all: bool = False
    tags: tuple[str, ...] = ()
    contact_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        if self.all:
            return {"all": True}
        if self.tags:
            return {"tags": list(self.tags)}
        return {"contact_ids": list(self.contact_ids)}

    def same_as(self, other: Audience) -> bool:
        """The same selection, whatever the order of the tags or ids."""
        return (self.all, set(self.tags), set(self.contact_ids)) == (
            other.all,
            set(other.tags),
            set(other.contact_ids),
        )


@dataclass(frozen=True)
class Window:
    start: str
    end: str
    days: tuple[str, ...]


@dataclass(frozen=True)
class Campaign:
    id: str
    org_id: str
    name: str
    status: CampaignStatus
    variants: tuple[Variant, ...]
    audience: Audience
    daily_limit: int
    timezone: str
    window: Window
    start_at: datetime | None
    end_at: datetime | None
    recipients: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    # Set when the sending engine paused the campaign itself (e.g. the account's
    # spend limit): what to fix before resuming. ``None`` for a pause by a user.
    paused_reason: str | None = None


@dataclass(frozen=True)
class Recipient:
    """One contact in a campaign's audience, and its send."""

    org_id: str
    campaign_id: str
    contact_id: str
    phone: str
    variant: str
    status: RecipientStatus
    attempts: int
    provider_message_id: str | None
    error: str | None
    sent_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class VariantCounts:
    """The counters of one variant (see ``CampaignStatsModel``)."""

    name: str
    recipients: int = 0
    pending: int = 0
    sending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    unknown: int = 0
    accepted: int = 0
    repliers: int = 0
    replies: int = 0
    opt_outs: int = 0
