"""The daily cap: a campaign sends at most ``daily_limit`` messages per calendar day.

Source: ``sending-rules.md``, "When a message may go out", rule 5 ("fewer than
``daily_limit`` messages on the current calendar day in the campaign's
timezone"), and "What is guaranteed", "The cap is exact" (no interleaving of
workers sends message ``daily_limit + 1``). The limit's default and maximum are
the API contract's (``api-contract.md``, ``POST /v1/campaigns``).

The cap's parts, each in one place:

- the day: :func:`cap_day`, the calendar day in the campaign's zone;
- the counter: one item per campaign and day (key
  :func:`outreach.data.keys.daily_counter_key`), moved only by the sending
  repository's conditional update (``reserve_slots``: ``ADD n`` if
  ``value <= limit - n``), so the cap is exact however many senders run;
- the slots a run holds: :class:`Slots`, reserved a few at a time and given
  back when unused;
- the read: :func:`sends_on`, for the sender's retry after a failed reserve
  and for the campaign's statistics.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from outreach.campaigns.domain import Campaign
from outreach.data.keys import daily_counter_key
from outreach.data.models import CounterModel
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

    Read consistently (a strongly consistent GetItem, one read unit instead of
    half of one): the sender reads it right after its conditional ``ADD`` failed
    and must see the write that failed it, or it would ask for slots that are
    gone; the statistics then show the count as of the read, never an older one.
    Slots a running sender holds but has not used yet are counted until it gives
    them back at the end of its run.
    """
    try:
        return int(
            CounterModel.get(
                daily_counter_key(org_id, campaign_id, day), consistent_read=True
            ).value
        )
    except DoesNotExist:
        return 0


class Slots:
    """The day's cap slots one sender run holds: reserved a few at a time, the rest given back.

    A slot is taken before a claim and kept only when a message may have gone
    (sent, or an unknown outcome); otherwise it is put back for the next
    message, and whatever is left returns to the day's counter at the end.
    """

    def __init__(self, counter: DayCounter, campaign: Campaign) -> None:
        self._counter = counter
        self._campaign = campaign
        self._day: str | None = None
        self._free = 0

    def take(self, now: datetime, *, wanted: int) -> bool:
        """Hold one slot of the day ``now`` falls on; ``False`` when that day's cap is used up.

        ``wanted``: how many more this run may send (at most :data:`SLOT_BLOCK`
        are reserved at once). A new day gives back the old day's slots first.
        """
        day = cap_day(now, self._campaign.timezone)
        if day != self._day:
            self.give_back()
            self._day = day
        if self._free == 0:
            self._free = self._counter.reserve_slots(
                self._campaign.org_id,
                self._campaign.id,
                day,
                limit=self._campaign.daily_limit,
                wanted=max(1, min(SLOT_BLOCK, wanted)),
                now=now,
            )
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
            self._counter.release_slots(
                self._campaign.org_id, self._campaign.id, self._day, self._free
            )
        self._free = 0
