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
    identity.call("DELETE", "/v1/health").assert_problem(405)


def test_problem_bodies_are_text_not_base64(identity: ApiClient) -> None:
    response = identity.call("GET", "/v1/missing")
    assert response.raw["isBase64Encoded"] is False
    assert response.raw["body"].startswith("{")
