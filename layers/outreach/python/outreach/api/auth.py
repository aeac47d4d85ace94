"""The one dependency that yields the caller (user, organization, role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from outreach.identity.domain import Caller
from outreach.identity.service import IdentityService, get_identity_service

_bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/login.")

IdentityServiceDep = Annotated[IdentityService, Depends(get_identity_service)]


def get_caller(
    service: IdentityServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Caller:
    """Authenticate the request's bearer token, or answer 401."""
    header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    return service.authenticate(header)


CallerDep = Annotated[Caller, Depends(get_caller)]
