"""Calling an API function's Lambda handler as API Gateway would, and reading its answer.

:func:`http_event` builds an HTTP API (payload format 2.0) event; :class:`ApiClient`
sends it to ``functions/<name>/app.py``'s handler, run as that function (so the IAM
replay of :mod:`tests.support.iam_replay` checks its calls); :class:`ApiResponse`
decodes the handler's answer.

Every answer is checked against the deployed API's OpenAPI document
(:mod:`tests.support.openapi_conformance`): its status is one the operation documents,
its content type the documented one, its body valid for the documented schema. So each
test that goes through a handler also proves the document right; one that sends an
event API Gateway would never send opts out with ``conform=False`` and says why.

Importing this module reads no environment and builds nothing of ``outreach`` (the
bench scripts import it before setting theirs): the document is built at the first
checked call.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlencode

from outreach_local.runtime import LocalLambdaContext
from tests.support.iam_replay import function_handler
from tests.support.openapi_conformance import deployed_conformance

__all__ = ["ApiClient", "ApiResponse", "http_event"]


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it.

    ``body`` is sent as JSON (``content-type: application/json`` unless given);
    ``raw_body`` as is, base64-encoded when it is bytes; header names are lowercased.
    """
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

    def call(self, method: str, path: str, *, conform: bool = True, **kwargs: Any) -> ApiResponse:
        """``method path`` through the handler; ``kwargs`` are :func:`http_event`'s.

        Raises :class:`~tests.support.openapi_conformance.NonConformance` (an
        ``AssertionError``) when the answer is not one the deployed API's OpenAPI
        document describes for ``method path``. ``conform=False`` skips that check:
        only for events API Gateway would not send (say why at the call).
        """
        response = ApiResponse(self.handler(http_event(method, path, **kwargs), self.context))
        if conform:
            deployed_conformance().check(
                method, path, response.status, response.headers.get("content-type"), response.text
            )
        return response


class ApiResponse:
    """A handler's answer, decoded: status, lowercased headers, body text."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.status: int = raw["statusCode"]
        self.headers: dict[str, str] = {k.lower(): v for k, v in raw.get("headers", {}).items()}
        body = raw.get("body") or ""
        if raw.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        self.text: str = body

    def json(self) -> Any:
        """The body, parsed as JSON."""
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
