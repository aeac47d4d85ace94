"""``GET /v1/health`` (liveness and the deployed version) and ``GET /v1/openapi.json``
(the deployed API's OpenAPI document), both without authentication."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from outreach.config import get_settings

router = APIRouter(prefix="/v1", tags=["health"])


class HealthPublic(BaseModel):
    """The health answer."""

    status: Literal["ok"]
    version: str


@router.get("/health", summary="Liveness and version")
def get_health() -> HealthPublic:
    """Answer 200 with the running version whenever the function can serve."""
    return HealthPublic(status="ok", version=get_settings().version)


@router.get(
    "/openapi.json",
    summary="This API's OpenAPI document",
    response_class=Response,
    responses={
        200: {
            "description": "The OpenAPI 3.1 document of every route of this API "
            "(`infra/openapi.json` in the repository).",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def get_openapi_document() -> Response:
    """The document clients are generated from. The identity function builds it from
    every domain's routes on the first call (their imports are paid then, not at a cold
    start) and keeps it for the life of the process."""
    from outreach.api.openapi import document_text  # noqa: PLC0415 - see the docstring

    return Response(
        document_text(),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )
