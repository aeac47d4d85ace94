"""Each handler accepts its sample event from infra/events (the ones `sam local invoke` uses)."""

import json
from typing import Any

import pytest

from outreach_local.runtime import LocalLambdaContext
from outreach_local.template import REPO_ROOT
from tests.support.iam_replay import function_handler

EVENTS = REPO_ROOT / "infra/events"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def test_identity_accepts_the_health_event(aws: None, lambda_context: LocalLambdaContext) -> None:
    response = function_handler("identity")(event("api-health.json"), lambda_context)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"


def test_identity_serves_the_openapi_document_of_its_sample_event(
    aws: None, lambda_context: LocalLambdaContext
) -> None:
    # `sam local invoke IdentityFunction -e infra/events/api-openapi.json`: the document
    # needs every domain's routes, which the identity function imports on this call only.
    response = function_handler("identity")(event("api-openapi.json"), lambda_context)
    assert response["statusCode"] == 200
    assert response["body"] == (REPO_ROOT / "infra/openapi.json").read_text(encoding="utf-8")


def test_identity_accepts_the_login_event(aws: None, lambda_context: LocalLambdaContext) -> None:
    # No such user yet: a well-formed 401 problem, not a crash.
    response = function_handler("identity")(event("api-login.json"), lambda_context)
    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == "application/problem+json"


def test_dispatcher_accepts_the_scheduler_event(
    send_queue: str, lambda_context: LocalLambdaContext
) -> None:
    result = function_handler("dispatcher")(event("scheduler-tick.json"), lambda_context)
    assert result == {"tick": "2026-11-23T15:00:00.000Z", "campaigns": 0}


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_sample_events_are_valid_json(path: Any) -> None:
    assert isinstance(json.loads(path.read_text()), dict)


def test_sender_accepts_the_sqs_event(aws: None, lambda_context: LocalLambdaContext) -> None:
    # The sample's campaign does not exist here: handled (nothing to send), not failed.
    result = function_handler("sender")(event("sqs-send.json"), lambda_context)
    assert result == {"batchItemFailures": []}


@pytest.mark.parametrize("name", ["sqs-inbound-text.json", "sqs-delivery-event.json"])
def test_inbound_accepts_the_sqs_events(
    aws: None, lambda_context: LocalLambdaContext, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from outreach.config import get_settings

    # template.yaml gives the function its two topics: the samples' own.
    for variable, sample in (
        ("INBOUND_TEXTS_TOPIC_ARN", "sqs-inbound-text.json"),
        ("DELIVERY_EVENTS_TOPIC_ARN", "sqs-delivery-event.json"),
    ):
        monkeypatch.setenv(variable, json.loads(event(sample)["Records"][0]["body"])["TopicArn"])
    get_settings.cache_clear()
    # No organization owns the sample's number here, and no send has its message id:
    # handled (and dropped), not failed.
    assert function_handler("inbound")(event(name), lambda_context) == {"batchItemFailures": []}


def test_stats_accepts_the_stream_window_event(
    aws: None, lambda_context: LocalLambdaContext
) -> None:
    # Not the window's last call: the changes are summed into the state Lambda passes on.
    result = function_handler("stats")(event("dynamodb-stream-window.json"), lambda_context)
    key = "01JSAMPLEORG0000000000000#01JSAMPLECAMPAIGN000000000|A"
    assert result == {"state": {key: {"recipients": 1, "sent": 1, "accepted": 1}}}
