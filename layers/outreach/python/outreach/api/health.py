"""``GET /v1/health``: liveness and the deployed version, no authentication."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from outreach.config import get_settings

router = APIRouter(prefix="/v1", tags=["health"])


class HealthPublic(BaseModel):
    """The health answer."""

    status: Literal["ok"]
    version: str


@router.get("/health", summary="Liveness and version")
def health() -> HealthPublic:
    """Answer 200 with the running version whenever the function can serve."""
    return HealthPublic(status="ok", version=get_settings().version)
