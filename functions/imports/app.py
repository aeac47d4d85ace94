"""Imports Lambda: an upload landed in the imports bucket (S3 "Object Created", through
EventBridge); import it. Wiring only; no FastAPI."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.event_source import event_source
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventBridgeNotificationEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.imports.runner import get_import_runner
from outreach.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=S3EventBridgeNotificationEvent)
def handler(event: S3EventBridgeNotificationEvent, context: LambdaContext) -> dict[str, Any]:
    """Run the upload's import job to its end, or to a checkpoint near the timeout (then
    fail, so that Lambda's next attempt resumes it: outreach.imports.runner)."""
    upload = event.detail.object
    outcome = get_import_runner().run(
        upload.key, upload.size or 0, remaining_ms=context.get_remaining_time_in_millis
    )
    if outcome is None:
        return {"imported": False}
    metrics.add_metric(name="ImportRows", unit="Count", value=outcome.rows)
    summary = {
        "imported": True,
        "import_id": outcome.import_id,
        "status": outcome.status.value,
        "rows": outcome.rows,
        "skipped_rows": outcome.skipped_rows,
        "rewritten_rows": outcome.rewritten_rows,
    }
    logger.info("import run ended", extra=summary)
    return summary
