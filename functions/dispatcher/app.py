"""Dispatcher Lambda: EventBridge Scheduler, every minute. Wiring only; no FastAPI.

The scheduler's event is the template's own ``Input`` (``{"scheduled_time",
"execution_id"}``), not an EventBridge event, so it is read as the plain JSON
object it is.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.clock import SystemClock
from outreach.observability import logger, metrics
from outreach.sending.work_queue import get_dispatcher


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Fan the active campaigns of this tick out to the send queue."""
    result = get_dispatcher().dispatch_scheduled(event, SystemClock())
    summary = result.as_dict()
    metrics.add_metric(name="CampaignsDispatched", unit="Count", value=result.campaigns)
    logger.info("tick dispatched", extra=summary)
    return summary
