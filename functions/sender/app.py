"""Sender Lambda: the FIFO send queue, one campaign's tick per message. Wiring only; no FastAPI."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.observability import logger, metrics
from outreach.sending.send_queue import handle_send_batch
from outreach.sending.sender import get_sender_factory


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=SQSEvent)
def handler(event: SQSEvent, context: LambdaContext) -> dict[str, Any]:
    """Send for each campaign in the batch; report the messages that failed."""
    response, reports = handle_send_batch(event, context, get_sender_factory())
    logger.info(
        "send batch done",
        extra={
            "campaigns": len(reports),
            "sent": sum(r.sent for r in reports),
            "failed": len(response.get("batchItemFailures", [])),
        },
    )
    return response
