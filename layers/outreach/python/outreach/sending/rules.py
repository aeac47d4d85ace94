"""When a message may go out: the time rules of the sending engine, as pure functions.

Three rules (docs: "When a message may go out", 1-3) decide whether an instant is
allowed: the campaign's dates, its weekly send window in the campaign's zone, and
the organization's quiet hours in every zone the recipient may be in.

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
from outreach.phone_zones import zones_for_number
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


def recipient_zones(contact_timezone: str | None, phone: str, fallback: str) -> tuple[str, ...]:
    """The zones whose quiet hours a message to this recipient must respect.

    The contact's ``timezone`` when set (and a real zone); else every zone the number
    can be in; else ``fallback`` (the organization's zone), so a number libphonenumber
    cannot place is still held to quiet hours somewhere plausible.
    """
    if contact_timezone and is_timezone(contact_timezone):
        return (contact_timezone,)
    return zones_for_number(phone) or (fallback,)


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
