"""Inbound Lambda: texts and delivery events, SNS notifications via SQS. Wiring only; no FastAPI."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.config import get_settings
from outreach.inbound.service import get_inbound_service
from outreach.inbound.sqs import InboundTopics, handle_inbound_batch
from outreach.observability import logger, metrics, tracer


def handle(event: dict[str, Any], context: LambdaContext) -> tuple[dict[str, Any], Counter[str]]:
    """The batch's partial response and its outcomes (accepted only from the stack's topics)."""
    topics = InboundTopics.from_settings(get_settings())
    return handle_inbound_batch(event, context, get_inbound_service(), topics)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)  # no bodies in traces
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Handle every record; report the ones that failed (SQS delivers them again)."""
    response, outcomes = handle(event, context)
    for outcome, count in outcomes.items():
        metrics.add_metric(name=f"Inbound_{outcome}", unit="Count", value=count)
    logger.info("inbound batch done", extra={"outcomes": dict(outcomes)})
    return response
