"""API key routes (owners and admins, signed in): parse, call one service method, map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from outreach.api.deps import CallerDep, no_store
from outreach.api.pagination import PageQueryDep
from outreach.api.problems import problem_responses
from outreach.api_keys.schemas import (
    ApiKeyCreate,
    ApiKeyCreatedPublic,
    ApiKeysPublic,
)
from outreach.api_keys.service import ApiKeyService, get_api_key_service

ApiKeyServiceDep = Annotated[ApiKeyService, Depends(get_api_key_service)]
FORBIDDEN = "The caller is a member, or an API key (keys never manage keys)."

router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(described={403: FORBIDDEN}),
)
def create_api_key(
    body: ApiKeyCreate, caller: CallerDep, service: ApiKeyServiceDep, response: Response
) -> ApiKeyCreatedPublic:
    """Make an API key acting as `admin` or `member` (owner or admin, signed in). `key` is
    in this answer only (`Cache-Control: no-store`): send it as
    `Authorization: Bearer <key>`."""
    issued = service.create(caller, name=body.name, role=body.grant)
    no_store(response)
    return ApiKeyCreatedPublic.of_issued(issued)


@router.get("", responses=problem_responses(described={403: FORBIDDEN}))
def list_api_keys(
    caller: CallerDep, service: ApiKeyServiceDep, page: PageQueryDep
) -> ApiKeysPublic:
    """The organization's API keys, oldest first, each with its `prefix` and
    `last_used_at` (owner or admin, signed in)."""
    return ApiKeysPublic.of(service.list_keys(caller, limit=page.limit, cursor=page.cursor))


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(described={403: FORBIDDEN}),
)
def revoke_api_key(key_id: str, caller: CallerDep, service: ApiKeyServiceDep) -> Response:
    """Revoke a key (owner or admin, signed in): the next request with it is a 401."""
    service.revoke(caller, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


routers = [router]
