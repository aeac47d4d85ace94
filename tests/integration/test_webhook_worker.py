"""The webhook worker on DynamoDB (moto) with a scripted endpoint (issue 20, point 3): an
event fans out to the subscribed endpoints once, each attempt is signed and recorded,
5xx, 429 and timeouts are retried on the schedule (the queue holds a retry hours away),
other answers are final, retries end in ``given_up``, an endpoint failing for three
days is disabled, and an address refused at delivery time is never called."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook

from outreach.clock import SimulatedClock
from outreach.webhooks.addresses import Destination, RefusedDestination
from outreach.webhooks.domain import (
    DISABLE_AFTER,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    AttemptResult,
    DeliveryStatus,
    Endpoint,
    Event,
    new_secret,
)
from outreach.webhooks.queue import SqsWebhookQueue
from outreach.webhooks.repository import WebhookRepository
from outreach.webhooks.worker import DeliveryWorker

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
ORG = "01JD0000000000000000000000"


@dataclass
class ListQueue:
    """A stand-in for the SQS queue: what was sent, with its delay."""

    sent: list[tuple[dict[str, Any], int]] = field(default_factory=list)

    def send(self, message: dict[str, Any], *, delay_seconds: int = 0) -> None:
        self.sent.append((json.loads(json.dumps(message)), delay_seconds))


@dataclass
class ScriptedEndpoint:
    """Answers each POST with the next result of ``script`` (the last one repeats)."""

    script: list[AttemptResult]
    calls: list[tuple[Destination, str, dict[str, str]]] = field(default_factory=list)

    def __call__(
        self, destination: Destination, body: str, headers: dict[str, str]
    ) -> AttemptResult:
        self.calls.append((destination, body, headers))
        return self.script[min(len(self.calls), len(self.script)) - 1]


def public(url: str) -> Destination:
    return Destination("https", "hooks.example.com", 443, "/in", "93.184.215.14")


OK = AttemptResult(status_code=204, duration_ms=12)
DOWN = AttemptResult(status_code=503, duration_ms=40, error="HTTP 503")


@pytest.fixture
def world(aws: None) -> Any:
    clock = SimulatedClock(START)
    store = WebhookRepository()
    queue = ListQueue()

    def make(
        script: list[AttemptResult], resolve: Any = public
    ) -> tuple[DeliveryWorker, ScriptedEndpoint]:
        endpoint = ScriptedEndpoint(script)
        worker = DeliveryWorker(
            store=store, queue=queue, resolve=resolve, post=endpoint, clock=clock
        )
        return worker, endpoint

    return clock, store, queue, make


def add_endpoint(
    store: WebhookRepository, webhook_id: str, events: tuple[str, ...], enabled: bool = True
) -> str:
    secret = new_secret()
    store.create_endpoint(
        Endpoint(
            webhook_id, ORG, "https://hooks.example.com/in", events, "", enabled, START, START
        ),
        secret,
    )
    return secret


def event(event_id: str = "01JD00000000000000000000E1", kind: str = "message.received") -> Event:
    return Event(event_id, kind, ORG, START, {"phone": "+16175550123", "body": "Yes!"})


def run_due(worker: DeliveryWorker, queue: ListQueue) -> None:
    """Handle every queued message once (as the queue would hand them out)."""
    pending, queue.sent = queue.sent, []
    for message, _ in pending:
        worker.handle(message)


def test_an_event_fans_out_once_to_each_subscribed_enabled_endpoint(world: Any) -> None:
    _clock, store, queue, make = world
    secret = add_endpoint(store, "01JD0000000000000000000WH1", ("message.received",))
    add_endpoint(store, "01JD0000000000000000000WH2", ("contact.opted_out",))
    add_endpoint(store, "01JD0000000000000000000WH3", ("message.received",), enabled=False)
    worker, endpoint = make([OK])
    worker.fan_out(event())
    worker.fan_out(event())  # its stream record read twice
    assert [(m["kind"], m["webhook_id"], delay) for m, delay in queue.sent] == [
        ("deliver", "01JD0000000000000000000WH1", 0)
    ]
    run_due(worker, queue)
    ((destination, body, headers),) = endpoint.calls
    assert destination.address == "93.184.215.14"
    assert headers["webhook-id"] == event().id
    assert headers["webhook-timestamp"] == str(int(START.timestamp()))
    # The library's own signature of (id, timestamp, body) with the endpoint's secret.
    expected = Webhook(secret).sign(msg_id=event().id, timestamp=START, data=body)
    assert headers["webhook-signature"] == expected
    assert json.loads(body)["data"]["body"] == "Yes!"
    delivery = store.delivery(ORG, "01JD0000000000000000000WH1", event().id)
    assert delivery is not None
    assert (delivery.status, delivery.attempts, delivery.status_code) == (
        DeliveryStatus.SUCCEEDED,
        1,
        204,
    )
    assert queue.sent == []


def test_a_failing_endpoint_is_retried_on_the_schedule_then_given_up(world: Any) -> None:
    clock, store, queue, make = world
    add_endpoint(store, "01JD0000000000000000000WH1", ("message.received",))
    worker, endpoint = make([DOWN])
    worker.fan_out(event())
    run_due(worker, queue)  # attempt 1 fails
    ((_, delay),) = queue.sent
    assert delay == RETRY_DELAYS[0].total_seconds()
    for attempt in range(2, MAX_ATTEMPTS + 1):
        wait = RETRY_DELAYS[attempt - 2]
        # Early: the message only comes back with the time left (at most 15 minutes).
        clock.advance(timedelta(seconds=1))
        run_due(worker, queue)
        assert len(endpoint.calls) == attempt - 1
        clock.advance(wait - timedelta(seconds=1))
        while queue.sent and queue.sent[0][1] > 0 and len(endpoint.calls) < attempt:
            # What SQS would hand out after each delay: not due yet, re-queued.
            clock.advance(timedelta(seconds=0))
            run_due(worker, queue)
        run_due(worker, queue)
        assert len(endpoint.calls) == attempt
    delivery = store.delivery(ORG, "01JD0000000000000000000WH1", event().id)
    assert delivery is not None
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.GIVEN_UP, MAX_ATTEMPTS)
    assert delivery.next_attempt_at is None and queue.sent == []
    # Given up after more than a day of trying.
    assert clock.now() - START > timedelta(hours=24)


@pytest.mark.parametrize("status", [400, 404, 410, 302])
def test_other_answers_are_final(world: Any, status: int) -> None:
    _clock, store, queue, make = world
    add_endpoint(store, "01JD0000000000000000000WH1", ("message.received",))
    worker, _endpoint = make(
        [AttemptResult(status_code=status, duration_ms=5, error=f"HTTP {status}")]
    )
    worker.fan_out(event())
    run_due(worker, queue)
    delivery = store.delivery(ORG, "01JD0000000000000000000WH1", event().id)
    assert delivery is not None
    assert (delivery.status, delivery.status_code) == (DeliveryStatus.FAILED, status)
    assert queue.sent == []


def test_a_timeout_and_a_429_are_retried_and_retry_after_is_honoured(world: Any) -> None:
    clock, store, queue, make = world
    add_endpoint(store, "01JD0000000000000000000WH1", ("message.received",))
    timed_out = AttemptResult(status_code=None, duration_ms=5000, error="timed out")
    busy = AttemptResult(status_code=429, duration_ms=3, error="HTTP 429", retry_after="600")
    worker, _endpoint = make([timed_out, busy, OK])
    worker.fan_out(event())
    run_due(worker, queue)
    assert queue.sent[0][1] == RETRY_DELAYS[0].total_seconds()
    clock.advance(RETRY_DELAYS[0])
    run_due(worker, queue)
    assert queue.sent[0][1] == 600  # Retry-After beats the schedule's 60 s
    clock.advance(timedelta(seconds=600))
    run_due(worker, queue)
    delivery = store.delivery(ORG, "01JD0000000000000000000WH1", event().id)
    assert delivery is not None
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 3)


def test_an_endpoint_failing_for_three_days_is_disabled_and_says_why(world: Any) -> None:
    clock, store, queue, make = world
    add_endpoint(store, "01JD0000000000000000000WH1", ("message.received",))
    worker, _ = make([DOWN])
    worker.fan_out(event("01JD00000000000000000000E1"))
    run_due(worker, queue)
    assert store.endpoint(ORG, "01JD0000000000000000000WH1").failing_since == START
    clock.advance(DISABLE_AFTER)
    worker.fan_out(event("01JD00000000000000000000E2"))
    queue.sent = [m for m in queue.sent if m[0]["delivery_id"] == "01JD00000000000000000000E2"]
    run_due(worker, queue)
    endpoint = store.endpoint(ORG, "01JD0000000000000000000WH1")
    assert endpoint.enabled is False
    assert endpoint.disabled_reason is not None and "3 days" in endpoint.disabled_reason


def test_a_success_ends_the_failing_streak(world: Any) -> None:
    clock, store, queue, make = world
    add_endpoint(store, "01JD0000000000000000000WH1", ("message.received",))
    worker, _ = make([DOWN, OK])
    worker.fan_out(event())
    run_due(worker, queue)
    clock.advance(RETRY_DELAYS[0])
    run_due(worker, queue)
    assert store.endpoint(ORG, "01JD0000000000000000000WH1").failing_since is None


def test_an_address_refused_at_delivery_time_is_never_called(world: Any) -> None:
    _clock, store, queue, make = world
    add_endpoint(store, "01JD0000000000000000000WH1", ("message.received",))

    def rebound(url: str) -> Destination:
        raise RefusedDestination(
            "The host hooks.example.com resolves to a private address (10.0.0.5)."
        )

    worker, endpoint = make([OK], resolve=rebound)
    worker.fan_out(event())
    run_due(worker, queue)
    assert endpoint.calls == []
    delivery = store.delivery(ORG, "01JD0000000000000000000WH1", event().id)
    assert delivery is not None
    assert delivery.status is DeliveryStatus.PENDING and delivery.error is not None
    assert "private address" in delivery.error


def test_a_deleted_endpoints_pending_delivery_ends(world: Any) -> None:
    _clock, store, queue, make = world
    add_endpoint(store, "01JD0000000000000000000WH1", ("message.received",))
    worker, endpoint = make([OK])
    worker.fan_out(event())
    store.delete_endpoint(ORG, "01JD0000000000000000000WH1")
    run_due(worker, queue)
    assert endpoint.calls == []
    delivery = store.delivery(ORG, "01JD0000000000000000000WH1", event().id)
    assert delivery is not None and delivery.status is DeliveryStatus.FAILED


def test_the_sqs_queue_carries_a_message_and_holds_a_delayed_one(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="test-webhooks")["QueueUrl"]
    queue = SqsWebhookQueue(url, client=sqs)
    queue.send({"kind": "deliver", "delivery_id": "later"}, delay_seconds=5000)  # capped: 900
    queue.send({"kind": "deliver", "delivery_id": "now"})
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["delivery_id"] for m in received] == ["now"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def test_the_roles_that_queue_attempts_may_send_to_the_queue(
    aws: None, iam_replay: list[Any]
) -> None:
    # The worker re-queues attempts and the API queues a retry by hand: both SendMessage
    # calls are checked against the template's roles (the IAM replay), as the functions.
    from outreach_local.runtime import service_name, service_scope

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="test-WebhookQueue")["QueueUrl"]  # the stack's name
    queue = SqsWebhookQueue(url, client=sqs)
    for function in ("webhooks", "identity"):
        with service_scope(service_name(function)):
            queue.send({"kind": "deliver", "delivery_id": function})
    assert [(c.function, c.action) for c in iam_replay] == [
        ("webhooks", "sqs:SendMessage"),
        ("identity", "sqs:SendMessage"),
    ]
