"""Identity as a security boundary, on DynamoDB (moto): tenancy across organizations,
and fuzzed requests that must never reach a 5xx, whatever DynamoDB makes of them.
(No secret in answers or logs: ``tests/unit/test_identity_api.py``.)"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach_local.runtime import LocalLambdaContext, load_function
from tests.integration.identity_support import Account, add_user, register
from tests.support.api import ApiClient


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

    # B logging out with A's refresh token changes nothing: A's login and B's stay.
    logout = api.call(
        "POST", "/v1/auth/logout", headers=bob.auth, body={"refresh_token": alice.refresh_token}
    )
    assert logout.status == 204
    assert (
        api.call("POST", "/v1/auth/refresh", body={"refresh_token": alice.refresh_token}).status
        == 200
    )
    assert api.call("GET", "/v1/auth/me", headers=bob.auth).status == 200

    # Nothing of A's changed.
    for user in a_users:
        assert api.call("GET", f"/v1/users/{user['id']}", headers=alice.auth).json() == user


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
