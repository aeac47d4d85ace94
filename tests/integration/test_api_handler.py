"""The API functions' Lambda handlers, driven with API Gateway HTTP API v2 events."""

import pytest

from outreach_local.runtime import LocalLambdaContext
from tests.support.api import ApiClient


@pytest.fixture
def identity(lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("identity", lambda_context)


def test_health_answers_ok_and_version(identity: ApiClient) -> None:
    response = identity.call("GET", "/v1/health")
    assert response.status == 200
    assert response.json() == {"status": "ok", "version": "0.1.0"}
    assert not response.raw.get("isBase64Encoded")


def test_unknown_route_is_a_404_problem(identity: ApiClient) -> None:
    problem = identity.call("GET", "/v1/no-such-thing").assert_problem(404)
    assert "/v1/no-such-thing" in problem["detail"]


def test_wrong_method_is_a_405_problem(identity: ApiClient) -> None:
    response = identity.call("DELETE", "/v1/health")
    response.assert_problem(405)
    assert response.headers["allow"] == "GET"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        # Starlette named the first route's methods only (issue 18: "Allow: POST").
        ("OPTIONS", "/v1/contacts", "GET, POST"),
        ("PUT", "/v1/contacts", "GET, POST"),
        ("PUT", "/v1/contacts/01JD0000000000000000000000", "DELETE, GET, PATCH"),
        ("GET", "/v1/opt-outs/+16175550100", "DELETE"),
    ],
)
def test_a_405_lists_every_method_of_the_resource(
    lambda_context: LocalLambdaContext, method: str, path: str, allow: str
) -> None:
    response = ApiClient("contacts", lambda_context).call(method, path)
    response.assert_problem(405)
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("path", ["/v1/users/", "/v1/users/%2F", "/v1/health/"])
def test_a_trailing_slash_is_a_404_problem_not_a_redirect(identity: ApiClient, path: str) -> None:
    # Starlette answered 307 to the path without the slash: an answer the document does
    # not list, found by the conformance check on a fuzzed `GET /v1/users/%2F`.
    problem = identity.call("GET", path).assert_problem(404)
    assert "No route matches" in problem["detail"]


def test_problem_bodies_are_text_not_base64(identity: ApiClient) -> None:
    response = identity.call("GET", "/v1/missing")
    assert response.raw["isBase64Encoded"] is False
    assert response.raw["body"].startswith("{")
