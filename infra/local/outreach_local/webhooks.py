"""Webhooks on the local stack, delivered for real, as the cloud would.

In the cloud, Lambda reads the messages, opt_outs, campaigns and imports streams into
the webhooks function, which fans each fact out into deliveries and queues their
attempts on SQS (template.yaml, ``WebhooksFunction``). Locally, :class:`WebhookRunner`
polls the same streams through the embedded DynamoDB (:class:`StreamPump`) into the
same code, and keeps the work queue in memory: a message becomes visible after its delay
(a retry minutes or hours away waits as it would in SQS). Deliveries are real HTTP
requests; endpoints on ``http://127.0.0.1`` and ``http://localhost`` are allowed only
when the stack is started with ``WEBHOOK_ALLOW_LOOPBACK=true``.
"""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
from functools import lru_cache, partial
from typing import Any

from outreach.clock import SystemClock
from outreach.config import get_settings
from outreach.data.binding import ensure_models_bound
from outreach.data.models import CampaignModel, ImportModel, MessageModel, OptOutModel
from outreach.webhooks import http
from outreach.webhooks.addresses import destination
from outreach.webhooks.repository import WebhookRepository
from outreach.webhooks.runner import handle_stream_batch
from outreach.webhooks.service import WebhookService
from outreach.webhooks.worker import DeliveryWorker
from outreach_local.runtime import LocalLambdaContext, service_name, service_scope
from outreach_local.streams import StreamPump

FACT_TABLES = (MessageModel, OptOutModel, CampaignModel, ImportModel)


class LocalWorkQueue:
    """The webhook work queue in memory: messages in order of when they become visible."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any], *, delay_seconds: int = 0) -> None:
        visible = time.monotonic() + max(0, delay_seconds)
        with self._lock:
            heapq.heappush(self._heap, (visible, next(self._order), message))

    def due(self) -> list[dict[str, Any]]:
        """Take every message visible now."""
        now = time.monotonic()
        taken = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                taken.append(heapq.heappop(self._heap)[2])
        return taken


class WebhookRunner(threading.Thread):
    """Every ``interval`` seconds: the facts' streams into the worker, then the queue's
    due messages (each attempt a real request)."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(name="outreach-webhooks", daemon=True)
        self.interval = interval
        self.queue = LocalWorkQueue()
        settings = get_settings()
        ensure_models_bound()
        self.worker = DeliveryWorker(
            store=WebhookRepository(),
            queue=self.queue,
            resolve=partial(destination, allow_loopback=settings.webhook_allow_loopback),
            post=http.post,
            clock=SystemClock(),
        )
        self._context = LocalLambdaContext(function_name="webhooks")
        self._pumps = [
            StreamPump(model, f"webhooks-pump-{model.Meta.table_name}", self._facts)
            for model in FACT_TABLES
        ]
        self._stopped = threading.Event()
        self._run_lock = threading.Lock()

    def _facts(self, event: dict[str, Any], shard_id: str) -> None:
        with service_scope(service_name("webhooks")):
            handle_stream_batch(event, self._context, self.worker)  # type: ignore[arg-type]

    def run_once(self) -> int:
        """One round: new facts fanned out, due work run. How many messages it ran."""
        with self._run_lock:
            for pump in self._pumps:
                pump.drain()
            ran = 0
            for message in self.queue.due():
                with service_scope(service_name("webhooks")):
                    try:
                        self.worker.handle(message)
                    except Exception as exc:  # SQS would deliver it again: so do we, later
                        print(f"webhook work failed: {exc!r}", file=sys.stderr)
                        self.queue.send(message, delay_seconds=5)
                ran += 1
            return ran

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.run_once()
            except Exception as exc:  # a failed round must not end the local stack
                print(f"webhooks round failed: {exc!r}", file=sys.stderr)

    def stop(self) -> None:
        self._stopped.set()


@lru_cache(maxsize=1)
def get_webhook_runner() -> WebhookRunner:
    """The process's runner (its queue is the one the API's retries go to)."""
    return WebhookRunner()


def local_webhook_service() -> WebhookService:
    """The API's webhook service on the local queue."""
    settings = get_settings()
    return WebhookService(
        store=WebhookRepository(),
        queue=get_webhook_runner().queue,
        check_url=partial(destination, allow_loopback=settings.webhook_allow_loopback),
        clock=SystemClock(),
    )
