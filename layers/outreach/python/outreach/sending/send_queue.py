"""The FIFO send queue's consumer: the sender function's batch of campaign work.

One message is one :class:`~outreach.sending.dispatch.CampaignWork` (its body is
``CampaignWork.to_message()``), put by the dispatcher that
:func:`outreach.sending.work_queue.get_dispatcher` wires to this queue (the producer
lives there, so that the dispatcher function does not load the sender). Messages are
grouped by organization, so one sender number's sends are serial, and deduplicated by
campaign and scheduled minute, so a tick the scheduler delivers twice fans out once.

The consumer is Powertools' FIFO processor: at a message's failure it reports
it and every later message of the same message group as failed
(``ReportBatchItemFailures``, ``skip_group_on_error``), so that one
organization's work stays in order and is retried by SQS (then dead-lettered
after three receives), while the other organizations' work in the batch runs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.observability import logger, metrics
from outreach.sending.dispatch import CampaignWork
from outreach.sending.sender import CampaignSender, SenderFactory, SendReport


def handle_send_batch(
    event: SQSEvent, context: LambdaContext, factory: SenderFactory
) -> tuple[dict[str, Any], list[SendReport]]:
    """Run every message's campaign work; answer the partial-batch response and the reports.

    A message that is not campaign work (or whose run raises) fails with the rest
    of its message group; Powertools raises ``BatchProcessingError`` when every
    message failed, so that SQS retries the whole batch.
    """
    reports: list[SendReport] = []
    senders: dict[str, CampaignSender] = {}

    def run_record(record: SQSRecord) -> None:
        work = CampaignWork.from_message(record.body)
        # One sender per organization, so its pacing spans the org's campaigns.
        sender = senders.get(work.org_id)
        if sender is None:
            sender = senders[work.org_id] = factory()
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
            ("StateRuleDeferrals", report.state_rule_deferred),
            ("DailyCapReached", int(report.cap_reached)),
        ):
            if value:
                metrics.add_metric(name=name, unit="Count", value=value)

    response = process_partial_response(
        event=event.raw_event,
        record_handler=run_record,
        processor=SqsFifoPartialProcessor(skip_group_on_error=True),
        context=context,
    )
    return dict(response), reports
