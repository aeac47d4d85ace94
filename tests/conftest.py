"""Shared fixtures: a test environment, moto-backed tables built from template.yaml,
API Gateway HTTP API v2 events, and a Lambda context."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from outreach_local.environment import template_globals  # imports no `outreach` module

# The environment the handlers read, set before any settings are built: what
# template.yaml's Globals give every function in the cloud (so a variable the
# template lacks is missing here too), plus the test stack's own values.
TEST_ENVIRONMENT = {
    **template_globals(),
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_PREFIX": "test-",
    "JWT_SECRET": "test-signing-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "STAGE": "test",
    "SMS_PROVIDER": "sandbox",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "outreach-tests",
    "POWERTOOLS_DEV": "false",
}
for _name in (
    "DYNAMODB_ENDPOINT",
    "JWT_SECRET_ARN",
    "SEND_QUEUE_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_PROFILE",
):
    os.environ.pop(_name, None)
os.environ.update(TEST_ENVIRONMENT)

# The X-Ray recorder behind the tracer opens a UDP socket when created (it sends
# nothing while tracing is disabled): create it before sockets are blocked.
import outreach.observability  # noqa: E402, F401
from outreach.config import get_settings  # noqa: E402
from outreach.data.binding import bind_models  # noqa: E402
from outreach.secrets import get_signing_key  # noqa: E402
from outreach.sending.dispatch import get_dispatcher  # noqa: E402
from outreach.sms.providers import get_sms_provider  # noqa: E402
from outreach_local.runtime import LocalLambdaContext  # noqa: E402
from outreach_local.server import clear_local_caches  # noqa: E402
from outreach_local.template import create_tables  # noqa: E402
from tests.support.iam_replay import (  # noqa: E402, F401 - autouse fixtures
    _iam_recorder,
    function_handler,
    iam_replay,
)


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the test environment with no cached settings or keys."""
    for name, value in TEST_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    yield
    clear_caches()


def clear_caches() -> None:
    """Forget every process-wide object built from the environment."""
    for factory in (get_settings, get_signing_key, get_dispatcher, get_sms_provider):
        factory.cache_clear()
    clear_local_caches()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process, with every table of template.yaml created and the models bound."""
    from moto import mock_aws

    with mock_aws():
        settings = get_settings()
        create_tables(
            boto3.client("dynamodb", region_name=settings.aws_region), settings.table_prefix
        )
        bind_models(settings)
        yield
    bind_models(get_settings())


@pytest.fixture
def send_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The FIFO send queue, in moto, with SEND_QUEUE_URL pointing at it."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="test-send.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    monkeypatch.setenv("SEND_QUEUE_URL", url)
    get_settings.cache_clear()
    return url


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    """A Lambda context like the runtime's."""
    return LocalLambdaContext(function_name="test-function")


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it."""
    all_headers = {"host": "api.example.test", "user-agent": "pytest", **(headers or {})}
    encoded = False
    text: str | None = None
    if body is not None:
        text = json.dumps(body)
        all_headers.setdefault("content-type", "application/json")
    elif isinstance(raw_body, bytes):
        text, encoded = base64.b64encode(raw_body).decode(), True
    elif raw_body is not None:
        text = raw_body
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {key.lower(): value for key, value in all_headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "api.example.test",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": f"req-{now}",
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = query
    if text is not None:
        event["body"] = text
    return event


class ApiClient:
    """Calls an API function's Lambda handler with HTTP API v2 events."""

    def __init__(self, function: str, context: LocalLambdaContext) -> None:
        self.handler = function_handler(function)  # run as that function: see iam_replay
        self.context = context

    def call(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        return ApiResponse(self.handler(http_event(method, path, **kwargs), self.context))


class ApiResponse:
    """A handler's answer, decoded."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.status: int = raw["statusCode"]
        self.headers: dict[str, str] = {k.lower(): v for k, v in raw.get("headers", {}).items()}
        body = raw.get("body") or ""
        if raw.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        self.text: str = body

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def assert_problem(self, status: int) -> dict[str, Any]:
        """Assert an RFC 9457 problem of ``status`` and return it."""
        assert self.status == status, (self.status, self.text)
        assert self.content_type.startswith("application/problem+json"), self.content_type
        problem: dict[str, Any] = self.json()
        assert {"type", "title", "status", "detail"} <= problem.keys()
        assert problem["status"] == status
        return problem


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the slowest tests first, so one worker takes them while the other runs the rest."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1)
