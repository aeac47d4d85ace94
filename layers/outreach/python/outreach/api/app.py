"""The FastAPI app factory and the Lambda handler every API function uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from outreach import __version__
from outreach.api.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from outreach.observability import logger, metrics

API_DESCRIPTION = """
Outreach: text campaigns for small businesses.

* JSON in and out, snake_case fields, UTC timestamps in ISO 8601 with `Z`.
* Every route except health, register, login and refresh needs
  `Authorization: Bearer <access token>`.
* Errors are RFC 9457 problem details (`application/problem+json`):
  `type`, `title`, `status`, `detail`, and `errors` (`loc`, `msg`) for 400/422:
  the first 100 errors, with `error_count` counting them all. No error repeats
  more than 100 characters of what was sent.
  Malformed JSON is a 400; a body that breaks the schema is a 422.
* Lists take `limit` (1..200, default 50) and an opaque `cursor` from the
  previous page's `next_cursor`; a tampered or foreign cursor is a 400.
* A resource of another organization is answered exactly like a missing one: 404.
"""


def operation_id(route: APIRoute) -> str:
    """A route's ``operationId``: its function's name in camelCase (``create_campaign``
    -> ``createCampaign``), the name a generated client gives the call."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def create_app(routers: Iterable[APIRouter], *, title: str = "Outreach API") -> FastAPI:
    """Build a FastAPI app serving ``routers`` with problem-details errors.

    Its OpenAPI document (``app.openapi()``, ``/openapi.json``) is finished by
    :func:`outreach.api.openapi.finish`, imported only when it is first asked for."""
    app = FastAPI(
        title=title,
        version=__version__,
        description=API_DESCRIPTION,
        generate_unique_id_function=operation_id,
        # `/v1/users/` is a 404 problem, not a 307 to `/v1/users`: a redirect the document
        # does not describe, whose Location would name the function's host, not the API's.
        redirect_slashes=False,
    )
    for router in routers:
        app.include_router(router)
    install_problem_handlers(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from outreach.api.openapi import finish  # noqa: PLC0415 - on first use only

            app.openapi_schema = finish(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def lambda_handler(app: FastAPI) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """Wrap ``app`` for API Gateway (HTTP API v2) with Powertools observability."""
    asgi = Mangum(
        app,
        lifespan="off",
        text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, PROBLEM_MEDIA_TYPE, "text/csv"],
    )

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Powertools' and Mangum's LambdaContext types describe the same runtime object.
        return asgi(event, cast(Any, context))

    # Powertools' decorator factory (with arguments) is typed as returning Any.
    return cast(Callable[[dict[str, Any], LambdaContext], dict[str, Any]], handler)
