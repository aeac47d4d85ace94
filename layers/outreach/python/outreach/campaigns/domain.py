"""Campaign domain objects, their limits and defaults, and the lifecycle.

Limits and defaults come from `api-contract.md` (POST /v1/campaigns); the
daily limit's default and maximum live with the cap, in
:mod:`outreach.sending.daily_cap`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Literal, get_args

from outreach.campaigns import statuses as _statuses

if TYPE_CHECKING:  # the A/B statistics (and fractions) load only where they are computed
    from outreach.campaigns.winner import Winner

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = get_args(Day)
"""The day names of a send window, Monday first (the order a window lists them in)."""
DEFAULT_WINDOW_START = "09:00"
DEFAULT_WINDOW_END = "18:00"
DEFAULT_WINDOW_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri")
MAX_VARIANTS = 5
MAX_WEIGHT = 10_000
MAX_BODY_LENGTH = 1600
# Ids of at most 26 characters (a ULID): the audience stays a small part of the
# campaign's 400 kB DynamoDB item, and of its answers (issue 14, point 9).
MAX_AUDIENCE_IDS = 1_000
# A sender starts a provider call within this of reading the campaign active;
# pause and cancel wait this long after their status change, so that nothing
# leaves once they return.
SEND_DEADLINE_SECONDS = 1.0

# The statuses live in outreach.campaigns.statuses, so that the inbound path can use
# them without building this module's dataclasses; they are named here too.
CampaignStatus = _statuses.CampaignStatus
RecipientStatus = _statuses.RecipientStatus


@dataclass(frozen=True)
class SendsQuery:
    """Which sends to list: the campaign's, only those in ``status`` if given."""

    campaign_id: str
    status: RecipientStatus | None = None

    @property
    def listing(self) -> str:
        """The listing a sends cursor is sealed for: one per campaign and status filter."""
        return f"sends:{self.campaign_id}:{self.status.value if self.status else '*'}"


@dataclass(frozen=True)
class LeftOut:
    """The audience members a start did not make recipients, by reason (``api-contract.md``,
    Addendum 1; issue 14, point 1). Each member is counted once, under the first reason
    that applies, in this order:

    - ``opted_out``: the number is on the organization's opt-out list;
    - ``not_textable``: the organization may not text it (a country it has not allowed,
      or a premium-rate or other special line: :mod:`outreach.destinations`);
    - ``never_in_window``: no minute of the campaign's weekly send window falls within
      the organization's quiet hours in every zone the recipient may be in
      (:mod:`outreach.campaigns.reach`), so the sender could never text it and the
      campaign could never complete.
    """

    opted_out: int = 0
    not_textable: int = 0
    never_in_window: int = 0


@dataclass(frozen=True)
class Transition:
    """A status change: from any status in ``allowed`` to ``to``. A start's also names
    the size of its audience snapshot (``recipients``), what it left out (``left_out``)
    and its lease's ``start_token``."""

    allowed: frozenset[CampaignStatus]
    to: CampaignStatus
    recipients: int | None = None
    left_out: LeftOut | None = None
    start_token: str | None = None


# action -> its transition; "completed" is reached by the engine.
TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({CampaignStatus.DRAFT}), CampaignStatus.ACTIVE),
    "pause": Transition(frozenset({CampaignStatus.ACTIVE}), CampaignStatus.PAUSED),
    "resume": Transition(frozenset({CampaignStatus.PAUSED}), CampaignStatus.ACTIVE),
    "cancel": Transition(
        frozenset({CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.PAUSED}),
        CampaignStatus.CANCELLED,
    ),
}
EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.PAUSED})


@dataclass(frozen=True)
class Variant:
    """One message of a campaign: ``body`` is a template, ``weight`` its share of recipients."""

    name: str
    body: str
    weight: int


# The ``template_a``/``template_b`` shorthand's variants split the audience evenly.
AB_WEIGHT = 50


def ab_variants(template_a: str, template_b: str) -> tuple[Variant, Variant]:
    """The shorthand ``template_a``/``template_b`` (api-contract.md): variants "A" and "B",
    half the audience each."""
    return (Variant("A", template_a, AB_WEIGHT), Variant("B", template_b, AB_WEIGHT))


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

    def selects(self, contact_id: str, tags: Iterable[str]) -> bool:
        """Whether this selection takes the contact ``contact_id`` tagged ``tags`` (as the
        start's reads of everyone, of the tags' members or of the ids do)."""
        return self.all or contact_id in self.contact_ids or not set(self.tags).isdisjoint(tags)

    def same_as(self, other: Audience) -> bool:
        """The same selection, whatever the order of the tags or ids."""
        return (self.all, set(self.tags), set(self.contact_ids)) == (
            other.all,
            set(other.tags),
            set(other.contact_ids),
        )


@dataclass(frozen=True)
class Window:
    """When texts may leave, in the campaign's zone: ``start``/``end`` are ``HH:MM``
    (start before end), ``days`` names from :data:`DAYS` in that order."""

    start: str
    end: str
    days: tuple[str, ...]


DEFAULT_WINDOW = Window(DEFAULT_WINDOW_START, DEFAULT_WINDOW_END, DEFAULT_WINDOW_DAYS)


@dataclass(frozen=True)
class Campaign:
    """A campaign as stored: ``recipients`` is the size of the audience snapshot taken at
    start (0 before), ``left_out`` what the start left out of it; instants are aware UTC
    datetimes."""

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
    # What the start left out of the audience snapshot; ``None`` before the start (and
    # for campaigns started before the start counted it).
    left_out: LeftOut | None = None


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
    # Why a pending recipient waits, until when if known (outreach.sending.waiting).
    waiting_reason: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class VariantCounts:
    """The counters of one variant, as the stats projection keeps them
    (:mod:`outreach.stats.projection`).

    The status counters are of recipients' current states and add up to
    ``recipients``; a recipient a sender has claimed still counts as ``pending``.
    ``accepted``: messages the provider accepted; ``repliers``: recipients who
    replied at least once; ``replies``: every reply.
    """

    name: str
    recipients: int = 0
    pending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    unknown: int = 0
    accepted: int = 0
    repliers: int = 0
    replies: int = 0
    opt_outs: int = 0

    @classmethod
    def total(cls, name: str, counts: Iterable[VariantCounts]) -> VariantCounts:
        """The counters of ``counts`` added up, under ``name``."""
        listed = list(counts)
        return cls(name, **{c: sum(getattr(v, c) for v in listed) for c in COUNTERS})


COUNTERS: tuple[str, ...] = tuple(f.name for f in fields(VariantCounts) if f.name != "name")
"""Every counter of a variant, in :class:`VariantCounts`' order (its fields but ``name``)."""


@dataclass(frozen=True)
class CampaignDraft:
    """What a create or an edit says (``None``: not given)."""

    name: str | None = None
    variants: tuple[Variant, ...] | None = None
    audience: Audience | None = None
    daily_limit: int | None = None
    timezone: str | None = None
    window: Window | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    # Fields explicitly set to null (start_at, end_at): cleared.
    cleared: frozenset[str] = frozenset()


# A campaign's content: what an edit (a :class:`CampaignDraft`) may change. Only the
# dates may be cleared; the rest of a campaign (status, counts, times) is the engine's.
CONTENT_FIELDS = ("name", "variants", "audience", "daily_limit", "timezone", "window")
CLEARABLE_FIELDS = ("start_at", "end_at")


@dataclass(frozen=True)
class VariantStats:
    """One variant's counters and its reply rate (repliers over accepted messages, 0..1)."""

    counts: VariantCounts
    reply_rate: float


@dataclass(frozen=True)
class CampaignStats:
    """A campaign's statistics: ``totals`` over its variants (named ``"*"``), the variants
    in the campaign's order, today's sends against ``daily_limit``, and the A/B winner
    once one is significant."""

    status: CampaignStatus
    daily_limit: int
    sends_today: int
    totals: VariantCounts
    variants: tuple[VariantStats, ...]
    winner: Winner | None
    paused_reason: str | None = None
