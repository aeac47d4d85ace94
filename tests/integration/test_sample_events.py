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


def test_imports_answers_the_upload_event_of_an_unknown_job(
    imports_bucket: str, lambda_context: LocalLambdaContext
) -> None:
    # No job waits for the sample's upload here: nothing to do, not a failure to retry.
    result = function_handler("imports")(event("imports-upload.json"), lambda_context)
    assert result == {"imported": False}


def test_imports_runs_the_job_its_sample_event_names(
    imports_bucket: str, lambda_context: LocalLambdaContext
) -> None:
    from datetime import UTC, datetime, timedelta

    import boto3

    from outreach.imports.domain import ImportJob, ImportStatus, parse_upload_key
    from outreach.imports.repository import ImportRepository

    upload = event("imports-upload.json")
    key = upload["detail"]["object"]["key"]
    place = parse_upload_key(key)
    assert place is not None
    org_id, import_id = place
    now = datetime.now(UTC)
    jobs = ImportRepository()
    jobs.create(
        ImportJob(
            id=import_id,
            org_id=org_id,
            status=ImportStatus.WAITING_UPLOAD,
            user_id="01KAXQ3Y0000000000000000US",
            upload_key=key,
            tags=(),
            phone_column=None,
            created_at=now,
            updated_at=now,
            upload_expires_at=now + timedelta(minutes=15),
        )
    )
    content = b"phone,first_name\r\n+16175550100,Ada\r\n+16175550101,Grace\r\nnot a phone,Bad\r\n"
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=imports_bucket, Key=key, Body=content, ContentType="text/csv"
    )
    upload["detail"]["object"]["size"] = len(content)

    result = function_handler("imports")(upload, lambda_context)

    assert result["imported"] is True and result["status"] == "done", result
    job = jobs.get(org_id, import_id)
    assert (job.status, job.rows, job.created, job.error_count) == (ImportStatus.DONE, 3, 2, 1)
