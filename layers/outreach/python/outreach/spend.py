"""Spend limits: how many texts an organization may send, to whom, and how often.

Source: ``sending-rules.md``, "State rules and languages", rule 9 ("Spend
limits"), and the organization settings of ``api-contract.md``'s Addendum 1.
Every limit that protects the customer's money is defined here, with its
default and its bounds; the counters that enforce them are conditional writes
(:mod:`outreach.data.counters`), so each is exact however many workers run.

- ``daily_message_limit``: every text the organization sends in one calendar
  day of its ``timezone`` (campaign texts, manual texts and auto-replies);
  key :func:`outreach.data.keys.org_daily_counter_key`, day :func:`org_day`.
- ``contact_daily_limit``: campaign texts to one number in any rolling
  :data:`FREQUENCY_WINDOW` (24 hours); held on the number's phone-history item.
- ``auto_reply_hourly_limit``: HELP answers and STOP/START confirmations per
  clock hour (UTC), :func:`auto_reply_hour`; and at most one HELP answer per
  number per :data:`HELP_ANSWER_INTERVAL`.
- Where a text may go at all: :mod:`outreach.destinations`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from outreach.data.keys import org_daily_counter_key
from outreach.timezones import zone

if TYPE_CHECKING:  # identity's domain takes its defaults from here
    from outreach.identity.domain import Organization

# The organization's texts per day when it has set none: a small business's busy
# day with room to spare; only the owner may raise it (api-contract.md, Addendum 1).
DEFAULT_DAILY_MESSAGE_LIMIT = 1_000
MAX_DAILY_MESSAGE_LIMIT = 100_000
# Campaign texts to one number per rolling 24 hours (the contract's default: 1).
DEFAULT_CONTACT_DAILY_LIMIT = 1
MAX_CONTACT_DAILY_LIMIT = 10
FREQUENCY_WINDOW = timedelta(hours=24)
# Auto-replies (HELP answers, STOP/START confirmations) per clock hour.
DEFAULT_AUTO_REPLY_HOURLY_LIMIT = 60
MAX_AUTO_REPLY_HOURLY_LIMIT = 10_000
# One HELP answer per number per day: repeated HELPs are recorded, not answered.
HELP_ANSWER_INTERVAL = timedelta(hours=24)
# The sender reserves the organization's day this many texts at a time (the unused go
# back at the end of its run; a crashed run leaks at most these): one conditional write
# per 50 texts on the sending path.
ORG_SLOT_BLOCK = 50
# A counter outlives its day in every zone (or its hour), then DynamoDB's TTL removes it.
DAY_COUNTER_TTL = timedelta(days=3)
HOUR_COUNTER_TTL = timedelta(days=1)


def org_day(instant: datetime, timezone: str) -> str:
    """The day ``instant`` counts against for ``daily_message_limit``: ``YYYY-MM-DD`` in
    the organization's ``timezone`` (an IANA name)."""
    return instant.astimezone(zone(timezone)).date().isoformat()


def auto_reply_hour(instant: datetime) -> str:
    """The clock hour (UTC, ``YYYY-MM-DDTHH``) an auto-reply counts against."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H")


def within_window(sent: Iterable[datetime], now: datetime) -> tuple[datetime, ...]:
    """The campaign texts of ``sent`` that still count at ``now``: those of the last
    :data:`FREQUENCY_WINDOW`, oldest first."""
    start = now - FREQUENCY_WINDOW
    return tuple(sorted(at for at in sent if at > start))


def next_text_allowed(sent: Iterable[datetime], now: datetime, limit: int) -> datetime | None:
    """When a number texted at ``sent`` may next get a campaign text under a
    ``contact_daily_limit`` of ``limit``: ``None`` if it may now, else the instant the
    oldest text that holds it back leaves the rolling window."""
    counted = within_window(sent, now)
    if len(counted) < limit:
        return None
    return counted[len(counted) - limit] + FREQUENCY_WINDOW


class BoundedCounters(Protocol):
    """Counters that never pass their limit: the DynamoDB implementation is
    :class:`outreach.data.counters.DynamoCounters`, the in-memory one the unit tests use
    is in ``tests/support/fakes/counters.py``; both are held to the same behaviour."""

    def reserve(self, key: str, *, limit: int, wanted: int, expires_at: datetime) -> int:
        """Add up to ``wanted`` to the counter ``key`` without passing ``limit``, atomically.

        Answers how many were added (``0``: the limit is reached). ``expires_at`` is
        when the counter may be forgotten (DynamoDB TTL).
        """
        ...

    def release(self, key: str, count: int) -> None:
        """Give back ``count`` reserved units nobody used (``count <= 0``: nothing)."""
        ...

    def value(self, key: str) -> int:
        """The counter's value, read consistently (``0`` when it does not exist)."""
        ...


@dataclass(frozen=True)
class OrganizationDay:
    """The organization's ``daily_message_limit`` per day of its zone, on its counter
    (:func:`~outreach.data.keys.org_daily_counter_key`): the sender takes slots of it a
    block at a time (:class:`outreach.sending.daily_cap.Slots`), each auto-reply one."""

    counters: BoundedCounters
    organization: Organization
    block: int = ORG_SLOT_BLOCK

    def day_of(self, now: datetime) -> str:
        """The day (``YYYY-MM-DD`` in the organization's zone) ``now`` counts against."""
        return org_day(now, self.organization.timezone)

    def reserve(self, day: str, *, wanted: int, now: datetime) -> int:
        """Take up to ``wanted`` of ``day``'s texts; how many were taken (0: none left)."""
        return self.counters.reserve(
            org_daily_counter_key(self.organization.id, day),
            limit=self.organization.daily_message_limit,
            wanted=wanted,
            expires_at=now + DAY_COUNTER_TTL,
        )

    def release(self, day: str, count: int) -> None:
        """Give back ``count`` unused texts of ``day``."""
        self.counters.release(org_daily_counter_key(self.organization.id, day), count)
