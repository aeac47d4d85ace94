"""Stats Lambda: the recipients table's stream, summed per tumbling window. No FastAPI."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.clock import SystemClock
from outreach.observability import logger, metrics
from outreach.stats.repository import build_stats_repository
from outreach.stats.stream import handle_window


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    """Add the batch to the window's state; at the window's end, write the sums once."""
    result = handle_window(event, build_stats_repository(), SystemClock().now())
    metrics.add_metric(name="StatsRecords", unit="Count", value=result.records)
    if result.final:
        metrics.add_metric(name="StatsChunksWritten", unit="Count", value=result.chunks_written)
        logger.info(
            "stats window written",
            extra={
                "shard_id": event.shard_id,
                "window": event.get("window"),
                "chunks_written": result.chunks_written,
                "chunks_already_written": result.chunks_already,
            },
        )
    return result.response()
