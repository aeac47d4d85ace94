"""An API function's real handler (Mangum, FastAPI, the routes, problem details) with
its services built on in-memory fakes instead of DynamoDB.

Use it for the HTTP-level checks that need no real persistence (status codes,
problem details, validation, the rules behind a route); the repository contract
tests hold the fakes to DynamoDB's behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from outreach.api.deps import get_caller
from outreach.clock import SimulatedClock
from outreach.contacts.service import ContactService, get_contact_service
from outreach.identity.domain import Caller, Role
from outreach.ids import new_id
from outreach_local.runtime import LocalLambdaContext, load_function
from tests.support import builders
from tests.support.api import ApiClient
from tests.support.fakes.contacts import InMemoryContactStore, InMemoryOptOutList
from tests.support.fakes.identity import InMemoryIdentityStore


@contextmanager
def api_with(
    function: str, overrides: Mapping[Callable[..., Any], Callable[..., Any]]
) -> Iterator[ApiClient]:
    """``functions/<function>``'s handler with FastAPI dependency ``overrides`` applied
    (e.g. ``{get_contact_service: lambda: service, get_caller: lambda: caller}``),
    removed again on exit."""
    app = load_function(function).app
    app.dependency_overrides.update(overrides)
    try:
        yield ApiClient(function, LocalLambdaContext(function_name=f"test-{function}"))
    finally:
        app.dependency_overrides.clear()


@contextmanager
def contacts_api_for(org_id: str) -> Iterator[ApiClient]:
    """The contacts handler on a new in-memory contact service, called by an owner of
    ``org_id`` (an organization with the default settings)."""
    organizations = InMemoryIdentityStore()
    organizations.organizations[org_id] = builders.organization(at=datetime.now(UTC), id=org_id)
    service = ContactService(
        contacts=InMemoryContactStore(),
        opt_outs=InMemoryOptOutList(),
        organizations=organizations,
        clock=SimulatedClock(datetime.now(UTC)),
    )
    caller = Caller(
        user_id=new_id(datetime.now(UTC)), org_id=org_id, role=Role.OWNER, session_id="s"
    )
    overrides: dict[Callable[..., Any], Callable[..., Any]] = {
        get_contact_service: lambda: service,
        get_caller: lambda: caller,
    }
    with api_with("contacts", overrides) as client:
        yield client
