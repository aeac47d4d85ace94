"""When a message may go out: the time rules of the sending engine, as pure functions.

Four rules (``sending-rules.md``, "When a message may go out", 1-3, and "State rules
and languages", 7-8) decide whether an instant is allowed: the campaign's dates, its
weekly send window in the campaign's zone, the organization's quiet hours (never wider
than the federal window) in every zone the recipient may be in, and the rules of
every US state the recipient may be in (:mod:`outreach.state_rules`) in those zones.
Where the recipient is, is a :class:`RecipientPlace`.

Every wall clock is found by converting the UTC instant to the zone, which is
unambiguous even on DST change days (the reverse, wall time to instant, is
ambiguous in a fall-back overlap and impossible in a spring-forward gap, so no
rule uses it). The sender applies the dates and the window once per tick and the
quiet hours per recipient (:mod:`outreach.sending.sender`); a recipient outside
its quiet hours is simply tried again at a later tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from outreach.campaigns.domain import Campaign
from outreach.identity.domain import (
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    LEGAL_QUIET_END,
    LEGAL_QUIET_START,
    Organization,
)
from outreach.phone_zones import pinned_zones
from outreach.sending.domain import WaitingReason
from outreach.state_rules import recipient_states, state_rules_allow
from outreach.timezones import is_timezone, parse_hhmm, zone

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The organization defaults (the federal telemarketing hours), kept in one place.
_DEFAULT_QUIET_START = parse_hhmm(DEFAULT_QUIET_START)
_DEFAULT_QUIET_END = parse_hhmm(DEFAULT_QUIET_END)
# The federal telemarketing window (rule 3): an organization may narrow it, never widen it.
_LEGAL_START = parse_hhmm(LEGAL_QUIET_START)
_LEGAL_END = parse_hhmm(LEGAL_QUIET_END)


@dataclass(frozen=True)
class SendWindow:
    """A campaign's weekly window: ``days`` ("mon".."sun"), ``start <= t < end`` in ``timezone``."""

    timezone: str
    start: time
    end: time
    days: frozenset[str]

    def __post_init__(self) -> None:
        _check_span(self.start, self.end, "send window")
        unknown = self.days - set(DAY_NAMES)
        if unknown:
            raise ValueError(f"unknown day names {sorted(unknown)}; expected {DAY_NAMES}")
        if not is_timezone(self.timezone):
            raise ValueError(f"unknown time zone {self.timezone!r}")

    @classmethod
    def from_hhmm(cls, timezone: str, start: str, end: str, days: Iterable[str]) -> SendWindow:
        """Build from stored text: ``("America/New_York", "09:00", "18:00", ["mon", ...])``."""
        return cls(timezone, parse_hhmm(start), parse_hhmm(end), frozenset(days))

    @classmethod
    def of(cls, campaign: Campaign) -> SendWindow:
        """The campaign's weekly window, in its zone."""
        window = campaign.window
        return cls.from_hhmm(campaign.timezone, window.start, window.end, window.days)


@dataclass(frozen=True)
class QuietHours:
    """The organization's allowance: a recipient may be texted at local ``start <= t < end``
    (``start == end``: never)."""

    start: time = _DEFAULT_QUIET_START
    end: time = _DEFAULT_QUIET_END

    def __post_init__(self) -> None:
        _check_span(self.start, self.end, "quiet hours", empty_allowed=True)

    @classmethod
    def from_hhmm(cls, start: str, end: str) -> QuietHours:
        """Build from the organization's stored ``HH:MM`` texts."""
        return cls(parse_hhmm(start), parse_hhmm(end))

    @classmethod
    def of(cls, organization: Organization) -> QuietHours:
        """The organization's allowance as every rule applies it: its stored hours narrowed
        to the federal window (:meth:`within_legal_hours`)."""
        stored = cls.from_hhmm(organization.quiet_hours_start, organization.quiet_hours_end)
        return stored.within_legal_hours()

    def within_legal_hours(self) -> QuietHours:
        """These hours narrowed to the federal window (08:00-21:00, rule 3): a setting stored
        wider (before it was refused, or by hand) never widens what the engine does. Hours
        outside the window altogether allow nothing: an empty span at the window's start."""
        start = max(self.start, _LEGAL_START)
        end = min(self.end, _LEGAL_END)
        return QuietHours(start, max(start, end))


def recipient_zones(
    contact_timezone: str | None, phone: str, fallback_zones: Sequence[str]
) -> tuple[str, ...]:
    """The zones whose quiet hours a message to this recipient must respect (rules 3, 8).

    The contact's ``timezone`` when set (and a real zone); else the zones of the place
    the number is pinned to (:func:`~outreach.phone_zones.pinned_zones`: every one of
    them for an area code straddling a zone line); else, for a number no place can be
    pinned to (toll-free, non-geographic), ``fallback_zones`` (the organization's
    ``fallback_time_zones``).
    """
    if contact_timezone and is_timezone(contact_timezone):
        return (contact_timezone,)
    return pinned_zones(phone) or tuple(fallback_zones)


@dataclass(frozen=True)
class RecipientPlace:
    """Where a recipient is, for the time rules: the ``zones`` its local time is read in
    (:func:`recipient_zones`) and the US ``states`` whose rules apply
    (:func:`~outreach.state_rules.recipient_states`)."""

    zones: tuple[str, ...]
    states: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        phone: str,
        *,
        timezone: str | None,
        state: str | None,
        fallback_zones: Sequence[str],
    ) -> RecipientPlace:
        """The place of a recipient texted at ``phone`` (E.164) whose contact has
        ``timezone`` and ``state`` (or ``None``), for an organization whose
        ``fallback_time_zones`` are ``fallback_zones``."""
        return cls(recipient_zones(timezone, phone, fallback_zones), recipient_states(state, phone))


def recipient_hold(now: datetime, quiet: QuietHours, place: RecipientPlace) -> WaitingReason | None:
    """What holds a text to a recipient at ``place`` back at ``now``: the quiet hours
    (rule 3) first, then a state's rule (rule 7); ``None`` when both allow it."""
    if not quiet_hours_allow(now, quiet, place.zones):
        return WaitingReason.QUIET_HOURS
    if not state_rules_allow(now, place.states, place.zones):
        return WaitingReason.STATE_RULE
    return None


def recipient_allows(now: datetime, quiet: QuietHours, place: RecipientPlace) -> bool:
    """Rules 3 and 7 together: nothing holds a text to ``place`` back at ``now``."""
    return recipient_hold(now, quiet, place) is None


def within_dates(now: datetime, start_at: datetime | None, end_at: datetime | None) -> bool:
    """Rule 1's dates: ``start_at <= now < end_at``, each bound only where set."""
    instant = _utc(now)
    if start_at is not None and instant < start_at:
        return False
    return end_at is None or instant < end_at


def campaign_allows(now: datetime, campaign: Campaign, window: SendWindow) -> bool:
    """Rules 1 and 2 together: ``now`` is within the campaign's dates and its ``window``
    (:meth:`SendWindow.of` the campaign)."""
    return within_dates(now, campaign.start_at, campaign.end_at) and campaign_window_allows(
        now, window
    )


def campaign_window_allows(now: datetime, window: SendWindow) -> bool:
    """Rule 2: ``now`` in the campaign's zone is on one of its days, within start..end."""
    local = _utc(now).astimezone(zone(window.timezone))
    return DAY_NAMES[local.weekday()] in window.days and window.start <= local.time() < window.end


def quiet_hours_allow(now: datetime, quiet: QuietHours, zones: Sequence[str]) -> bool:
    """Rule 3: ``now`` is within the allowance in every one of the recipient's ``zones``."""
    instant = _utc(now)
    return all(
        quiet.start <= instant.astimezone(zone(name)).time() < quiet.end
        for name in _distinct_zones(zones)
    )


def _check_span(start: time, end: time, what: str, *, empty_allowed: bool = False) -> None:
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError(f"{what} times are wall clock times: no tzinfo")
    if not (start <= end if empty_allowed else start < end):
        raise ValueError(f"{what} start must be before its end")


def _utc(instant: datetime) -> datetime:
    # A naive datetime would be read as the host's local time by astimezone: refuse it.
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC)


def _distinct_zones(zones: Sequence[str]) -> tuple[str, ...]:
    # A bare string is a Sequence[str] of letters; an empty list would allow every hour.
    if isinstance(zones, str):
        raise TypeError("zones must be a sequence of zone names, not one string")
    if not zones:
        raise ValueError("a recipient needs at least one zone (see recipient_zones)")
    return tuple(dict.fromkeys(zones))
