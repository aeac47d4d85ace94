"""One scheduler tick, locally, through the cloud's own code paths.

The dispatcher's Lambda handler fans active campaigns out to the (embedded)
SQS queue; the queue is then drained into the sender's batch code, as the
SQS event source would, with the tick's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.clock import Clock, SimulatedClock, to_iso
from outreach.config import get_settings
from outreach.sending.sender import SenderFactory, SendReport
from outreach.sending.sqs import handle_send_batch
from outreach_local.runtime import LocalLambdaContext, load_function
from outreach_local.streams import StatsPump


@dataclass
class TickResult:
    now: datetime
    campaigns: int = 0
    reports: list[SendReport] = field(default_factory=list)
    failed_messages: int = 0

    def as_dict(self) -> dict[str, Any]:
        def total(name: str) -> int:
            return sum(int(getattr(report, name)) for report in self.reports)

        return {
            "now": to_iso(self.now),
            "campaigns": self.campaigns,
            "sent": total("sent"),
            "skipped": total("skipped"),
            "failed": total("failed"),
            "unknown": total("unknown"),
            "retried": total("retried"),
            "quiet_hours_deferred": total("quiet_hours_deferred"),
            "completed": total("completed"),
            "cap_reached": total("cap_reached"),
        }


def _sqs_event(messages: Sequence[Any], queue_url: str) -> dict[str, Any]:
    arn = "arn:aws:sqs:us-east-1:000000000000:" + queue_url.rsplit("/", 1)[-1]
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


def run_tick(now: datetime, *, clock: Clock | None = None) -> TickResult:
    """Dispatch at ``now``, then send every queued unit of work, synchronously."""
    context = LocalLambdaContext(function_name="dispatcher")
    event = {"scheduled_time": to_iso(now), "execution_id": f"local-{now:%Y%m%dT%H%M%S%f}"}
    dispatched = load_function("dispatcher").handler(event, context)
    result = TickResult(now=now, campaigns=int(dispatched["campaigns"]))
    queue_url = get_settings().send_queue_url
    if not queue_url:
        return result
    try:
        _send_queued(result, queue_url, SenderFactory(clock=clock or SimulatedClock(now)))
    finally:
        StatsPump().drain()  # the statistics are current when the tick returns
    return result


def _send_queued(result: TickResult, queue_url: str, factory: SenderFactory) -> None:
    """Send every queued unit of work; a failed one stays for SQS to redeliver."""
    sqs = boto3.client("sqs", region_name=get_settings().aws_region)
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return
        response, reports = handle_send_batch(
            _sqs_event(messages, queue_url),
            cast(LambdaContext, LocalLambdaContext(function_name="sender")),
            factory,
        )
        result.reports.extend(reports)
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        result.failed_messages += len(failed)
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if failed:
            # Left for SQS to redeliver after its visibility timeout, as in the cloud.
            return
