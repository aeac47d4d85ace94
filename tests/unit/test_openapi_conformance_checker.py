"""The OpenAPI conformance checker (``tests/support/openapi_conformance.py``) that every
``ApiClient`` call goes through: it refuses an undocumented status, a wrong content
type and a body breaking the documented schema, and accepts a documented answer. On a
small hand-written document, and on one real operation of the deployed API's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from outreach.contacts.schemas import ContactPublic
from tests.support.openapi_conformance import Conformance, NonConformance, deployed_conformance

JSON = "application/json"
PROBLEM = "application/problem+json"


def _json(ref: str) -> dict[str, Any]:
    return {"content": {JSON: {"schema": {"$ref": ref}}}, "description": "ok"}


def _problem() -> dict[str, Any]:
    return {
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "description": "a problem",
    }


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Things", "version": "1"},
    "paths": {
        "/v1/things": {
            "post": {"responses": {"201": _json("#/components/schemas/Thing"), "422": _problem()}}
        },
        "/v1/things/{thing_id}": {
            "get": {"responses": {"200": _json("#/components/schemas/Thing"), "4XX": _problem()}},
            "delete": {"responses": {"204": {"description": "gone"}, "404": _problem()}},
        },
        "/v1/things/special": {
            "get": {
                "responses": {
                    "200": {
                        "description": "the special thing",
                        "content": {JSON: {"schema": {"type": "object", "required": ["special"]}}},
                    }
                }
            }
        },
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "required": ["id", "created_at", "owner"],
                "properties": {
                    "id": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "owner": {"type": "string", "format": "email"},
                    "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Part"}},
                },
            },
            "Part": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
            "Problem": {
                "type": "object",
                "required": ["type", "title", "status", "detail"],
                "properties": {"status": {"type": "integer"}},
            },
        }
    },
}

THING = {"id": "t1", "created_at": "2026-01-02T03:04:05Z", "owner": "ada@acme.test"}
A_PROBLEM = {"type": "urn:x:not-found", "title": "Not Found", "status": 404, "detail": "none"}


@pytest.fixture(scope="module")
def things() -> Conformance:
    return Conformance(DOCUMENT)


def _refused(checker: Conformance, request: str, status: int, media: str | None, body: Any) -> str:
    """The message :meth:`Conformance.check` refuses the answer to ``request``
    (``"GET /v1/things/t1"``) with."""
    method, path = request.split(" ")
    text = body if isinstance(body, str) else json.dumps(body)
    with pytest.raises(NonConformance) as raised:
        checker.check(method, path, status, media, text)
    return str(raised.value)


def test_a_literal_segment_wins_over_a_templated_one(things: Conformance) -> None:
    special = things.operation_for("GET", "/v1/things/special")
    some = things.operation_for("get", "/v1/things/t1")
    assert special is not None and special.template == "/v1/things/special"
    assert some is not None and some.label == "GET /v1/things/{thing_id}"
    assert things.operation_for("GET", "/v1/things/") is None  # an empty segment is no id
    assert things.operation_for("PUT", "/v1/things") is None
    assert things.operation_for("GET", "/v1/things/t1/parts") is None


def test_documented_answers_are_accepted(things: Conformance) -> None:
    thing = {**THING, "parts": [{"n": 1}]}
    things.check("POST", "/v1/things", 201, "application/json; charset=utf-8", json.dumps(thing))
    things.check("GET", "/v1/things/t1", 200, JSON, json.dumps(THING))
    things.check("GET", "/v1/things/t1", 418, PROBLEM, json.dumps(A_PROBLEM))  # by its 4XX
    things.check("DELETE", "/v1/things/t1", 204, None, "")
    things.check("GET", "/v1/things/special", 200, JSON, '{"special": true}')
    assert things.nonconformance("GET", "/v1/things/t1", 200, JSON, json.dumps(THING)) is None


def test_an_undocumented_status_is_refused(things: Conformance) -> None:
    message = _refused(things, "POST /v1/things", 409, PROBLEM, A_PROBLEM)
    assert message.startswith("POST /v1/things -> 409 (POST /v1/things): status 409 is not")
    assert "documented: 201, 422" in message
    assert "urn:x:not-found" in message  # the body's excerpt
    assert "status 500" in _refused(things, "GET /v1/things/t1", 500, PROBLEM, A_PROBLEM)


def test_a_wrong_content_type_is_refused(things: Conformance) -> None:
    message = _refused(things, "POST /v1/things", 201, "text/plain", THING)
    assert "content type 'text/plain' is not documented for 201" in message
    assert "(documented: application/json)" in message
    assert "not documented" in _refused(things, "POST /v1/things", 422, JSON, A_PROBLEM)
    assert "(none)" in _refused(things, "POST /v1/things", 201, None, THING)


def test_a_body_where_none_is_documented_is_refused(things: Conformance) -> None:
    message = _refused(things, "DELETE /v1/things/t1", 204, JSON, "{}")
    assert "a body, where the 204 response documents none" in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({**THING, "created_at": "last Tuesday"}, "at $.created_at: 'last Tuesday' is not a"),
        ({**THING, "created_at": "2026-01-02T03:04:05"}, "is not a 'date-time'"),  # no offset
        ({**THING, "owner": "nobody"}, "at $.owner: 'nobody' is not a 'email'"),
        ({"id": "t1", "owner": "ada@acme.test"}, "'created_at' is a required property"),
        ({**THING, "parts": [{"n": "one"}]}, "at $.parts[0].n: 'one' is not of type 'integer'"),
        ("[1, 2", "the body is not JSON"),
    ],
)
def test_a_body_breaking_the_schema_is_refused(
    things: Conformance, body: Any, expected: str
) -> None:
    message = _refused(things, "GET /v1/things/t1", 200, JSON, body)
    assert message.startswith("GET /v1/things/t1 -> 200 (GET /v1/things/{thing_id}): ")
    assert expected in message


def test_a_problem_breaking_its_schema_is_refused(things: Conformance) -> None:
    message = _refused(things, "GET /v1/things/t1", 404, PROBLEM, {"title": "Not Found"})
    assert "'type' is a required property" in message


def test_a_request_the_document_does_not_describe_must_get_a_problem(
    things: Conformance,
) -> None:
    things.check("GET", "/v1/nothing", 404, PROBLEM, json.dumps(A_PROBLEM))
    things.check("PUT", "/v1/things", 405, PROBLEM, json.dumps({**A_PROBLEM, "status": 405}))
    assert "not 'application/problem+json'" in _refused(
        things, "GET /v1/nothing", 404, JSON, A_PROBLEM
    )
    assert "'detail' is a required property" in _refused(
        things, "GET /v1/nothing", 404, PROBLEM, {"type": "t", "title": "t", "status": 404}
    )
    message = _refused(things, "PUT /v1/things", 200, JSON, THING)
    assert "(no operation in the document): a 200 for an undocumented request" in message
    assert "the path's operations: POST /v1/things" in message


# --- One real operation of the deployed API's document -----------------------------------


def _contact(**changes: Any) -> dict[str, Any]:
    """A contact as ``GET /v1/contacts/{contact_id}`` answers it, through its own model."""
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    contact = ContactPublic.model_validate(
        {
            "id": "01JCONTACT",
            "phone": "+16175550123",
            "first_name": "Ada",
            "last_name": None,
            "email": "ada@acme.test",
            "company": None,
            "tags": ["leads"],
            "attributes": {},
            "attribute_labels": {},
            "timezone": "America/New_York",
            "state": "MA",
            "opted_out": False,
            "textable": True,
            "not_textable_reason": None,
            "created_at": at,
            "updated_at": at,
        }
    )
    body: dict[str, Any] = {**contact.model_dump(mode="json"), **changes}
    return body


def test_the_deployed_document_describes_get_contact() -> None:
    deployed = deployed_conformance()
    path = "/v1/contacts/01JCONTACT"
    operation = deployed.operation_for("GET", path)
    assert operation is not None and operation.spec["operationId"] == "getContact"
    deployed.check("GET", path, 200, JSON, json.dumps(_contact()))
    deployed.check("GET", path, 404, PROBLEM, json.dumps(A_PROBLEM))

    instant = _refused(deployed, "GET " + path, 200, JSON, _contact(created_at="yesterday"))
    assert "at $.created_at: 'yesterday' is not a 'date-time'" in instant
    missing = _contact()
    del missing["phone"]
    assert "'phone' is a required property" in _refused(deployed, "GET " + path, 200, JSON, missing)
    assert "status 418 is not documented" in _refused(deployed, "GET " + path, 418, PROBLEM, {})
    assert "content type 'application/json' is not documented for 404" in _refused(
        deployed, "GET " + path, 404, JSON, A_PROBLEM
    )
