"""Scheduler ticks, locally, through the cloud's own code paths.

Two kinds of tick:

* :func:`run_tick` is the schedule's: the dispatcher's Lambda handler fans
  every active campaign out to the (embedded) SQS FIFO queue, and the queue is
  drained into the sender's batch code as the SQS event source would, one
  organization (message group) at a time. The background ticker runs it on
  the real clock.
* :func:`run_organization_tick` is ``POST /v1/dev/tick``'s: the same
  dispatcher and the same batch code, for the caller's organization only, on
  that organization's simulated timeline (:mod:`outreach_local.timelines`).
  Its work goes straight from the dispatcher to the sender as one SQS-shaped
  batch, so another organization's queued work is never sent at this
  organization's chosen instant.

Either way one organization's sends are serial, as its FIFO message group
makes them in the cloud, and the statistics are current when the tick returns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import boto3
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.clock import Clock, SimulatedClock, to_iso
from outreach.config import get_settings
from outreach.sending.dispatch import CampaignWork, Dispatcher
from outreach.sending.send_queue import handle_send_batch
from outreach.sending.sender import SenderFactory, SendReport
from outreach.sending.work_queue import ActiveCampaignRepository
from outreach_local.runtime import LocalLambdaContext, load_function, service_name, service_scope
from outreach_local.streams import get_stats_pump
from outreach_local.timelines import OrganizationTimelines

SQS_ARN_PREFIX = "arn:aws:sqs:us-east-1:000000000000:"


@dataclass
class TickResult:
    now: datetime
    campaigns: int = 0
    reports: list[SendReport] = field(default_factory=list)

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
            "state_rule_deferred": total("state_rule_deferred"),
            "completed": total("completed"),
            "cap_reached": total("cap_reached"),
        }


@lru_cache(maxsize=1)
def get_timelines() -> OrganizationTimelines:
    """The process's organization timelines (shared by ticks and the dev routes)."""
    return OrganizationTimelines()


def run_tick(now: datetime, *, clock: Clock | None = None) -> TickResult:
    """The schedule's tick at ``now`` for every organization: dispatch, then drain the queue.

    Sends run on ``clock`` (default: a simulated clock starting at ``now``).
    """
    context = LocalLambdaContext(function_name="dispatcher")
    event = {"scheduled_time": to_iso(now), "execution_id": f"local-{now:%Y%m%dT%H%M%S%f}"}
    with service_scope(service_name("dispatcher")):
        dispatched = load_function("dispatcher").handler(event, context)
    result = TickResult(now=now, campaigns=int(dispatched["campaigns"]))
    queue_url = get_settings().send_queue_url
    if not queue_url:
        return result
    try:
        _send_queued(result, queue_url, clock or SimulatedClock(now))
    finally:
        _drain_stats()
    return result


def run_organization_tick(org_id: str, now: datetime) -> TickResult:
    """``POST /v1/dev/tick``: one tick at ``now`` for ``org_id`` only, on its timeline.

    The statistics are brought up to date by the local app after the request, as
    after every write request (``outreach_local.server.build_app``).
    """
    queue = _CollectingQueue()
    with service_scope(service_name("dispatcher")):
        dispatched = Dispatcher(_OneOrganization(org_id), queue).dispatch(now)
    result = TickResult(now=now, campaigns=dispatched.campaigns)
    if not queue.works:
        get_timelines().run(org_id, now, lambda _clock: None)
        return result
    records = [_record(work, index) for index, work in enumerate(queue.works)]
    get_timelines().run(
        org_id, now, lambda clock: _send_batch(result, records, SenderFactory(clock=clock))
    )
    return result


def _drain_stats() -> None:
    with service_scope(service_name("stats")):
        get_stats_pump().drain()


class _OneOrganization(ActiveCampaignRepository):
    """The dispatch index's active campaigns of one organization."""

    def __init__(self, org_id: str) -> None:
        super().__init__()
        self._org_id = org_id

    def in_shard(self, shard: int) -> Iterator[tuple[str, str]]:
        for org_id, campaign_id in super().in_shard(shard):
            if org_id == self._org_id:
                yield org_id, campaign_id


@dataclass
class _CollectingQueue:
    """A work queue that keeps what the dispatcher publishes."""

    works: list[CampaignWork] = field(default_factory=list)

    def publish(self, works: Sequence[CampaignWork]) -> None:
        self.works.extend(works)


def _record(work: CampaignWork, index: int) -> dict[str, Any]:
    """The SQS record the FIFO queue would deliver for ``work``."""
    return {
        "messageId": f"local-{work.deduplication_id}-{index}",
        "receiptHandle": f"local-{index}",
        "body": work.to_message(),
        "attributes": {
            "MessageGroupId": work.org_id,
            "MessageDeduplicationId": work.deduplication_id,
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"{SQS_ARN_PREFIX}local-send.fifo",
        "awsRegion": "us-east-1",
    }


def _send_batch(
    result: TickResult, records: list[dict[str, Any]], factory: SenderFactory
) -> set[str]:
    """Run one SQS-shaped batch through the sender's batch code; return the failed ids."""
    with service_scope(service_name("sender")):
        response, reports = handle_send_batch(
            SQSEvent({"Records": records}),
            cast(LambdaContext, LocalLambdaContext(function_name="sender")),
            factory,
        )
    result.reports.extend(reports)
    return {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}


def _send_queued(result: TickResult, queue_url: str, clock: Clock) -> None:
    """Send every queued unit of work, one organization at a time, each serialised with that
    organization's other ticks; a failed message stays for SQS to redeliver."""
    sqs = boto3.client("sqs", region_name=get_settings().aws_region)
    arn = SQS_ARN_PREFIX + queue_url.rsplit("/", 1)[-1]
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in messages:
            groups[message.get("Attributes", {}).get("MessageGroupId", "")].append(
                _received_record(message, arn)
            )
        failed: set[str] = set()
        for org_id, records in groups.items():
            with get_timelines().serialised(org_id):
                failed |= _send_batch(result, records, SenderFactory(clock=clock))
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if failed:
            # Left for SQS to redeliver after its visibility timeout, as in the cloud.
            return


def _received_record(message: Any, arn: str) -> dict[str, Any]:
    return {
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
