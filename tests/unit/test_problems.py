"""Every error an API function can answer is problem+json, never a stack trace."""

from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from outreach.api.app import create_app
from outreach.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)

router = APIRouter(prefix="/v1/things")


class ThingCreate(BaseModel):
    name: str = Field(min_length=1)
    secret: str
    count: int = 0


@router.post("")
def create_thing(body: ThingCreate) -> dict[str, Any]:
    return {"name": body.name}


ERRORS: dict[str, DomainError] = {
    "bad": BadRequest("bad thing"),
    "unauthorized": Unauthorized(),
    "forbidden": Forbidden("members may not"),
    "missing": NotFound("no such thing"),
    "conflict": Conflict("exists", extra={"existing_id": "X1"}),
    "large": PayloadTooLarge("too big"),
    "media": UnsupportedMediaType("not csv"),
    "invalid": ValidationFailed("nope", [{"loc": ["body", "x"], "msg": "bad x"}]),
    "slow-down": TooManyRequests("wait", retry_after=30),
}


@router.get("/raise/{name}")
def raise_error(name: str) -> None:
    if name == "crash":
        raise RuntimeError("database password is hunter2")
    raise ERRORS[name]


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app([router]), raise_server_exceptions=False)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:outreach:problem:")
    assert body["title"] and body["detail"]
    return body


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_domain_errors_become_problems(client: TestClient, name: str) -> None:
    error = ERRORS[name]
    body = assert_problem(client.get(f"/v1/things/raise/{name}"), error.status)
    assert body["detail"] == error.detail
    assert body["type"] == f"urn:outreach:problem:{error.slug}"


def test_conflict_carries_extra_members(client: TestClient) -> None:
    assert assert_problem(client.get("/v1/things/raise/conflict"), 409)["existing_id"] == "X1"


def test_rate_limit_carries_retry_after(client: TestClient) -> None:
    response = client.get("/v1/things/raise/slow-down")
    assert_problem(response, 429)
    assert response.headers["retry-after"] == "30"


def test_unauthorized_asks_for_a_bearer_token(client: TestClient) -> None:
    response = client.get("/v1/things/raise/unauthorized")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_validation_errors_list_where_and_what_without_echoing_input(client: TestClient) -> None:
    response = client.post("/v1/things", json={"name": "", "secret": 12345678901234})
    body = assert_problem(response, 422)
    locs = [error["loc"] for error in body["errors"]]
    assert ["body", "name"] in locs
    assert ["body", "secret"] in locs
    assert all(set(error) == {"loc", "msg"} for error in body["errors"])
    assert "12345678901234" not in response.text


def test_malformed_json_is_a_400(client: TestClient) -> None:
    response = client.post(
        "/v1/things", content=b'{"name": "x", ', headers={"content-type": "application/json"}
    )
    assert assert_problem(response, 400)["type"] == "urn:outreach:problem:malformed-json"


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/nothing/here"), 404)
    assert "/v1/nothing/here" in body["detail"]


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.delete("/v1/things")
    assert_problem(response, 405)
    assert "POST" in response.headers["allow"]


def test_unexpected_failure_is_a_500_problem_without_details(client: TestClient) -> None:
    response = client.get("/v1/things/raise/crash")
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"] == "An unexpected error occurred."


def test_openapi_documents_problem_responses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "application/problem+json" in str(spec["paths"]["/v1/things"]["post"]["responses"])
