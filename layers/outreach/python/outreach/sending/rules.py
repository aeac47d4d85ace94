"""When a message may go out: the time rules of the sending engine, as pure functions.

Three rules (docs: "When a message may go out", 1-3) decide whether an instant is
allowed: the campaign's dates, its weekly send window in the campaign's zone, and
the organization's quiet hours in every zone the recipient may be in.

Every wall clock is found by converting the UTC instant to the zone, which is
unambiguous even on DST change days; the reverse (wall time to instant) is
ambiguous in a fall-back overlap and impossible in a spring-forward gap, so it is
only used to propose candidate instants, each checked forwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from outreach.identity.domain import DEFAULT_QUIET_END, DEFAULT_QUIET_START
from outreach.phone_zones import zones_for_number
from outreach.timezones import is_timezone, parse_hhmm

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HORIZON = timedelta(days=8)
# The organization defaults (the federal telemarketing hours), kept in one place.
_DEFAULT_QUIET_START = parse_hhmm(DEFAULT_QUIET_START)
_DEFAULT_QUIET_END = parse_hhmm(DEFAULT_QUIET_END)

# UTC offsets are sampled this often to find the transitions between samples. No zone
# changes its offset twice within hours (DST changes are months apart), so one sample
# interval never hides a change and its reversal.
_OFFSET_SAMPLE_SECONDS = 6 * 3600


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


@dataclass(frozen=True)
class QuietHours:
    """The organization's allowance: a recipient may be texted at local ``start <= t < end``."""

    start: time = _DEFAULT_QUIET_START
    end: time = _DEFAULT_QUIET_END

    def __post_init__(self) -> None:
        _check_span(self.start, self.end, "quiet hours")

    @classmethod
    def from_hhmm(cls, start: str, end: str) -> QuietHours:
        """Build from the organization's stored ``HH:MM`` texts."""
        return cls(parse_hhmm(start), parse_hhmm(end))


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


def campaign_window_allows(now: datetime, window: SendWindow) -> bool:
    """Rule 2: ``now`` in the campaign's zone is on one of its days, within start..end."""
    local = _utc(now).astimezone(_zone(window.timezone))
    return DAY_NAMES[local.weekday()] in window.days and window.start <= local.time() < window.end


def quiet_hours_allow(now: datetime, quiet: QuietHours, zones: Sequence[str]) -> bool:
    """Rule 3: ``now`` is within the allowance in every one of the recipient's ``zones``."""
    instant = _utc(now)
    return all(
        quiet.start <= instant.astimezone(_zone(name)).time() < quiet.end
        for name in _distinct_zones(zones)
    )


# Six positionals is the agreed signature: the instant, the three rules' inputs, the dates.
def send_time_allowed(  # noqa: PLR0917
    now: datetime,
    window: SendWindow,
    quiet: QuietHours,
    zones: Sequence[str],
    start_at: datetime | None,
    end_at: datetime | None,
) -> bool:
    """Whether rules 1 (dates only), 2 and 3 all let a message go out at ``now``."""
    return (
        within_dates(now, start_at, end_at)
        and campaign_window_allows(now, window)
        and quiet_hours_allow(now, quiet, zones)
    )


def next_allowed_instant(
    now: datetime,
    window: SendWindow,
    quiet: QuietHours,
    zones: Sequence[str],
    *,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    horizon: timedelta = DEFAULT_HORIZON,
) -> datetime | None:
    """The earliest instant ``>= now`` (in UTC) at which :func:`send_time_allowed` holds.

    ``None`` when there is none within ``horizon`` of ``now``, or ``end_at`` comes first.
    """
    origin = _utc(now)
    names = _distinct_zones(zones)

    def allowed(instant: datetime) -> bool:
        return send_time_allowed(instant, window, quiet, names, start_at, end_at)

    if allowed(origin):
        return origin
    limit = origin + horizon
    if end_at is not None:
        limit = min(limit, _utc(end_at))
    # Each rule holds on half-open spans of time, so the earliest allowed instant after
    # `origin` is where some span begins: `start_at`, a wall clock reaching a start time,
    # or a UTC offset change that moves a wall clock into a span (a spring-forward gap
    # can jump over a start time; a fall-back can jump back into a window).
    candidates: set[datetime] = set()
    if start_at is not None:
        candidates.add(_utc(start_at))
    candidates.update(
        _wall_time_instants(origin, limit, window.timezone, window.start, window.days)
    )
    for name in names:
        candidates.update(_wall_time_instants(origin, limit, name, quiet.start, None))
    for name in {window.timezone, *names}:
        candidates.update(_offset_changes(origin, limit, _zone(name)))
    for candidate in sorted(c for c in candidates if origin < c <= limit):
        if allowed(candidate):
            return candidate
    return None


def _check_span(start: time, end: time, what: str) -> None:
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError(f"{what} times are wall clock times: no tzinfo")
    if not start < end:
        raise ValueError(f"{what} start must be before its end")


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo keeps only 8 zones strongly cached; a toll-free number alone spans 42, and
    # reloading a zone from disk costs more than every conversion made with it.
    return ZoneInfo(name)


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


def _wall_time_instants(
    origin: datetime, limit: datetime, name: str, at: time, days: frozenset[str] | None
) -> Iterator[datetime]:
    """Instants around origin..limit whose wall time in ``name`` is ``at`` (both folds).

    In a gap neither fold is the wall clock reaching ``at``; the offset change that
    jumps over it is proposed by :func:`_offset_changes`.
    """
    zone = _zone(name)
    day: date = origin.astimezone(zone).date() - timedelta(days=1)
    last = limit.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        if days is None or DAY_NAMES[day.weekday()] in days:
            wall = datetime.combine(day, at, tzinfo=zone)
            yield wall.astimezone(UTC)
            yield wall.replace(fold=1).astimezone(UTC)
        day += timedelta(days=1)


def _offset_changes(origin: datetime, limit: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """The instants in (origin, limit + a sample] at which ``zone`` changes UTC offset."""
    # Transitions fall on whole seconds (tzdata stores them so): search on integer stamps.
    left = int(origin.timestamp())
    left_offset = _offset(left, zone)
    end = limit.timestamp()
    while left < end:
        right = left + _OFFSET_SAMPLE_SECONDS
        right_offset = _offset(right, zone)
        if right_offset != left_offset:
            low, high = left, right
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(middle, zone) == left_offset:
                    low = middle
                else:
                    high = middle
            yield datetime.fromtimestamp(high, UTC)
        left, left_offset = right, right_offset


def _offset(stamp: int, zone: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(stamp, UTC).astimezone(zone).utcoffset()
