"""Tracing is Lambda's active tracing: no tracing SDK in any function, and every AWS call
carries the invocation's trace header, so a trace follows a message from function to
function (outreach.observability says why the X-Ray SDK went).

With no SDK loaded, nothing of a request or a response (tokens, contact lists, phones)
can reach a trace: Lambda's own segments hold timings and errors only.
"""

from __future__ import annotations

from typing import Any

import pytest

from outreach import aws
from outreach_local.template import load_template
from tests.support.function_probe import modules_imported_by, top_level_imported_by

TRACE = "Root=1-67890abc-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"


def _functions() -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_every_function_is_traced_actively_by_lambda() -> None:
    assert load_template()["Globals"]["Function"]["Tracing"] == "Active"
    overridden = {
        name: resource["Properties"]["Tracing"]
        for name, resource in _functions().items()
        if "Tracing" in resource["Properties"]
    }
    assert overridden == {}, overridden


@pytest.mark.parametrize(
    "function",
    sorted(r["Properties"]["CodeUri"].strip("/").split("/")[-1] for r in _functions().values()),
)
def test_no_function_loads_a_tracing_sdk(function: str) -> None:
    # Loaded as in an invocation (AWS_LAMBDA_FUNCTION_NAME and a sampled trace header set).
    # FastAPI brings OpenTelemetry's API (no-op without an SDK); its SDK never loads.
    loaded = top_level_imported_by(function, {"aws_xray_sdk", "wrapt"}) + sorted(
        name for name in modules_imported_by(function) if name.startswith("opentelemetry.sdk")
    )
    assert loaded == [], f"{function} loads {loaded}"


def test_aws_calls_carry_the_invocations_trace_header(
    send_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a Lambda invocation's environment (Lambda sets both for every invocation),
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "outreach-dev-DispatcherFunction")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)
    sent: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        header = request.headers.get("X-Amzn-Trace-Id", b"")
        sent.append(header.decode() if isinstance(header, bytes) else header)

    sqs = aws.client("sqs", region_name="us-east-1")
    sqs.meta.events.register_first("before-send.sqs", capture)
    # when the function calls AWS (here: the dispatcher's queue),
    sqs.send_message(
        QueueUrl=send_queue, MessageBody="{}", MessageGroupId="org", MessageDeduplicationId="1"
    )
    # then the call carries the trace header, which SQS hands on to the sender's trace.
    assert sent == [TRACE]
