"""The scheduled dispatcher: find active campaigns with Queries and fan them out.

Each tick Queries the sparse ``dispatch`` index of the campaigns table, one
Query per shard (never a Scan), and puts one message per active campaign on the
FIFO send queue. Messages are grouped by organization, so one sender number's
sends are serial, and deduplicated by campaign and scheduled minute, so a tick
the scheduler delivers twice fans out once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from outreach.clock import Clock, to_iso
from outreach.config import get_settings
from outreach.data.binding import ensure_models_bound
from outreach.data.models import DISPATCH_SHARDS, CampaignModel

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_BATCH_SIZE = 10


@dataclass(frozen=True)
class CampaignWork:
    """One campaign to send for at one tick: the body of a send-queue message."""

    org_id: str
    campaign_id: str
    tick: datetime

    def to_message(self) -> str:
        """Serialize for the queue."""
        return json.dumps(
            {"org_id": self.org_id, "campaign_id": self.campaign_id, "tick": to_iso(self.tick)}
        )

    @classmethod
    def from_message(cls, body: str) -> CampaignWork:
        """Parse a queue message body; raise ``ValueError`` when it is not one."""
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


def tick_instant(event: dict[str, Any], clock: Clock) -> datetime:
    """The instant a scheduler event stands for: its scheduled time, else now.

    Using the scheduled time (not the invocation time) makes a redelivered or
    retried tick produce the same deduplication ids as the first delivery.
    """
    scheduled = event.get("scheduled_time") if isinstance(event, dict) else None
    if isinstance(scheduled, str) and scheduled and not scheduled.startswith("<"):
        try:
            return parse_instant(scheduled)
        except ValueError:
            pass
    return clock.now()


class ActiveCampaignRepository:
    """Reads the sparse ``dispatch`` index: the only way the engine finds work."""

    def __init__(self) -> None:
        ensure_models_bound()

    def in_shard(self, shard: int) -> Iterator[tuple[str, str]]:
        """Yield ``(org_id, campaign_id)`` of every active campaign in ``shard``."""
        for item in CampaignModel.dispatch.query(shard):
            yield item.org_id, item.campaign_id


class WorkQueue(Protocol):
    """Where dispatched work goes."""

    def publish(self, works: Sequence[CampaignWork]) -> None:
        """Enqueue every item of ``works`` or raise."""
        ...


class SqsWorkQueue:
    """The FIFO send queue. One boto3 client (thread-safe) serves every batch."""

    def __init__(
        self, queue_url: str, client: SQSClient | None = None, *, parallelism: int = 8
    ) -> None:
        self._queue_url = queue_url
        self._client = client or boto3.client("sqs", region_name=get_settings().aws_region)
        self._parallelism = parallelism

    def publish(self, works: Sequence[CampaignWork]) -> None:
        batches = [works[i : i + SQS_BATCH_SIZE] for i in range(0, len(works), SQS_BATCH_SIZE)]
        if len(batches) <= 1:
            for batch in batches:
                self._send_batch(batch)
            return
        # Thousands of campaigns mean hundreds of batch calls: send them concurrently.
        with ThreadPoolExecutor(max_workers=self._parallelism) as pool:
            for _ in pool.map(self._send_batch, batches):
                pass

    def _send_batch(self, batch: Sequence[CampaignWork], attempts: int = 3) -> None:
        pending = {str(index): work for index, work in enumerate(batch)}
        for _ in range(attempts):
            response = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {
                        "Id": entry_id,
                        "MessageBody": work.to_message(),
                        "MessageGroupId": work.org_id,
                        "MessageDeduplicationId": work.deduplication_id,
                    }
                    for entry_id, work in pending.items()
                ],
            )
            failed = {entry["Id"] for entry in response.get("Failed", [])}
            pending = {entry_id: pending[entry_id] for entry_id in failed}
            if not pending:
                return
        raise RuntimeError(f"{len(pending)} campaign messages could not be queued")


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
        campaigns: ActiveCampaignRepository,
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


@lru_cache(maxsize=1)
def get_dispatcher() -> Dispatcher:
    """The process-wide dispatcher, built on first use from the settings."""
    queue_url = get_settings().send_queue_url
    if not queue_url:
        raise RuntimeError("SEND_QUEUE_URL is not set")
    return Dispatcher(ActiveCampaignRepository(), SqsWorkQueue(queue_url))
