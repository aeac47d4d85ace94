"""The send queue's producer: the dispatcher as the Dispatcher function runs it.

Kept apart from the queue's consumer (:mod:`outreach.sending.send_queue`, the sender
function's) so that the dispatcher, which runs every minute, loads only what it
needs: the ``dispatch`` index, the queue client and :mod:`outreach.sending.dispatch`,
not the sender, its rules and libphonenumber (issue 16: cold starts). One message is
one :class:`~outreach.sending.dispatch.CampaignWork`, grouped by organization and
deduplicated by campaign and scheduled minute (see :mod:`outreach.sending.send_queue`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING

from outreach import aws
from outreach.config import get_settings
from outreach.data.binding import ensure_models_bound
from outreach.data.models import CampaignModel
from outreach.sending.dispatch import CampaignWork, Dispatcher

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class ActiveCampaignRepository:
    """Reads the sparse ``dispatch`` index: the only way the engine finds work."""

    def in_shard(self, shard: int) -> Iterator[tuple[str, str]]:
        """Yield ``(org_id, campaign_id)`` of every active campaign in ``shard`` (one Query)."""
        for item in CampaignModel.dispatch.query(shard):
            yield item.org_id, item.campaign_id


SQS_BATCH_SIZE = 10  # SendMessageBatch's most entries per call


class SqsWorkQueue:
    """The FIFO send queue's producer. One boto3 client (thread-safe) serves every batch."""

    def __init__(
        self, queue_url: str, client: SQSClient | None = None, *, parallelism: int = 8
    ) -> None:
        self._queue_url = queue_url
        self._client = client or aws.client("sqs", region_name=get_settings().aws_region)
        self._parallelism = parallelism

    def publish(self, works: Sequence[CampaignWork]) -> None:
        """Enqueue every item of ``works``; ``RuntimeError`` if some still fail after retries."""
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


@lru_cache(maxsize=1)
def get_dispatcher() -> Dispatcher:
    """The process-wide dispatcher: the dispatch index, publishing to this queue.

    Built on first use from the settings (``RuntimeError`` when ``SEND_QUEUE_URL``
    is not set). It lives here rather than in :mod:`outreach.sending.dispatch`
    because the queue's consumer needs that module's ``CampaignWork``.
    """
    queue_url = get_settings().send_queue_url
    if not queue_url:
        raise RuntimeError("SEND_QUEUE_URL is not set")
    ensure_models_bound()
    return Dispatcher(ActiveCampaignRepository(), SqsWorkQueue(queue_url))
