"""The FastAPI dependencies every domain's routes share: the caller and the identity service.

A route declares ``caller: CallerDep`` to require a valid access token (401
otherwise). Each domain declares its own service dependency beside its routes
(``ContactServiceDep`` in :mod:`outreach.contacts.routes`, ...), built once per
process by that domain's ``get_*_service()`` factory: an API function then imports
only its own domain's service (the contacts function skipped about 65 ms of cold
start that the campaigns service's imports cost it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from outreach.errors import ValidationFailed
from outreach.identity.domain import Caller
from outreach.identity.service import IdentityService, get_identity_service

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /v1/auth/login, or an API key (otr_..., made with "
    "POST /v1/api-keys).",
)

IdentityServiceDep = Annotated[IdentityService, Depends(get_identity_service)]


def get_caller(
    service: IdentityServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Caller:
    """Authenticate the request's bearer token, or answer 401."""
    header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    return service.authenticate(header)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def object_or_no_body(request: Request) -> None:
    """A route's optional body is an object or nothing: an explicit JSON ``null`` is a 422,
    as the document (``required: false``, an object) says, not taken for no body. Declare
    it as ``dependencies=[Depends(object_or_no_body)]``."""
    if (await request.body()).strip() == b"null":
        raise ValidationFailed(
            "The body is an object, or left out.",
            [{"loc": ["body"], "msg": "give an object, or no body"}],
        )


def no_store(response: Response) -> None:
    """An answer that carries a secret (a token, an API key, a signing secret) must never
    be kept by a browser or a proxy cache (RFC 9111 ``no-store``; ``Pragma`` for HTTP/1.0
    caches; issue 14, point 10)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
