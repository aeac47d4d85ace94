"""Identity routes through the Lambda handler on DynamoDB (moto): the paths whose
guarantees rest on DynamoDB itself (the transactions behind rotation, the email and
sender-number guards). Every other identity route check runs on in-memory stores in
``tests/unit/test_identity_api.py``; the rules are in ``tests/unit/test_identity_service.py``.
"""

from __future__ import annotations

import pytest

from tests.integration.identity_support import Account, add_user, login, register
from tests.support.api import ApiClient


@pytest.fixture
def api(identity: ApiClient) -> ApiClient:
    """The identity function on moto (``identity``, under the name these tests use)."""
    return identity


def test_refresh_rotates_the_pair(api: ApiClient, owner: Account) -> None:
    response = api.call("POST", "/v1/auth/refresh", body={"refresh_token": owner.refresh_token})
    assert response.status == 200
    pair = response.json()
    assert pair["refresh_token"] != owner.refresh_token
    assert (
        api.call(
            "GET", "/v1/auth/me", headers={"authorization": f"Bearer {pair['access_token']}"}
        ).status
        == 200
    )
    again = api.call("POST", "/v1/auth/refresh", body={"refresh_token": pair["refresh_token"]})
    assert again.status == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_login(
    api: ApiClient, owner: Account
) -> None:
    rotated = api.call(
        "POST", "/v1/auth/refresh", body={"refresh_token": owner.refresh_token}
    ).json()
    api.call(
        "POST", "/v1/auth/refresh", body={"refresh_token": owner.refresh_token}
    ).assert_problem(401)
    # Every token of that login is dead: the newer refresh token and both access tokens.
    api.call(
        "POST", "/v1/auth/refresh", body={"refresh_token": rotated["refresh_token"]}
    ).assert_problem(401)
    for token in (owner.access_token, rotated["access_token"]):
        api.call("GET", "/v1/auth/me", headers={"authorization": f"Bearer {token}"}).assert_problem(
            401
        )
    # Another login of the same user lives on.
    fresh = login(api, owner.email).json()
    assert (
        api.call(
            "GET", "/v1/auth/me", headers={"authorization": f"Bearer {fresh['access_token']}"}
        ).status
        == 200
    )


def test_sender_numbers_are_unique_across_organizations(api: ApiClient, owner: Account) -> None:
    other = register(api, "boss@other.test", "Other Co")
    assert (
        api.call(
            "PATCH", "/v1/organization", headers=owner.auth, body={"sender_number": "+16175550123"}
        ).status
        == 200
    )
    problem = api.call(
        "PATCH", "/v1/organization", headers=other.auth, body={"sender_number": "617.555.0123"}
    ).assert_problem(409)
    assert problem["field"] == "sender_number"
    # Releasing the number holds it for its organization for 30 days (issue 14 point 8;
    # it used to let the other organization take it at once, which
    # test_sender_number_hold.py shows happens once the hold ends).
    released = api.call(
        "PATCH", "/v1/organization", headers=owner.auth, body={"sender_number": None}
    )
    assert released.json()["sender_number"] is None
    held = api.call(
        "PATCH",
        "/v1/organization",
        headers=other.auth,
        body={"sender_number": "+1 617 555 0123"},
    ).assert_problem(409)
    assert held["field"] == "sender_number"
    assert held["available_at"] in held["detail"]
    assert (
        api.call(
            "PATCH",
            "/v1/organization",
            headers=owner.auth,
            body={"sender_number": "+1 617 555 0123"},
        ).status
        == 200
    )


def test_user_lifecycle(api: ApiClient, owner: Account) -> None:
    admin = add_user(api, owner, "admin@acme.test", role="admin")
    assert admin.user["role"] == "admin"
    member = add_user(api, admin, "member@acme.test")
    got = api.call("GET", f"/v1/users/{member.user['id']}", headers=admin.auth)
    assert got.json() == member.user
    renamed = api.call(
        "PATCH",
        f"/v1/users/{member.user['id']}",
        headers=admin.auth,
        body={"full_name": "Renamed", "role": "admin"},
    ).json()
    assert renamed["full_name"] == "Renamed" and renamed["role"] == "admin"
    assert api.call("DELETE", f"/v1/users/{member.user['id']}", headers=owner.auth).status == 204
    api.call("GET", f"/v1/users/{member.user['id']}", headers=owner.auth).assert_problem(404)
    # A deleted user's tokens and password stop working; the email is free again.
    api.call("GET", "/v1/auth/me", headers=member.auth).assert_problem(401)
    login(api, member.email).assert_problem(401)
    add_user(api, owner, "member@acme.test")
