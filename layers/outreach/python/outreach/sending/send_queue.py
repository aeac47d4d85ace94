"""The FIFO send queue, both ends: the dispatcher's producer and the sender's consumer.

One message is one :class:`~outreach.sending.dispatch.CampaignWork` (its body is
``CampaignWork.to_message()``), put by the dispatcher that :func:`get_dispatcher`
wires to this queue. Messages are grouped by organization, so one
sender number's sends are serial, and deduplicated by campaign and scheduled
minute, so a tick the scheduler delivers twice fans out once.

The consumer is Powertools' FIFO processor: at a message's failure it reports
it and every later message of the same message group as failed
(``ReportBatchItemFailures``, ``skip_group_on_error``), so that one
organization's work stays in order and is retried by SQS (then dead-lettered
after three receives), while the other organizations' work in the batch runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.config import get_settings
from outreach.data.binding import ensure_models_bound
from outreach.observability import logger, metrics
from outreach.sending.dispatch import CampaignWork, Dispatcher
from outreach.sending.repository import ActiveCampaignRepository
from outreach.sending.sender import CampaignSender, SenderFactory, SendReport

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_BATCH_SIZE = 10  # SendMessageBatch's most entries per call


class SqsWorkQueue:
    """The FIFO send queue's producer. One boto3 client (thread-safe) serves every batch."""

    def __init__(
        self, queue_url: str, client: SQSClient | None = None, *, parallelism: int = 8
    ) -> None:
        self._queue_url = queue_url
        self._client = client or boto3.client("sqs", region_name=get_settings().aws_region)
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


def handle_send_batch(
    event: SQSEvent, context: LambdaContext, factory: SenderFactory
) -> tuple[dict[str, Any], list[SendReport]]:
    """Run every message's campaign work; answer the partial-batch response and the reports.

    A message that is not campaign work (or whose run raises) fails with the rest
    of its message group; Powertools raises ``BatchProcessingError`` when every
    message failed, so that SQS retries the whole batch.
    """
    reports: list[SendReport] = []
    senders: dict[str, CampaignSender] = {}

    def run_record(record: SQSRecord) -> None:
        work = CampaignWork.from_message(record.body)
        # One sender per organization, so its pacing spans the org's campaigns.
        sender = senders.get(work.org_id)
        if sender is None:
            sender = senders[work.org_id] = factory()
        report = sender.run(work, time_left=lambda: context.get_remaining_time_in_millis() / 1000)
        reports.append(report)
        logger.info(
            "campaign tick",
            extra={
                "org_id": report.org_id,
                "campaign_id": report.campaign_id,
                "stopped": report.stopped,
                **report.as_dict(),
            },
        )
        for name, value in (
            ("MessagesSent", report.sent),
            ("MessagesFailed", report.failed),
            ("MessagesSkipped", report.skipped),
            ("MessagesUnknown", report.unknown),
            ("QuietHoursDeferrals", report.quiet_hours_deferred),
            ("StateRuleDeferrals", report.state_rule_deferred),
            ("DailyCapReached", int(report.cap_reached)),
        ):
            if value:
                metrics.add_metric(name=name, unit="Count", value=value)

    response = process_partial_response(
        event=event.raw_event,
        record_handler=run_record,
        processor=SqsFifoPartialProcessor(skip_group_on_error=True),
        context=context,
    )
    return dict(response), reports
