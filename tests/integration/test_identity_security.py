"""Identity as a security boundary: tenancy, secrets in logs, and fuzzing."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.observability import logger
from outreach_local.runtime import LocalLambdaContext, load_function
from tests.conftest import ApiClient
from tests.integration.identity_support import PASSWORD, Account, add_user, login, register


@pytest.fixture
def api(aws: None, lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("identity", lambda_context)


def test_tenancy_matrix(api: ApiClient) -> None:
    """Organization B, using organization A's ids, gets 404 and changes nothing."""
    alice = register(api, "alice@a.test", "A Corp")
    a_member = add_user(api, alice, "member@a.test")
    bob = register(api, "bob@b.test", "B Corp")
    a_users = [alice.user, a_member.user]

    for user in a_users:
        user_id = user["id"]
        api.call("GET", f"/v1/users/{user_id}", headers=bob.auth).assert_problem(404)
        api.call(
            "PATCH",
            f"/v1/users/{user_id}",
            headers=bob.auth,
            body={"full_name": "Pwned", "role": "admin"},
        ).assert_problem(404)
        api.call("DELETE", f"/v1/users/{user_id}", headers=bob.auth).assert_problem(404)

    # B's listing and organization are B's alone.
    listed = api.call("GET", "/v1/users", headers=bob.auth).json()["items"]
    assert [user["email"] for user in listed] == ["bob@b.test"]
    api.call("PATCH", "/v1/organization", headers=bob.auth, body={"name": "B Renamed"})
    assert api.call("GET", "/v1/organization", headers=alice.auth).json()["name"] == "A Corp"

    # A's cursor is no good to B.
    page = api.call("GET", "/v1/users", headers=alice.auth, query={"limit": "1"}).json()
    assert page["next_cursor"]
    api.call(
        "GET", "/v1/users", headers=bob.auth, query={"cursor": page["next_cursor"]}
    ).assert_problem(400)

    # B logging out with A's refresh token ends only B's own login.
    api.call(
        "POST", "/v1/auth/logout", headers=bob.auth, body={"refresh_token": alice.refresh_token}
    )
    assert (
        api.call("POST", "/v1/auth/refresh", body={"refresh_token": alice.refresh_token}).status
        == 200
    )

    # Nothing of A's changed.
    for user in a_users:
        assert api.call("GET", f"/v1/users/{user['id']}", headers=alice.auth).json() == user


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything the Powertools logger writes (the lines CloudWatch would get)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def test_no_response_or_log_line_holds_a_password_hash_or_token(
    api: ApiClient, log_lines: io.StringIO
) -> None:
    responses: list[str] = []

    def call(method: str, path: str, **kwargs: Any) -> Any:
        response = api.call(method, path, **kwargs)
        responses.append(response.text)
        return response

    call(
        "POST",
        "/v1/auth/register",
        body={
            "email": "pat@acme.test",
            "password": PASSWORD,
            "full_name": "Pat",
            "organization_name": "Acme",
        },
    )
    call("POST", "/v1/auth/login", body={"email": "pat@acme.test", "password": "wrong-password-1"})
    first = call(
        "POST", "/v1/auth/login", body={"email": "pat@acme.test", "password": PASSWORD}
    ).json()
    auth = {"authorization": f"Bearer {first['access_token']}"}
    call("GET", "/v1/auth/me", headers=auth)
    second = call("POST", "/v1/auth/refresh", body={"refresh_token": first["refresh_token"]}).json()
    call("POST", "/v1/auth/refresh", body={"refresh_token": first["refresh_token"]})  # reuse
    third = login(api, "pat@acme.test").json()
    call(
        "POST",
        "/v1/auth/logout",
        headers={"authorization": f"Bearer {third['access_token']}"},
        body={"refresh_token": third["refresh_token"]},
    )
    log_text = log_lines.getvalue()
    assert "signed in" in log_text and "sign-in failed" in log_text and "reused" in log_text

    tokens = [
        token
        for pair in (first, second, third)
        for token in (pair["access_token"], pair["refresh_token"])
    ]
    secrets = [PASSWORD, "wrong-password-1", "$argon2id$", *tokens]
    for secret in secrets:
        assert secret not in log_text
    # Tokens appear only in the answers that issue them; passwords and hashes never.
    for text in responses:
        assert PASSWORD not in text and "wrong-password-1" not in text and "argon2" not in text


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _operations() -> list[tuple[str, str, list[str]]]:
    spec = load_function("identity").app.openapi()
    operations = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            names: list[str] = []
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref")
            if ref:
                schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
                names = list(schema.get("properties", {}))
            operations.append((path, method.upper(), names))
    return operations


OPERATIONS = _operations()


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    path, method, names = draw(st.sampled_from(OPERATIONS))
    concrete = re.sub(
        r"\{[^}]+\}",
        lambda _: quote(draw(st.text(min_size=1, max_size=30)), safe=""),
        path,
    )
    kwargs: dict[str, Any] = {}
    if method in ("POST", "PATCH"):
        kind = draw(st.sampled_from(["schema", "json", "raw"]))
        if kind == "schema":
            kwargs["body"] = draw(st.fixed_dictionaries({}, optional=dict.fromkeys(names, _json)))
        elif kind == "json":
            kwargs["body"] = draw(_json)
        else:
            kwargs["raw_body"] = draw(st.text(max_size=60))
            kwargs["headers"] = {"content-type": "application/json"}
    if draw(st.booleans()):
        kwargs["query"] = {"limit": draw(st.text(max_size=5)), "cursor": draw(st.text(max_size=40))}
    return concrete, method, kwargs


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests())
def test_fuzzed_identity_requests_never_5xx(
    api: ApiClient, request: tuple[str, str, dict[str, Any]]
) -> None:
    path, method, kwargs = request
    if not hasattr(api, "account"):
        api.account = register(api, "fuzz@acme.test")  # type: ignore[attr-defined]
    account: Account = api.account  # type: ignore[attr-defined]
    if path != "/v1/auth/logout":
        kwargs.setdefault("headers", {}).update(account.auth)
    response = api.call(method, path, **kwargs)
    assert response.status < 500, (method, path, kwargs, response.text)
    if response.status >= 400:
        response.assert_problem(response.status)
