"""The OpenAPI document is the deployed API's, committed, served, and readable (issue 18).

``infra/openapi.json`` is what ``make openapi`` writes from the routes: a stale one
fails here. The identity function serves it at ``GET /v1/openapi.json`` without a
token, and API Gateway (``template.yaml``) routes every path of it to the function
whose app serves that path. The document names its operations as a generated client
calls them, shares one ``Problem`` and one ``ValidationProblem``, and marks every
instant ``date-time``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Match

from outreach.api.openapi import DOCUMENT_PATH, deployed_document, document_text, operations
from outreach_local.runtime import LocalLambdaContext, load_function
from outreach_local.template import REPO_ROOT, function_specs
from tests.support.api import ApiClient

COMMITTED = REPO_ROOT / DOCUMENT_PATH
PROBLEM_REFS = {"#/components/schemas/Problem", "#/components/schemas/ValidationProblem"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return deployed_document()


def test_the_committed_document_is_the_code_s(document: dict[str, Any]) -> None:
    assert COMMITTED.exists(), "infra/openapi.json is missing: run `make openapi`"
    committed = COMMITTED.read_text(encoding="utf-8")
    assert json.loads(committed) == document, "infra/openapi.json is stale: run `make openapi`"
    assert committed == document_text(), "infra/openapi.json is not as written: `make openapi`"


def test_the_document_is_the_deployed_api_s_not_the_local_stack_s(
    document: dict[str, Any],
) -> None:
    assert document["info"]["title"] == "Outreach API"
    assert document["openapi"].startswith("3.1")
    assert not [path for path in document["paths"] if path.startswith("/v1/dev")]
    # Every domain is in it, and the document itself.
    for path in (
        "/v1/health",
        "/v1/openapi.json",
        "/v1/auth/login",
        "/v1/contacts/import",
        "/v1/opt-outs",
        "/v1/campaigns/{campaign_id}/start",
        "/v1/users",
    ):
        assert path in document["paths"], path


def test_the_identity_function_serves_the_committed_document_without_a_token(
    lambda_context: LocalLambdaContext,
) -> None:
    response = ApiClient("identity", lambda_context).call("GET", "/v1/openapi.json")
    assert response.status == 200, response.text
    assert response.content_type.startswith("application/json")
    assert response.text == COMMITTED.read_text(encoding="utf-8")
    assert "max-age" in response.headers["cache-control"]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "01JD0000000000000000000000", path)


def test_api_gateway_routes_each_path_to_the_function_that_serves_it(
    document: dict[str, Any],
) -> None:
    specs = function_specs()
    for method, path, _ in operations(document):
        concrete = _concrete(path)
        routed = [spec.name for spec in specs.values() if spec.serves(concrete)]
        assert len(routed) == 1, f"{method.upper()} {path}: routed to {routed}"
        app = load_function(routed[0]).app
        scope = {"type": "http", "path": concrete, "method": method.upper(), "root_path": ""}
        matched = [route for route in app.router.routes if route.matches(scope)[0] is Match.FULL]
        assert matched, f"{method.upper()} {path}: {routed[0]} has no such route"


def test_operation_ids_are_readable_unique_and_tagged(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        # createCampaign, importContacts: not FastAPI's create_campaign_v1_campaigns_post
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", operation_id), operation_id
    assert {"createCampaign", "importContacts", "startCampaign", "login"} <= set(ids)
    described = {tag["name"] for tag in document["tags"]}
    for method, path, operation in operations(document):
        assert len(operation["tags"]) == 1, (method, path)
        assert operation["tags"][0] in described, (method, path)


def test_every_error_answer_is_one_of_the_two_shared_problems(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert {"Problem", "ValidationProblem"} <= schemas.keys()
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    for method, path, operation in operations(document):
        assert "default" not in operation["responses"], (method, path)
        for status, answer in operation["responses"].items():
            if int(status) < 400:
                continue
            (media,) = answer["content"]
            assert media == "application/problem+json", (method, path, status)
            ref = answer["content"][media]["schema"]["$ref"]
            assert ref in PROBLEM_REFS, (method, path, status)
            assert (ref.endswith("ValidationProblem")) == (status == "422"), (method, path)


def test_error_statuses_follow_each_route_s_shape(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "401" not in paths["/v1/health"]["get"]["responses"]
    assert "401" not in paths["/v1/auth/register"]["post"]["responses"]  # no token read
    assert "401" in paths["/v1/auth/login"]["post"]["responses"]  # declared: bad credentials
    assert "401" in paths["/v1/contacts"]["get"]["responses"]
    assert "404" in paths["/v1/campaigns/{campaign_id}"]["get"]["responses"]
    assert "404" not in paths["/v1/campaigns"]["get"]["responses"]
    assert "400" in paths["/v1/campaigns"]["get"]["responses"]  # a foreign cursor
    assert "422" in paths["/v1/campaigns"]["post"]["responses"]
    # A path parameter without a constraint is never a 422 (FastAPI's default said so).
    assert "422" not in paths["/v1/campaigns/{campaign_id}"]["get"]["responses"]


def _properties(schema: Any, name: str = "") -> Iterator[tuple[str, Any]]:
    """Every (property name, schema) pair under ``schema``, nested ones included."""
    if isinstance(schema, dict):
        for key, value in schema.get("properties", {}).items():
            yield key, value
            yield from _properties(value, key)
        for key in ("items", "anyOf", "oneOf", "allOf"):
            part = schema.get(key)
            for sub in part if isinstance(part, list) else [part] if part else []:
                yield from _properties(sub, name)


def _formats(schema: Any) -> set[str | None]:
    choices = schema.get("anyOf", [schema])
    return {choice.get("format") for choice in choices if choice.get("type") != "null"}


def test_every_instant_is_a_date_time(document: dict[str, Any]) -> None:
    instants = [
        (name, schema)
        for schema in document["components"]["schemas"].values()
        for name, schema in _properties(schema)
        if name.endswith("_at") or name == "now"
    ]
    assert len(instants) >= 10
    for name, schema in instants:
        assert _formats(schema) == {"date-time"}, (name, schema)


def test_an_optional_body_is_the_model_or_nothing_never_null(document: dict[str, Any]) -> None:
    body = document["paths"]["/v1/campaigns/{campaign_id}/preview"]["post"]["requestBody"]
    assert body["required"] is False
    schema = body["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PreviewCreate"}
