"""Webhooks Lambda: the tables' streams in, signed deliveries out. Wiring only; no FastAPI."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.observability import logger, metrics
from outreach.webhooks.runner import (
    get_worker,
    handle_queue_batch,
    handle_stream_batch,
    is_stream_batch,
)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A stream batch fans its facts out; a queue batch runs fan-outs and attempts. Failed
    records are reported (``ReportBatchItemFailures``): only they are retried."""
    if is_stream_batch(event):
        return handle_stream_batch(event, context, get_worker())
    return handle_queue_batch(event, context, get_worker())
