"""The inbound queue's consumer: SNS notifications (texts, delivery events) delivered by SQS.

Both SMS topics deliver to one standard queue with raw delivery off, so each
record's body is the SNS envelope and keeps its ``TopicArn``. Only notifications
from the stack's own two topics are acted on; anything else fails its record,
so it is retried and then kept in the dead-letter queue (and alarmed on)
rather than dropped or trusted. Powertools' batch processor handles each record
on its own and reports the failed ones (``ReportBatchItemFailures``): SQS
delivers only those again. Handling is idempotent (a text by its carrier
message id, a receipt by status order), so a redelivered or redriven record
changes nothing twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.data_classes.sns_event import SNSMessage
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.config import Settings
from outreach.inbound.domain import DeliveryReceipt, InboundText
from outreach.inbound.events import parse_sns_message
from outreach.inbound.service import InboundService
from outreach.observability import logger

IGNORED = "ignored"
FAILED = "failed"


class ForeignRecord(Exception):
    """A record that is not an SNS notification from one of the stack's own topics."""


@dataclass(frozen=True)
class InboundTopics:
    """The ARNs of the two topics the inbound queue is subscribed to (``None``: not
    configured, and then no notification is accepted)."""

    texts: str | None
    delivery_events: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> InboundTopics:
        """The topics template.yaml gives the function (``INBOUND_TEXTS_TOPIC_ARN``,
        ``DELIVERY_EVENTS_TOPIC_ARN``)."""
        return cls(settings.inbound_texts_topic_arn, settings.delivery_events_topic_arn)


def notification_of(record: SQSRecord, topics: InboundTopics) -> SNSMessage:
    """The record's SNS notification, if it is one of ``topics``; else :class:`ForeignRecord`."""
    try:
        notification = record.decoded_nested_sns_event
        kind, topic_arn, message = (
            notification.get("Type"),
            notification.get("TopicArn"),
            notification.get("Message"),
        )
    except (TypeError, ValueError, AttributeError) as error:
        raise ForeignRecord("the record's body is not an SNS notification") from error
    if kind != "Notification" or not isinstance(message, str):
        raise ForeignRecord(f"not an SNS notification (Type={kind!r})")
    if not topic_arn or topic_arn not in (topics.texts, topics.delivery_events):
        raise ForeignRecord(f"a notification from a topic not the stack's own: {topic_arn!r}")
    return notification


def handle_record(record: SQSRecord, service: InboundService, topics: InboundTopics) -> str:
    """Act on one record; answer its outcome (``ignored`` for a message of no use)."""
    notification = notification_of(record, topics)
    parsed = parse_sns_message(notification.message)
    # Each topic carries one kind: a receipt on the texts topic (or the reverse) is ignored.
    if notification.topic_arn == topics.texts:
        if not isinstance(parsed, InboundText):
            return IGNORED
        return service.handle_text(parsed).value
    if not isinstance(parsed, DeliveryReceipt):
        return IGNORED
    return service.handle_receipt(parsed).value


def handle_inbound_batch(
    event: SQSEvent,
    context: LambdaContext,
    service: InboundService,
    topics: InboundTopics,
) -> tuple[dict[str, Any], Counter[str]]:
    """Handle every record; answer the partial-batch response and the outcomes counted.

    The response is ``{"batchItemFailures": [{"itemIdentifier": <SQS message id>}, ...]}``;
    the counter counts each record's :class:`~outreach.inbound.domain.Outcome` value,
    ``ignored`` or ``failed``. When every record fails, Powertools raises
    ``BatchProcessingError`` (the invocation fails and SQS delivers the whole batch
    again), as Lambda's partial batch response expects.
    """
    outcomes: Counter[str] = Counter()

    def run_record(record: SQSRecord) -> None:
        try:
            outcomes[handle_record(record, service, topics)] += 1
        except ForeignRecord as error:
            outcomes[FAILED] += 1
            logger.error(
                "inbound record refused", extra={"message_id": record.message_id, "why": str(error)}
            )
            raise
        except Exception:
            outcomes[FAILED] += 1
            logger.exception("inbound record failed", extra={"message_id": record.message_id})
            raise

    response = process_partial_response(
        event=event.raw_event,
        record_handler=run_record,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
    return dict(response), outcomes
