"""Every FastAPI dependency the routes take, in one place: the caller and the services.

A route declares ``caller: CallerDep`` to require a valid access token (401
otherwise) and ``service: XServiceDep`` for its domain's service, built once per
process by that domain's ``get_*_service()`` factory.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from outreach.campaigns.service import CampaignService, get_campaign_service
from outreach.contacts.service import ContactService, get_contact_service
from outreach.identity.domain import Caller
from outreach.identity.service import IdentityService, get_identity_service

_bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/login.")

IdentityServiceDep = Annotated[IdentityService, Depends(get_identity_service)]
ContactServiceDep = Annotated[ContactService, Depends(get_contact_service)]
CampaignServiceDep = Annotated[CampaignService, Depends(get_campaign_service)]


def get_caller(
    service: IdentityServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Caller:
    """Authenticate the request's bearer token, or answer 401."""
    header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    return service.authenticate(header)


CallerDep = Annotated[Caller, Depends(get_caller)]
