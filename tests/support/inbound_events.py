"""The inbound queue's events, as the tests build them: the samples of ``infra/events``
(SQS records whose bodies are the SNS notifications End User Messaging published),
changed field by field.

Used by ``tests/unit/test_inbound_service.py`` (on fakes) and
``tests/integration/test_inbound.py`` (on moto).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.config import get_settings
from outreach.inbound.service import get_inbound_service
from outreach.inbound.sqs import InboundTopics, handle_inbound_batch
from outreach_local.runtime import LocalLambdaContext, service_name, service_scope

EVENTS_DIR = Path(__file__).resolve().parents[2] / "infra/events"
TEXT_EVENT: dict[str, Any] = json.loads((EVENTS_DIR / "sqs-inbound-text.json").read_text())
RECEIPT_EVENT: dict[str, Any] = json.loads((EVENTS_DIR / "sqs-delivery-event.json").read_text())
# The organization's number in the samples (the text's destination, the receipt's origin).
SENDER = "+16175550100"


def envelope_of(event: dict[str, Any]) -> dict[str, Any]:
    """The SNS notification an SQS record carries (raw delivery is off)."""
    envelope: dict[str, Any] = json.loads(event["Records"][0]["body"])
    return envelope


TEXTS_TOPIC = str(envelope_of(TEXT_EVENT)["TopicArn"])
EVENTS_TOPIC = str(envelope_of(RECEIPT_EVENT)["TopicArn"])


def message_of(event: dict[str, Any]) -> str:
    """The published message (a JSON string) of the event's first record."""
    return str(envelope_of(event)["Message"])


def published(template: dict[str, Any], **fields: Any) -> str:
    """The template's published message with ``fields`` changed."""
    message = json.loads(message_of(template))
    message.update(fields)
    return json.dumps(message)


def with_envelope(template: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The event with the notification's fields changed, as a new SQS message."""
    event = copy.deepcopy(template)
    record = event["Records"][0]
    record["body"] = json.dumps({**envelope_of(event), **fields})
    record["messageId"] = str(uuid.uuid4())
    return event


def sns(template: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The event with the published message's fields changed."""
    return with_envelope(template, Message=published(template, **fields))


def batch(*events: dict[str, Any]) -> dict[str, Any]:
    """One SQS batch of every record of ``events``."""
    return {"Records": [record for event in events for record in event["Records"]]}


def text_event(
    body: str, *, sender: str, to: str = SENDER, message_id: str | None = None
) -> dict[str, Any]:
    """A text from ``sender`` to ``to``, with a fresh carrier message id unless given."""
    return sns(
        TEXT_EVENT,
        originationNumber=sender,
        destinationNumber=to,
        messageBody=body,
        inboundMessageId=message_id or f"in-{uuid.uuid4()}",
    )


def received_again(event: dict[str, Any]) -> dict[str, Any]:
    """The same SQS record received a second time (its batch failed after it was
    handled, or it was redriven from the dead-letter queue)."""
    again = copy.deepcopy(event)
    again["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"
    return again


def handled_by_inbound_function(
    event: dict[str, Any], context: LocalLambdaContext
) -> tuple[dict[str, Any], dict[str, int]]:
    """The partial-batch response and the outcomes of one batch, handled by the call the
    inbound function's handler makes (the service and topics it builds), under its
    service name."""
    with service_scope(service_name("inbound")):
        response, outcomes = handle_inbound_batch(
            SQSEvent(event),
            cast(LambdaContext, context),
            get_inbound_service(),
            InboundTopics.from_settings(get_settings()),
        )
    return response, dict(outcomes)


def failed_ids(response: dict[str, Any]) -> list[str]:
    """The SQS message ids a partial-batch response reports as failed."""
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def use_sample_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the function the sample events' topics as its own (template.yaml passes them)."""
    monkeypatch.setenv("INBOUND_TEXTS_TOPIC_ARN", TEXTS_TOPIC)
    monkeypatch.setenv("DELIVERY_EVENTS_TOPIC_ARN", EVENTS_TOPIC)
    get_settings.cache_clear()


def all_processed(
    handle: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, int]]],
    event: dict[str, Any],
) -> dict[str, int]:
    """The outcomes of one batch through ``handle``, which must have no failed record."""
    response, outcomes = handle(event)
    assert response == {"batchItemFailures": []}
    return dict(outcomes)
