"""Inbound Lambda: two-way texts and delivery events from SNS. Wiring only; no FastAPI."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.inbound.events import parse_sns_message
from outreach.inbound.service import InboundText, get_inbound_service
from outreach.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Handle every SNS record; unknown numbers and message ids are logged and dropped."""
    service = get_inbound_service()
    outcomes: Counter[str] = Counter()
    for record in event.get("Records", []):
        parsed = parse_sns_message(record.get("Sns", {}).get("Message", ""))
        if parsed is None:
            outcomes["ignored"] += 1
            continue
        if isinstance(parsed, InboundText):
            outcomes[service.handle_text(parsed).value] += 1
        else:
            outcomes[service.handle_receipt(parsed).value] += 1
    for outcome, count in outcomes.items():
        metrics.add_metric(name=f"Inbound_{outcome}", unit="Count", value=count)
    return dict(outcomes)
