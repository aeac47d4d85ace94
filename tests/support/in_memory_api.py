"""An API function's real handler (Mangum, FastAPI, the routes, problem details) with
its services built on in-memory fakes instead of DynamoDB.

Use it for the HTTP-level checks that need no real persistence (status codes,
problem details, validation, the rules behind a route); the repository contract
tests hold the fakes to DynamoDB's behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from outreach_local.runtime import LocalLambdaContext, load_function
from tests.support.api import ApiClient


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
