"""The webhooks function's two event sources, each a Powertools batch whose failed
records alone are retried: the tables' streams (facts become events, fanned out) and the
work queue (fan-outs and delivery attempts)."""

from __future__ import annotations

import json
from functools import lru_cache, partial
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.clock import SystemClock
from outreach.config import get_settings
from outreach.data.binding import ensure_models_bound
from outreach.webhooks import http
from outreach.webhooks.addresses import destination
from outreach.webhooks.facts import events_of, stream_record
from outreach.webhooks.queue import configured_queue
from outreach.webhooks.repository import WebhookRepository
from outreach.webhooks.worker import DeliveryWorker


@lru_cache(maxsize=1)
def get_worker() -> DeliveryWorker:
    """The process's worker: DynamoDB, the work queue of ``WEBHOOK_QUEUE_URL``, the real
    clock, addresses checked as ``WEBHOOK_ALLOW_LOOPBACK`` allows."""
    ensure_models_bound()
    settings = get_settings()
    return DeliveryWorker(
        store=WebhookRepository(),
        queue=configured_queue(),
        resolve=partial(destination, allow_loopback=settings.webhook_allow_loopback),
        post=http.post,
        clock=SystemClock(),
    )


def handle_stream_batch(
    event: dict[str, Any], context: LambdaContext, worker: DeliveryWorker
) -> dict[str, Any]:
    """Fan out every event a stream batch's records tell."""

    def record_handler(record: DynamoDBRecord) -> None:
        for fact in events_of(stream_record(record)):
            worker.fan_out(fact)

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )


def handle_queue_batch(
    event: dict[str, Any], context: LambdaContext, worker: DeliveryWorker
) -> dict[str, Any]:
    """Run every work message of an SQS batch."""

    def record_handler(record: SQSRecord) -> None:
        worker.handle(json.loads(record.body))

    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )


def is_stream_batch(event: dict[str, Any]) -> bool:
    """Whether Lambda's event is a DynamoDB stream batch (else an SQS one)."""
    records = event.get("Records") or []
    return bool(records) and records[0].get("eventSource") == "aws:dynamodb"
