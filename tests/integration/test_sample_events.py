"""Each handler accepts its sample event from infra/events (the ones `sam local invoke` uses)."""

import json
from typing import Any

import pytest

from outreach_local.runtime import LocalLambdaContext, load_function
from outreach_local.template import REPO_ROOT

EVENTS = REPO_ROOT / "infra/events"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def test_identity_accepts_the_health_event(aws: None, lambda_context: LocalLambdaContext) -> None:
    response = load_function("identity").handler(event("api-health.json"), lambda_context)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"


def test_identity_accepts_the_login_event(aws: None, lambda_context: LocalLambdaContext) -> None:
    # No such user yet: a well-formed 401 problem, not a crash.
    response = load_function("identity").handler(event("api-login.json"), lambda_context)
    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == "application/problem+json"


def test_dispatcher_accepts_the_scheduler_event(
    send_queue: str, lambda_context: LocalLambdaContext
) -> None:
    result = load_function("dispatcher").handler(event("scheduler-tick.json"), lambda_context)
    assert result == {"tick": "2026-11-23T15:00:00.000Z", "campaigns": 0}


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_sample_events_are_valid_json(path: Any) -> None:
    assert isinstance(json.loads(path.read_text()), dict)


def test_sender_accepts_the_sqs_event(aws: None, lambda_context: LocalLambdaContext) -> None:
    # The sample's campaign does not exist here: handled (nothing to send), not failed.
    result = load_function("sender").handler(event("sqs-send.json"), lambda_context)
    assert result == {"batchItemFailures": []}


def test_inbound_accepts_the_sns_events(aws: None, lambda_context: LocalLambdaContext) -> None:
    handler = load_function("inbound").handler
    # No organization owns the sample's number here, and no send has its message id.
    assert handler(event("sns-inbound-text.json"), lambda_context) == {"unknown_number": 1}
    assert handler(event("sns-delivery-event.json"), lambda_context) == {"unknown_message": 1}


def test_stats_accepts_the_stream_window_event(
    aws: None, lambda_context: LocalLambdaContext
) -> None:
    # Not the window's last call: the changes are summed into the state Lambda passes on.
    result = load_function("stats").handler(event("dynamodb-stream-window.json"), lambda_context)
    key = "01JSAMPLEORG0000000000000#01JSAMPLECAMPAIGN000000000|A"
    assert result == {"state": {key: {"recipients": 1, "sent": 1, "accepted": 1}}}
