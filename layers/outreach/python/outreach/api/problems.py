"""RFC 9457 problem details for every error an API function answers.

Domain errors, request validation errors, malformed JSON, unknown routes,
wrong methods and unexpected failures all leave as
``application/problem+json``; none carries a stack trace, and none repeats more
than ``MAX_ECHO_LENGTH`` (100) characters of one input value (issue 14, point 6).
A validation problem lists at most :data:`MAX_REPORTED_ERRORS` errors and counts
them all in ``error_count``, so its size is bounded whatever the body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from outreach.errors import DomainError
from outreach.observability import logger
from outreach.validation import clip

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:outreach:problem:"
MAX_REPORTED_ERRORS = 100
"""A 400/422 problem lists this many of pydantic's errors at most (as an import lists
its first 100 row errors)."""
MAX_MESSAGE_LENGTH = 300
"""The longest ``msg`` a problem carries: our own messages quote input through
:func:`outreach.validation.echo` and stay far below; this keeps a message that
quotes input otherwise from growing with it."""


PROBLEM_REF = "#/components/schemas/Problem"
VALIDATION_PROBLEM_REF = "#/components/schemas/ValidationProblem"

_ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, or a `cursor` this listing did not issue.",
    401: "No valid access token (`WWW-Authenticate: Bearer`).",
    403: "The caller's role does not allow this.",
    404: "Nothing of that id in the caller's organization.",
    409: "The request conflicts with the resource's current state.",
    413: "The body is larger than this route takes.",
    415: "The body's content type is not one this route takes.",
    422: "The request breaks the schema or a rule; `errors` says where and what.",
    429: "Too many attempts: try again after `Retry-After` seconds.",
    503: "The SMS provider cannot take the text now: nothing was sent; try again after "
    "`Retry-After` seconds.",
}
_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "Seconds until the next attempt may succeed.",
    }
}
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}


def problem_response_spec(status: int, description: str | None = None) -> dict[str, Any]:
    """The OpenAPI response of an error ``status``: problem details, a
    ``ValidationProblem`` for a 422 and a ``Problem`` otherwise."""
    ref = VALIDATION_PROBLEM_REF if status == 422 else PROBLEM_REF
    spec: dict[str, Any] = {
        "description": description or _ERROR_DESCRIPTIONS.get(status) or _title_for(status),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": ref}}},
    }
    if status in _ERROR_HEADERS:
        spec["headers"] = _ERROR_HEADERS[status]
    return spec


def problem_responses(
    *statuses: int, described: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: the error statuses it answers beyond those its shape
    implies (see :mod:`outreach.api.openapi`), e.g. ``problem_responses(403, 409)``;
    ``described={409: "..."}`` words a status in the route's own terms."""
    words = dict(described or {})
    return {
        code: problem_response_spec(code, words.get(code)) for code in sorted({*statuses, *words})
    }


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build a problem-details response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _slug_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
    except ValueError:
        return "error"


def _title_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(
        exc.status, exc.slug, exc.title, exc.detail, extra=exc.extra, headers=exc.headers
    )


def _public_loc(loc: Any) -> list[str | int]:
    # A name in ``loc`` can be input: an unknown field's name, a dict key.
    return [part if isinstance(part, int) else clip(str(part)) for part in loc]


def _public_errors(errors: Sequence[Any]) -> dict[str, Any]:
    """``errors`` (the first :data:`MAX_REPORTED_ERRORS`, each ``{loc, msg}``) and
    ``error_count`` (all of them) for a problem."""
    # Only where and what: pydantic's "input" and "ctx" could echo a password back.
    public = [
        {
            "loc": _public_loc(error.get("loc", ())),
            "msg": str(error.get("msg", ""))[:MAX_MESSAGE_LENGTH],
        }
        for error in errors[:MAX_REPORTED_ERRORS]
    ]
    return {"errors": public, "error_count": len(errors)}


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem_response(
            400,
            "malformed-json",
            "Malformed JSON",
            "The request body is not valid JSON.",
            extra=_public_errors(errors),
        )
    return problem_response(
        422,
        "validation-failed",
        "Validation failed",
        "The request does not satisfy the schema; see errors.",
        extra=_public_errors(errors),
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and exc.detail == "Not Found":
        detail = f"No route matches {clip(request.url.path)}."
    elif exc.status_code == 405:
        detail = f"{clip(request.method)} is not allowed on {clip(request.url.path)}."
    else:
        detail = str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(
        exc.status_code,
        _slug_for(exc.status_code),
        _title_for(exc.status_code),
        detail,
        headers=headers,
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method the app serves on the request's path, sorted (``Allow`` of a 405).

    FastAPI makes one route per method and path, and Starlette's 405 names the methods
    of the first route whose path matched only (``OPTIONS /v1/contacts`` gave
    ``Allow: POST``); RFC 9110 (15.5.6) wants every method of the resource."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):  # included routers' too
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(route.methods or ())
    return sorted(methods)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Unhandled error", extra={"path": request.url.path, "method": request.method})
    return problem_response(
        500, "internal-error", "Internal server error", "An unexpected error occurred."
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem details."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
