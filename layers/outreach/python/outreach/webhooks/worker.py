"""The webhook worker: an event becomes one delivery per subscribed endpoint, and each
delivery's attempts run as their own queue messages (a slow endpoint holds up nothing
but its own delivery), signed, to a checked address, retried on the schedule of
:mod:`outreach.webhooks.domain`.

Queue messages: ``{"kind": "deliver", "org_id", "webhook_id", "delivery_id"}``, one per
due attempt (the streams' events are fanned out where they are read, :meth:`fan_out`).
A deliver message that arrives before its attempt is due is sent again with the time
left (SQS delays at most 15 minutes), so a retry hours away waits in the queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from outreach.clock import Clock, to_iso
from outreach.errors import NotFound
from outreach.observability import logger
from outreach.webhooks.addresses import Destination, RefusedDestination
from outreach.webhooks.domain import (
    DISABLE_AFTER,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    EndpointSecrets,
    Event,
    next_attempt_at,
    should_disable,
    signature_headers,
)
from outreach.webhooks.ports import WebhookStore, WorkQueue

MAX_QUEUE_DELAY_SECONDS = 900

type Resolve = Callable[[str], Destination]
type Post = Callable[[Destination, str, dict[str, str]], AttemptResult]


def deliver_message(delivery: Delivery) -> dict[str, Any]:
    """The queue message of a delivery's next attempt."""
    return {
        "kind": "deliver",
        "org_id": delivery.org_id,
        "webhook_id": delivery.webhook_id,
        "delivery_id": delivery.id,
    }


class DeliveryWorker:
    """Runs the queue's messages: :meth:`handle`."""

    def __init__(
        self,
        *,
        store: WebhookStore,
        queue: WorkQueue,
        resolve: Resolve,
        post: Post,
        clock: Clock,
    ) -> None:
        self._store = store
        self._queue = queue
        self._resolve = resolve
        self._post = post
        self._clock = clock

    def handle(self, message: dict[str, Any]) -> None:
        """Run one delivery's due attempt; anything else is a ``ValueError`` (the batch
        reports it: retried, then dead-lettered)."""
        if message.get("kind") != "deliver":
            raise ValueError(f"not a webhook work message: {json.dumps(message)[:200]}")
        self.attempt(message["org_id"], message["webhook_id"], message["delivery_id"])

    def fan_out(self, event: Event) -> int:
        """One pending delivery per enabled endpoint subscribed to the event's type, each
        queued for its first attempt; a redelivered event adds none. How many it made."""
        now = self._clock.now()
        made = 0
        for endpoint in self._store.endpoints(event.org_id):
            if not endpoint.enabled or event.type not in endpoint.events:
                continue
            delivery = Delivery(
                id=event.id,
                org_id=event.org_id,
                webhook_id=endpoint.id,
                event_type=event.type,
                body=event.body(),
                status=DeliveryStatus.PENDING,
                attempts=0,
                created_at=now,
                updated_at=now,
                next_attempt_at=now,
            )
            if self._store.create_delivery(delivery):
                self._queue.send(deliver_message(delivery))
                made += 1
        return made

    def attempt(self, org_id: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        """Make the delivery's due attempt and record it; re-queue it when not yet due.
        ``None`` when there is nothing to do (gone, or no longer pending)."""
        delivery = self._store.delivery(org_id, webhook_id, delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return None
        now = self._clock.now()
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            self._requeue(delivery, now)
            return delivery
        try:
            endpoint, secrets = self._store.endpoint_and_secrets(org_id, webhook_id)
        except NotFound:  # deleted since: the delivery ends
            return self._finish(delivery, DeliveryStatus.FAILED, "the endpoint was deleted", now)
        if not endpoint.enabled:
            return self._finish(delivery, DeliveryStatus.FAILED, "the endpoint is disabled", now)
        result = self._send(delivery, endpoint.url, secrets, now)
        attempts = delivery.attempts + 1
        after = self._clock.now()
        following = next_attempt_at(attempts, result, after)
        if result.succeeded:
            status = DeliveryStatus.SUCCEEDED
        elif following is not None:
            status = DeliveryStatus.PENDING
        else:
            status = DeliveryStatus.GIVEN_UP if result.retryable else DeliveryStatus.FAILED
        recorded = replace(
            delivery,
            status=status,
            attempts=attempts,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            error=result.error,
            response_excerpt=result.response_excerpt or None,
            next_attempt_at=following,
            updated_at=after,
        )
        self._store.save_delivery(recorded)
        if following is not None:
            self._requeue(recorded, after)
        self._note(endpoint.org_id, endpoint.id, succeeded=result.succeeded, now=after)
        logger.info(
            "webhook attempt",
            extra={
                "org_id": org_id,
                "webhook_id": webhook_id,
                "delivery_id": delivery_id,
                "status": status.value,
                "status_code": result.status_code,
                "duration_ms": result.duration_ms,
            },
        )
        return recorded

    def _send(
        self, delivery: Delivery, url: str, secrets: EndpointSecrets, now: datetime
    ) -> AttemptResult:
        try:
            destination = self._resolve(url)
        except RefusedDestination as refused:  # DNS changed since the endpoint was saved
            return AttemptResult(status_code=None, duration_ms=0, error=str(refused))
        headers = signature_headers(delivery.id, delivery.body, secrets.signing(now), now)
        return self._post(destination, delivery.body, headers)

    def _finish(
        self, delivery: Delivery, status: DeliveryStatus, error: str, now: datetime
    ) -> Delivery:
        ended = replace(delivery, status=status, error=error, next_attempt_at=None, updated_at=now)
        self._store.save_delivery(ended)
        return ended

    def _requeue(self, delivery: Delivery, now: datetime) -> None:
        due = delivery.next_attempt_at or now
        wait = max(0, min(MAX_QUEUE_DELAY_SECONDS, int((due - now).total_seconds() + 0.999)))
        self._queue.send(deliver_message(delivery), delay_seconds=wait)

    def _note(self, org_id: str, webhook_id: str, *, succeeded: bool, now: datetime) -> None:
        failing_since = self._store.note_outcome(org_id, webhook_id, succeeded=succeeded, now=now)
        if failing_since is not None and should_disable(failing_since, now):
            days = DISABLE_AFTER.days
            self._store.disable(
                org_id,
                webhook_id,
                f"Every delivery failed for {days} days (since {to_iso(failing_since)}).",
                now=now,
            )
