"""The scheduled dispatcher: find active campaigns with Queries and fan them out.

Source: ``sending-rules.md``, "Scale": the schedule fires every minute, due work
fans out one unit per campaign so thousands of campaigns are handled in
parallel, and no Scan is made in a tick path. Each tick Queries the sparse
``dispatch`` index of the campaigns table, one Query per shard, and puts one
:class:`CampaignWork` per active campaign on the work queue (in the cloud, the
FIFO send queue, whose producer :mod:`outreach.sending.work_queue` and its
``get_dispatcher()`` build the dispatcher the Lambda runs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from outreach.clock import Clock, to_iso
from outreach.data.models import DISPATCH_SHARDS

if TYPE_CHECKING:  # only types: the dispatcher function loads no sending domain
    from outreach.sending.ports import ActiveCampaigns, WorkQueue


@dataclass(frozen=True)
class CampaignWork:
    """One campaign to send for at one tick: the body of a send-queue message."""

    org_id: str
    campaign_id: str
    tick: datetime

    def to_message(self) -> str:
        """Serialize for the queue: ``{"org_id", "campaign_id", "tick"}`` as JSON."""
        return json.dumps(
            {"org_id": self.org_id, "campaign_id": self.campaign_id, "tick": to_iso(self.tick)}
        )

    @classmethod
    def from_message(cls, body: str) -> CampaignWork:
        """Parse a queue message body; raise ``ValueError`` (or ``KeyError``) when it is not one."""
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("a campaign work message is a JSON object")
        return cls(
            org_id=str(data["org_id"]),
            campaign_id=str(data["campaign_id"]),
            tick=parse_instant(str(data["tick"])),
        )

    @property
    def deduplication_id(self) -> str:
        """The same campaign in the same scheduled minute is the same work."""
        return f"{self.campaign_id}-{self.tick:%Y%m%dT%H%M}"


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant (``Z`` or an offset); naive means UTC."""
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def tick_instant(event: Mapping[str, Any], clock: Clock) -> datetime:
    """The instant a scheduler event (``{"scheduled_time": ...}``) stands for: its time, else now.

    Using the scheduled time (not the invocation time) makes a redelivered or
    retried tick produce the same deduplication ids as the first delivery.
    """
    scheduled = event.get("scheduled_time") if isinstance(event, Mapping) else None
    if isinstance(scheduled, str) and scheduled and not scheduled.startswith("<"):
        try:
            return parse_instant(scheduled)
        except ValueError:
            pass
    return clock.now()


@dataclass(frozen=True)
class DispatchResult:
    """What one tick did."""

    tick: datetime
    campaigns: int

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the handler's return value and log line)."""
        return {"tick": to_iso(self.tick), "campaigns": self.campaigns}


class Dispatcher:
    """Fans every active campaign out to the work queue."""

    def __init__(
        self,
        campaigns: ActiveCampaigns,
        queue: WorkQueue,
        *,
        shards: Iterable[int] = range(DISPATCH_SHARDS),
    ) -> None:
        self._campaigns = campaigns
        self._queue = queue
        self._shards = list(shards)

    def dispatch(self, tick: datetime) -> DispatchResult:
        """Queue one unit of work per active campaign for ``tick``.

        The shards are Queried in this thread: a keys-only page holds thousands of
        campaigns, and PynamoDB would give every extra thread a botocore session
        of its own to build (hundreds of milliseconds on a cold start).
        """
        works = [
            CampaignWork(org_id=org_id, campaign_id=campaign_id, tick=tick)
            for shard in self._shards
            for org_id, campaign_id in self._campaigns.in_shard(shard)
        ]
        self._queue.publish(works)
        return DispatchResult(tick=tick, campaigns=len(works))

    def dispatch_scheduled(self, event: Mapping[str, Any], clock: Clock) -> DispatchResult:
        """One scheduler event's tick (:func:`tick_instant`), dispatched."""
        return self.dispatch(tick_instant(event, clock))
