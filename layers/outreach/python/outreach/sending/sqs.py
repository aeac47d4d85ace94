"""The send queue's consumer: one unit of campaign work per SQS message.

The queue is FIFO, grouped by organization: Powertools' FIFO processor, at a
message's failure, reports it and every later message of the same message group
as failed (``ReportBatchItemFailures``, ``skip_group_on_error``), so that one
organization's work stays in order and is retried by SQS (then dead-lettered
after three receives), while the other organizations' work in the batch runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.observability import logger, metrics
from outreach.sending.dispatch import CampaignWork
from outreach.sending.sender import SenderFactory, SendReport


def handle_send_batch(
    event: dict[str, Any], context: LambdaContext, factory: SenderFactory
) -> tuple[dict[str, Any], list[SendReport]]:
    """Run every message's campaign work; answer the partial-batch response and the reports."""
    reports: list[SendReport] = []
    senders: dict[str, Any] = {}

    def run_record(record: SQSRecord) -> None:
        work = CampaignWork.from_message(record.body)
        # One sender per organization, so its pacing spans the org's campaigns.
        sender = senders.setdefault(work.org_id, factory())
        report = sender.run(work, time_left=lambda: context.get_remaining_time_in_millis() / 1000)
        reports.append(report)
        logger.info(
            "campaign tick",
            extra={
                "org_id": report.org_id,
                "campaign_id": report.campaign_id,
                "stopped": report.stopped,
                **report.as_dict(),
            },
        )
        for name, value in (
            ("MessagesSent", report.sent),
            ("MessagesFailed", report.failed),
            ("MessagesSkipped", report.skipped),
            ("MessagesUnknown", report.unknown),
            ("QuietHoursDeferrals", report.quiet_hours_deferred),
            ("DailyCapReached", int(report.cap_reached)),
        ):
            if value:
                metrics.add_metric(name=name, unit="Count", value=value)

    response = process_partial_response(
        event=event,
        record_handler=run_record,
        processor=SqsFifoPartialProcessor(skip_group_on_error=True),
        context=context,
    )
    return dict(response), reports
