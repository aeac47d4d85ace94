"""The daily cap: a campaign sends at most ``daily_limit`` messages per calendar day.

Source: ``sending-rules.md``, "When a message may go out", rule 5 ("fewer than
``daily_limit`` messages on the current calendar day in the campaign's
timezone"), and "What is guaranteed", "The cap is exact" (no interleaving of
workers sends message ``daily_limit + 1``). The limit's default and maximum are
the API contract's (``api-contract.md``, ``POST /v1/campaigns``).

The cap's parts, each in one place:

- the day: :func:`cap_day`, the calendar day in the campaign's zone;
- the counter: one item per campaign and day (key
  :func:`outreach.data.keys.daily_counter_key`), moved only by the bounded
  counters' conditional update (:mod:`outreach.data.counters`: ``ADD n`` if
  ``value <= limit - n``), so the cap is exact however many senders run;
- the slots a run holds: :class:`Slots`, reserved a few at a time and given
  back when unused; the same holder takes the organization's slots of its
  ``daily_message_limit`` (:class:`outreach.spend.OrganizationDay`);
- the read: :func:`sends_on`, for the campaign's statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from outreach.campaigns.domain import Campaign
from outreach.data.counters import DynamoCounters
from outreach.data.keys import daily_counter_key
from outreach.sending.ports import DayCounter
from outreach.timezones import zone

# A new campaign's limit when the request names none, and the most a campaign may
# have: the contract's default and maximum (api-contract.md, POST /v1/campaigns).
DEFAULT_DAILY_LIMIT = 125
MAX_DAILY_LIMIT = 125
# Slots are reserved this many at a time: a crashed run leaks at most these (the
# day then sends a few fewer, never one more).
SLOT_BLOCK = 10


def cap_day(instant: datetime, timezone: str) -> str:
    """The day ``instant`` counts against: ``YYYY-MM-DD`` in the campaign's ``timezone``."""
    return instant.astimezone(zone(timezone)).date().isoformat()


def sends_on(org_id: str, campaign_id: str, day: str) -> int:
    """The slots taken of the campaign's cap on ``day`` (``YYYY-MM-DD``): its sends that day.

    The counter's consistent read (:meth:`~outreach.data.counters.DynamoCounters.value`,
    which the reserve also uses after a failed ``ADD``), so the statistics show the count
    as of the read, never an older one. Slots a running sender holds but has not used
    yet are counted until it gives them back at the end of its run.
    """
    return DynamoCounters().value(daily_counter_key(org_id, campaign_id, day))


class DayBudget(Protocol):
    """A per-day limit a run takes slots of: a campaign's ``daily_limit`` or an
    organization's ``daily_message_limit``; ``block``: the most reserved at once."""

    @property
    def block(self) -> int: ...

    def day_of(self, now: datetime) -> str:
        """The day (``YYYY-MM-DD``) ``now`` counts against."""
        ...

    def reserve(self, day: str, *, wanted: int, now: datetime) -> int:
        """Take up to ``wanted`` of ``day``'s slots; how many were taken (0: none left)."""
        ...

    def release(self, day: str, count: int) -> None:
        """Give back ``count`` unused slots of ``day``."""
        ...


@dataclass(frozen=True)
class CampaignDay:
    """The campaign's cap: ``daily_limit`` per day of the campaign's zone."""

    counter: DayCounter
    campaign: Campaign
    block: int = SLOT_BLOCK

    def day_of(self, now: datetime) -> str:
        return cap_day(now, self.campaign.timezone)

    def reserve(self, day: str, *, wanted: int, now: datetime) -> int:
        campaign = self.campaign
        return self.counter.reserve_slots(
            campaign.org_id, campaign.id, day, limit=campaign.daily_limit, wanted=wanted, now=now
        )

    def release(self, day: str, count: int) -> None:
        self.counter.release_slots(self.campaign.org_id, self.campaign.id, day, count)


class Slots:
    """The slots of one day budget a sender run holds: reserved a few at a time, the rest
    given back.

    A slot is taken before a claim and kept only when a message may have gone
    (sent, or an unknown outcome); otherwise it is put back for the next
    message, and whatever is left returns to the day's counter at the end.
    """

    def __init__(self, budget: DayBudget) -> None:
        self._budget = budget
        self._day: str | None = None
        self._free = 0

    def take(self, now: datetime, *, wanted: int) -> bool:
        """Hold one slot of the day ``now`` falls on; ``False`` when that day's limit is used up.

        ``wanted``: how many more this run may send (at most the budget's ``block``
        are reserved at once). A new day gives back the old day's slots first.
        """
        day = self._budget.day_of(now)
        if day != self._day:
            self.give_back()
            self._day = day
        if self._free == 0:
            asked = max(1, min(self._budget.block, wanted))
            self._free = self._budget.reserve(day, wanted=asked, now=now)
            if self._free == 0:
                return False
        self._free -= 1
        return True

    def put_back(self) -> None:
        """A held slot was not used (nothing was sent): keep it for the next message."""
        self._free += 1

    def give_back(self) -> None:
        """Return the unused slots to the day's counter (at the end of the run)."""
        if self._day is not None and self._free:
            self._budget.release(self._day, self._free)
        self._free = 0
