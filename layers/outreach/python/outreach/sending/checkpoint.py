"""Send checkpoints: the campaign's status and the opt-outs, read consistently before sends.

Source: ``sending-rules.md``: rule 4 (not on the opt-out list "at the moment of
sending") and "Pause means pause" (no message leaves after ``pause`` or
``cancel`` returns). Rather than two reads per message, the sender reads both
once per :data:`~outreach.campaigns.domain.SEND_DEADLINE_SECONDS` and starts
each provider call within that deadline of a read that showed the campaign
active and the number not opted out; ``pause`` and ``cancel`` wait the same
deadline after their write, so no message leaves after they return.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from outreach.campaigns.domain import SEND_DEADLINE_SECONDS, Campaign
from outreach.campaigns.statuses import CampaignStatus
from outreach.clock import Clock
from outreach.contacts.ports import OptOutList
from outreach.sending.domain import Candidate
from outreach.sending.ports import CampaignStatusSource

# Reads of the status and opt-outs tried before a recipient is given back for now.
CHECK_ATTEMPTS = 3
# An opt-out list up to this long is read whole at each checkpoint: a read or two
# of a few kilobytes costs less than a read per number of a page.
OPT_OUT_LIST_AT_MOST = 200


class Checkpoint:
    """The campaign's status and the opt-outs, read consistently at one moment.

    Valid for provider calls that start less than the send deadline after the
    read, on the sender's clock and on the real one (simulated clocks move only
    when told to), and only for the numbers it covers.
    """

    def __init__(
        self,
        clock: Clock,
        status: CampaignStatus | None,
        opted_out: set[str],
        covered: set[str] | None,
    ) -> None:
        self._clock = clock
        self._read_at = (clock.monotonic(), time.monotonic())
        self.status = status
        self.opted_out = opted_out
        self._covered = covered  # None: the whole list

    def valid_for(self, phone: str) -> bool:
        """Whether a send to ``phone`` starting now may rely on this read."""
        elapsed = max(
            self._clock.monotonic() - self._read_at[0], time.monotonic() - self._read_at[1]
        )
        fresh = elapsed < SEND_DEADLINE_SECONDS
        return fresh and (self._covered is None or phone in self._covered)


@dataclass(frozen=True)
class Upcoming:
    """A page's candidates from ``position`` on: whose opt-outs a by-number read covers."""

    ready: list[Candidate]
    position: int

    def phones(self) -> set[str]:
        """The numbers still to be tried on the page, the current one included."""
        return {c.phone for c in self.ready[self.position :]}


class Checkpoints:
    """One sender's checkpoints: the last read, reused while valid, else read again.

    Kept for the sender's life (one organization's work in one invocation); the
    opt-out list is org-wide, and a status read is only ever trusted within the
    deadline, after the run's own consistent read showed its campaign active.
    """

    def __init__(self, statuses: CampaignStatusSource, opt_outs: OptOutList, clock: Clock) -> None:
        self._statuses = statuses
        self._opt_outs = opt_outs
        self._clock = clock
        self._last: Checkpoint | None = None
        self._big_opt_out_list = False

    def for_send(self, campaign: Campaign, phone: str, upcoming: Upcoming) -> Checkpoint | None:
        """A checkpoint valid for a send to ``phone`` now: the last one, or a fresh read.

        ``None`` when :data:`CHECK_ATTEMPTS` reads each went stale before use
        (a stalled read is read again, never trusted).
        """
        for _ in range(CHECK_ATTEMPTS):
            if self._last is not None and self._last.valid_for(phone):
                return self._last
            self._last = self._read(campaign, upcoming)
        if self._last is not None and self._last.valid_for(phone):
            return self._last
        return None

    def _read(self, campaign: Campaign, upcoming: Upcoming) -> Checkpoint:
        """Read the status, then the opt-outs: the whole list when small, else the page's."""
        status = self._statuses.campaign_status(campaign.org_id, campaign.id)
        whole = None
        if not self._big_opt_out_list:
            whole = self._opt_outs.whole_list(campaign.org_id, at_most=OPT_OUT_LIST_AT_MOST)
            self._big_opt_out_list = whole is None
        if whole is not None:
            return Checkpoint(self._clock, status, whole, None)
        covered = upcoming.phones()
        opted_out = self._opt_outs.opted_out_among(campaign.org_id, covered)
        return Checkpoint(self._clock, status, opted_out, covered)
