"""The webhook work queue on SQS (a standard queue: each message is one event's fan-out
or one delivery's attempt, so one slow endpoint holds up nothing else)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from outreach import aws
from outreach.config import get_settings
from outreach.webhooks.worker import MAX_QUEUE_DELAY_SECONDS


class SqsWebhookQueue:
    """:class:`~outreach.webhooks.ports.WorkQueue` on the SQS queue at ``queue_url``."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._queue_url = queue_url
        self._client = client or aws.client("sqs", region_name=get_settings().aws_region)

    def send(self, message: dict[str, Any], *, delay_seconds: int = 0) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps(message, separators=(",", ":")),
            DelaySeconds=max(0, min(MAX_QUEUE_DELAY_SECONDS, delay_seconds)),
        )


@lru_cache(maxsize=1)
def configured_queue() -> SqsWebhookQueue:
    """The process's queue of ``WEBHOOK_QUEUE_URL``, made on first use; ``RuntimeError``
    when the variable is not set."""
    url = get_settings().webhook_queue_url
    if not url:
        raise RuntimeError("WEBHOOK_QUEUE_URL is not set: the webhook queue is unknown")
    return SqsWebhookQueue(url)
