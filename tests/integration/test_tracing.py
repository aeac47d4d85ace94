"""No handler puts a response body into its X-Ray trace (tokens, contact lists, phones).

The handlers are run with a recording stand-in for the X-Ray provider, as if
tracing were on in Lambda, and with the template's environment: whatever the
subsegment is given is what X-Ray would store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from outreach.observability import tracer
from outreach_local.runtime import LocalLambdaContext, load_function
from outreach_local.template import REPO_ROOT
from tests.support.api import http_event

PASSWORD = "correct horse battery staple"


class _Subsegment:
    def __init__(self, record: list[tuple[str, str, Any]]) -> None:
        self._record = record

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._record.append(("metadata", key, value))

    def put_annotation(self, key: str, value: Any) -> None:
        self._record.append(("annotation", key, value))

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self._record.append(("exception", type(exception).__name__, None))


class RecordingProvider:
    """What the X-Ray recorder is given, for the tracer's ``in_subsegment``."""

    def __init__(self) -> None:
        self.record: list[tuple[str, str, Any]] = []

    @contextmanager
    def in_subsegment(self, name: str | None = None, **_: Any) -> Iterator[_Subsegment]:
        self.record.append(("subsegment", name or "", None))
        yield _Subsegment(self.record)


@pytest.fixture
def xray(monkeypatch: pytest.MonkeyPatch) -> RecordingProvider:
    provider = RecordingProvider()
    monkeypatch.setattr(tracer, "provider", provider)
    return provider


def test_no_api_response_reaches_the_trace(
    aws: None, lambda_context: LocalLambdaContext, xray: RecordingProvider
) -> None:
    handler = load_function("identity").handler
    registered = handler(
        http_event(
            "POST",
            "/v1/auth/register",
            body={
                "email": "trace@example.test",
                "password": PASSWORD,
                "full_name": "Trace",
                "organization_name": "Trace Co",
            },
        ),
        lambda_context,
    )
    assert registered["statusCode"] == 201
    login = handler(
        http_event(
            "POST",
            "/v1/auth/login",
            body={"email": "trace@example.test", "password": PASSWORD},
        ),
        lambda_context,
    )
    token = json.loads(login["body"])["refresh_token"]
    assert [kind for kind, *_ in xray.record].count("subsegment") == 2
    assert not [entry for entry in xray.record if entry[0] == "metadata"], xray.record
    assert token not in repr(xray.record)


def test_no_event_function_response_reaches_the_trace(
    send_queue: str, lambda_context: LocalLambdaContext, xray: RecordingProvider
) -> None:
    for function, event_file in (
        ("dispatcher", "scheduler-tick.json"),
        ("sender", "sqs-send.json"),
        ("stats", "dynamodb-stream-window.json"),
    ):
        event = json.loads((REPO_ROOT / "infra/events" / event_file).read_text())
        response = load_function(function).handler(event, lambda_context)
        assert response is not None
    assert [kind for kind, *_ in xray.record].count("subsegment") == 3
    assert not [entry for entry in xray.record if entry[0] == "metadata"], xray.record
