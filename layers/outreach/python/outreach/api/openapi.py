"""The OpenAPI document: what each API function's app describes, and the deployed API's.

:func:`finish` turns FastAPI's generated document into the one clients read:

* one ``Problem`` and one ``ValidationProblem`` component (RFC 9457 problem details,
  ``application/problem+json``) referenced by every error answer, instead of FastAPI's
  ``HTTPValidationError`` (a shape this API never answers) or a catch-all ``default``;
* each operation's error statuses: those its shape implies (401 for a route behind
  the bearer token, 404 for one naming a resource in its path, 400 and 422 for one
  reading a JSON body, 422 for query parameters, 400 for a listing's ``cursor``) and
  those the route declares itself (:func:`outreach.api.problems.problem_responses`:
  403, 409, 413, 415, 429...);
* the tags of the domains, described.

:func:`deployed_document` is the document of the API that ``template.yaml`` deploys:
every API function's routes, no ``/v1/dev`` route of the local stack. ``make openapi``
writes it to ``infra/openapi.json`` (committed; a test fails when it is stale), and
``GET /v1/openapi.json`` serves it.

Nothing here is imported by a function until its document is asked for.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from outreach.api.problems import (
    MAX_REPORTED_ERRORS,
    PROBLEM_MEDIA_TYPE,
    PROBLEM_REF,
    VALIDATION_PROBLEM_REF,
    problem_response_spec,
)

__all__ = ["DOCUMENT_PATH", "METHODS", "deployed_document", "document_text", "finish", "operations"]

DOCUMENT_PATH = Path("infra/openapi.json")
"""Where ``make openapi`` writes :func:`deployed_document`, from the repository root."""

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem. Some carry more members (e.g. `existing_id` on a "
    "409 for a phone that is already a contact).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "What went wrong, as a URN: `urn:outreach:problem:<slug>`.",
            "examples": ["urn:outreach:problem:not-found"],
        },
        "title": {"type": "string", "description": "The kind of problem, in words."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What happened in this case."},
    },
    "additionalProperties": True,
}

VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ValidationProblem",
    "description": f"A problem listing what failed: the first {MAX_REPORTED_ERRORS} errors "
    "(`loc`: where, from `body`, `query` or `path`; `msg`: what), all of them counted "
    "in `error_count`.",
    "allOf": [
        {"$ref": PROBLEM_REF},
        {
            "type": "object",
            "required": ["errors", "error_count"],
            "properties": {
                "errors": {
                    "type": "array",
                    "maxItems": MAX_REPORTED_ERRORS,
                    "items": {
                        "type": "object",
                        "required": ["loc", "msg"],
                        "properties": {
                            "loc": {
                                "type": "array",
                                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                            },
                            "msg": {"type": "string"},
                        },
                    },
                },
                "error_count": {"type": "integer", "minimum": 0},
            },
        },
    ],
}

TAGS: list[dict[str, str]] = [
    {"name": "health", "description": "Liveness and this document. No authentication."},
    {"name": "auth", "description": "Register an organization, log in, refresh, log out."},
    {"name": "organization", "description": "The caller's organization and its settings."},
    {"name": "users", "description": "The organization's users and their roles."},
    {
        "name": "api-keys",
        "description": "Long-lived, revocable keys for servers (a CRM's sync), sent as "
        "`Authorization: Bearer <key>`: each acts with its role and never manages users, "
        "keys or webhooks.",
    },
    {
        "name": "webhooks",
        "description": "Endpoints Outreach posts events to, signed per the Standard Webhooks "
        "specification, retried for more than a day; their recent deliveries.",
    },
    {"name": "contacts", "description": "Contacts: one per phone, with tags; CSV imports."},
    {"name": "opt-outs", "description": "Numbers the organization must never text."},
    {
        "name": "imports",
        "description": "Import jobs: a CSV of any size uploaded to S3, imported when it lands.",
    },
    {
        "name": "campaigns",
        "description": "Campaigns with A/B variants: author, preview, start, pause, resume, "
        "cancel; their statistics and sends.",
    },
    {
        "name": "conversations",
        "description": "The inbox: every text in and out, one conversation per number; "
        "read them and answer.",
    },
]

_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
"""The keys of an OpenAPI path item that name an operation (the others are its
``parameters``, ``summary``...)."""


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(method, path, operation)`` of every operation of ``document``, in its order."""
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (FastAPI's, changed in place and returned) as clients read it."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _FASTAPI_ERROR_SCHEMAS:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ValidationProblem"] = VALIDATION_PROBLEM_SCHEMA
    for _, _, operation in operations(document):
        _finish_operation(operation)
    used = {tag for _, _, operation in operations(document) for tag in operation.get("tags", ())}
    document["tags"] = [tag for tag in TAGS if tag["name"] in used]
    return document


def _finish_operation(operation: dict[str, Any]) -> None:
    """Replace FastAPI's error answers by problem answers, with the statuses the
    operation's shape implies added to those it declares."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("default", None)
    errors = {code: responses.pop(code) for code in list(responses) if code[0] in "45"}
    # FastAPI's own 422 (on any route with a parameter) goes: a path parameter without
    # a constraint is never one. The route's declared problems stay.
    declared = {int(code) for code, spec in errors.items() if _is_problem_answer(spec)}
    parameters = operation.get("parameters", [])
    implied: set[int] = set()
    if operation.get("security"):
        implied.add(401)
    if any(p.get("in") == "path" for p in parameters):
        implied.add(404)
    if any(p.get("in") == "query" for p in parameters):
        implied.add(422)
    if any(p.get("in") == "query" and p.get("name") == "cursor" for p in parameters):
        implied.add(400)
    _optional_body_without_null(operation)
    content = operation.get("requestBody", {}).get("content", {})
    if content:
        implied.add(422)
        if any(media.endswith("json") for media in content):
            implied.add(400)
    for status in sorted(declared | implied):
        given = errors.get(str(status), {})
        spec = problem_response_spec(status)
        if _is_problem_answer(given):  # declared by the route: its own words stay
            spec["description"] = given.get("description", spec["description"])
        responses[str(status)] = spec
    operation["responses"] = dict(sorted(responses.items()))


def _optional_body_without_null(operation: dict[str, Any]) -> None:
    """An optional body (``PreviewCreate | None = None``) is the model or nothing: FastAPI
    renders it ``anyOf [model, null]``, which made a generated client's call without a
    body send ``null``, or fail before sending (issue 18). ``required: false`` already
    says it may be left out."""
    body = operation.get("requestBody")
    if not body or body.get("required"):
        return
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        choices = schema.get("anyOf", [])
        if len(choices) == 2 and {"type": "null"} in choices:
            (model,) = [choice for choice in choices if choice != {"type": "null"}]
            media["schema"] = model
    body["required"] = False


def _is_problem_answer(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("schema", {})
    return schema.get("$ref") in (PROBLEM_REF, VALIDATION_PROBLEM_REF)


def _deployed_routers() -> list[Any]:
    """Every API function's routers, in ``template.yaml``'s order of the functions."""
    # Imported here: finishing one function's own document needs no other domain.
    from outreach.api.health import router as health_router  # noqa: PLC0415
    from outreach.api_keys.routes import routers as api_key_routers  # noqa: PLC0415
    from outreach.campaigns.routes import routers as campaign_routers  # noqa: PLC0415
    from outreach.contacts.routes import routers as contact_routers  # noqa: PLC0415
    from outreach.conversations.routes import routers as conversation_routers  # noqa: PLC0415
    from outreach.identity.routes import routers as identity_routers  # noqa: PLC0415
    from outreach.imports.routes import routers as import_routers  # noqa: PLC0415
    from outreach.webhooks.routes import routers as webhook_routers  # noqa: PLC0415

    return [
        health_router,
        *identity_routers,
        *api_key_routers,
        *webhook_routers,
        *contact_routers,
        *import_routers,
        *campaign_routers,
        *conversation_routers,
    ]


@lru_cache(maxsize=1)
def deployed_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route ``template.yaml`` deploys (built once
    per process; about a second the first time, as it imports every domain's routes)."""
    from outreach.api.app import create_app  # noqa: PLC0415 - app imports this module lazily

    return create_app(_deployed_routers()).openapi()


@lru_cache(maxsize=1)
def document_text() -> str:
    """:func:`deployed_document` as ``infra/openapi.json`` holds it: 2-space indented
    JSON, keys in FastAPI's order, a final newline."""
    return json.dumps(deployed_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """``python -m outreach.api.openapi [PATH]``: write the deployed document to ``PATH``
    (default ``infra/openapi.json``)."""
    path = Path(argv[1]) if len(argv) > 1 else DOCUMENT_PATH
    path.write_text(document_text(), encoding="utf-8")
    print(f"wrote {path} ({len(deployed_document()['paths'])} paths)")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
