"""Inbound Lambda: texts and delivery events, SNS notifications via SQS. Wiring only; no FastAPI."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.config import get_settings
from outreach.inbound.service import get_inbound_service
from outreach.inbound.sqs import InboundTopics, handle_inbound_batch
from outreach.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=SQSEvent)
def handler(event: SQSEvent, context: LambdaContext) -> dict[str, Any]:
    """Handle every record; report the ones that failed (SQS delivers them again).

    Records are accepted only from the stack's own two topics (``InboundTopics``).
    """
    response, outcomes = handle_inbound_batch(
        event, context, get_inbound_service(), InboundTopics.from_settings(get_settings())
    )
    for outcome, count in outcomes.items():
        metrics.add_metric(name=f"Inbound_{outcome}", unit="Count", value=count)
    logger.info("inbound batch done", extra={"outcomes": dict(outcomes)})
    return response
