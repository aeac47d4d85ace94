"""API keys through the local stack's API (issue 20, point 1): made once and shown once,
accepted wherever an access token is with the key's role, never managing users, keys or
webhooks, refused at once when revoked, walled off between organizations, and
``last_used_at`` written at most once a minute, even under concurrent requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outreach.api_keys.domain import LAST_USED_EVERY
from outreach.api_keys.repository import ApiKeyRepository
from outreach.api_keys.service import ApiKeyService
from outreach.clock import SimulatedClock
from outreach.errors import Unauthorized
from outreach.identity.domain import Caller, Role
from outreach_local.server import build_app
from tests.support.concurrency import at_once
from tests.support.local_api import PASSWORD, sign_up


@pytest.fixture
def client(send_queue: str) -> TestClient:
    return TestClient(build_app())


def make_key(
    client: TestClient, auth: dict[str, str], role: str = "member", name: str = "CRM sync"
) -> dict[str, Any]:
    answer = client.post("/v1/api-keys", headers=auth, json={"name": name, "role": role})
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    made: dict[str, Any] = answer.json()
    return made


def secret_of(key: str) -> str:
    """The secret part of ``otr_<key id><organization id>_<secret>`` (ids: 26 characters)."""
    return key[len("otr_") + 52 + 1 :]


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def test_a_key_is_shown_once_and_works_wherever_a_token_does(client: TestClient) -> None:
    owner = sign_up(client)
    made = make_key(client, owner, role="admin", name="  HubSpot sync  ")
    assert set(made) == {
        *("id", "name", "role", "prefix", "key", "created_by", "created_at", "last_used_at")
    }
    assert made["created_by"] == client.get("/v1/auth/me", headers=owner).json()["id"]
    assert made["name"] == "HubSpot sync"
    assert made["role"] == "admin"
    assert made["last_used_at"] is None
    key = made["key"]
    assert key.startswith("otr_") and key.startswith(made["prefix"])
    assert len(made["prefix"]) == 16
    assert key[len("otr_") + 52] == "_"
    assert len(secret_of(key)) == 43  # 256 random bits, base64url

    # Every API function takes it.
    imported = client.post(
        "/v1/contacts/import",
        headers={**bearer(key), "content-type": "text/csv"},
        content="phone,first_name\n6175550123,Pat\n",
    )
    assert imported.status_code == 200, imported.text
    for path in ("/v1/contacts", "/v1/campaigns", "/v1/conversations", "/v1/organization"):
        assert client.get(path, headers=bearer(key)).status_code == 200, path
    # An admin key acts as an admin: it may change the organization's settings.
    changed = client.patch("/v1/organization", headers=bearer(key), json={"name": "Acme 2"})
    assert changed.status_code == 200, changed.text

    listed = client.get("/v1/api-keys", headers=owner)
    assert listed.status_code == 200
    assert key not in listed.text and secret_of(key) not in listed.text
    (item,) = listed.json()["items"]
    assert item["id"] == made["id"] and item["prefix"] == made["prefix"]
    assert "key" not in item and "secret_hash" not in item
    assert item["last_used_at"] is not None  # the first use moved it


def test_a_member_key_has_a_members_rights(client: TestClient) -> None:
    owner = sign_up(client)
    key = make_key(client, owner, role="member")["key"]
    assert client.get("/v1/contacts", headers=bearer(key)).status_code == 200
    refused = client.patch("/v1/organization", headers=bearer(key), json={"name": "Nope"})
    assert refused.status_code == 403


def test_a_key_never_manages_users_keys_or_itself(client: TestClient) -> None:
    owner = sign_up(client)
    made = make_key(client, owner, role="admin")
    key = bearer(made["key"])
    user = {"email": "sam@example.test", "password": PASSWORD, "full_name": "Sam", "role": "member"}
    attempts = [
        client.post("/v1/api-keys", headers=key, json={"name": "another", "role": "member"}),
        client.get("/v1/api-keys", headers=key),
        client.delete(f"/v1/api-keys/{made['id']}", headers=key),
        client.post("/v1/users", headers=key, json=user),
        client.get("/v1/auth/me", headers=key),
    ]
    assert [answer.status_code for answer in attempts] == [403] * len(attempts)
    assert attempts[0].headers["content-type"] == "application/problem+json"
    assert "no user" in attempts[-1].json()["detail"]  # /v1/auth/me
    owner_id = client.get("/v1/auth/me", headers=owner).json()["id"]
    renamed = client.patch(f"/v1/users/{owner_id}", headers=key, json={"full_name": "X"})
    assert renamed.status_code == 403
    assert client.delete(f"/v1/users/{owner_id}", headers=key).status_code == 403
    # Reading the organization's users is no management: a key may.
    assert client.get("/v1/users", headers=key).status_code == 200


def test_only_owners_and_admins_make_list_and_revoke_keys(client: TestClient) -> None:
    owner = sign_up(client)
    user = {"email": "sam@example.test", "password": PASSWORD, "full_name": "Sam", "role": "member"}
    assert client.post("/v1/users", headers=owner, json=user).status_code == 201
    tokens = client.post(
        "/v1/auth/login", json={"email": user["email"], "password": PASSWORD}
    ).json()
    member = bearer(tokens["access_token"])
    made = make_key(client, owner)
    made_by_member = client.post(
        "/v1/api-keys", headers=member, json={"name": "x", "role": "member"}
    )
    assert made_by_member.status_code == 403
    assert client.get("/v1/api-keys", headers=member).status_code == 403
    assert client.delete(f"/v1/api-keys/{made['id']}", headers=member).status_code == 403


def test_a_revoked_key_is_refused_at_once(client: TestClient) -> None:
    owner = sign_up(client)
    made = make_key(client, owner)
    key = bearer(made["key"])
    assert client.get("/v1/contacts", headers=key).status_code == 200
    assert client.delete(f"/v1/api-keys/{made['id']}", headers=owner).status_code == 204
    refused = client.get("/v1/contacts", headers=key)  # the very next request
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert client.delete(f"/v1/api-keys/{made['id']}", headers=owner).status_code == 404
    assert client.get("/v1/api-keys", headers=owner).json()["items"] == []


@pytest.mark.parametrize(
    "change",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # another secret
        lambda key: key[:-1],  # too short
        lambda key: "otr_" + "0" * 52 + "_" + secret_of(key),  # no such key
        lambda key: "otr_nonsense",
        lambda key: key + "x",  # too long
    ],
)
def test_a_key_that_is_not_one_we_made_is_a_401(client: TestClient, change: Any) -> None:
    owner = sign_up(client)
    key = make_key(client, owner)["key"]
    answer = client.get("/v1/contacts", headers=bearer(change(key)))
    assert answer.status_code == 401, answer.text
    assert answer.json()["detail"] == "Invalid API key"


def test_another_organization_neither_sees_nor_revokes_a_key(client: TestClient) -> None:
    acme = sign_up(client, "Acme")
    other = sign_up(client, "Other")
    made = make_key(client, acme)
    client.post(
        "/v1/contacts/import",
        headers={**other, "content-type": "text/csv"},
        content="phone,first_name\n6175550199,Olga\n",
    )
    assert client.get("/v1/api-keys", headers=other).json()["items"] == []
    assert client.delete(f"/v1/api-keys/{made['id']}", headers=other).status_code == 404
    assert client.delete("/v1/api-keys/not-an-id", headers=other).status_code == 404
    # Acme's key acts in Acme only: Other's contact is not among what it reads.
    assert client.get("/v1/contacts", headers=bearer(made["key"])).json()["items"] == []
    assert client.get("/v1/contacts", headers=bearer(made["key"])).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": "   ", "role": "member"},
        {"name": "x" * 101, "role": "member"},
        {"name": "CRM", "role": "owner"},
        {"name": "CRM"},
        {"name": "CRM", "role": "member", "secret": "mine"},
    ],
)
def test_a_bad_key_request_is_a_422(client: TestClient, body: dict[str, Any]) -> None:
    owner = sign_up(client)
    assert client.post("/v1/api-keys", headers=owner, json=body).status_code == 422


class CountingRepository(ApiKeyRepository):
    """The DynamoDB store, counting the ``last_used_at`` writes that took effect."""

    def __init__(self) -> None:
        self.moved = 0

    def note_used(self, org_id: str, key_id: str, *, now: datetime, every: timedelta) -> bool:
        moved = super().note_used(org_id, key_id, now=now, every=every)
        self.moved += moved
        return moved


def test_last_used_at_is_written_at_most_once_a_minute_under_concurrent_requests(
    aws: None,
) -> None:
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    clock = SimulatedClock(start)
    store = CountingRepository()
    service = ApiKeyService(keys=store, clock=clock)
    owner = Caller(user_id="user-1", org_id="01JD0000000000000000000000", role=Role.OWNER)
    key = service.create(owner, name="CRM", role=Role.MEMBER).key

    def burst() -> None:
        at_once([lambda: service.authenticate(key) for _ in range(8)])

    burst()
    assert store.moved == 1
    clock.advance(LAST_USED_EVERY / 2)
    burst()
    assert store.moved == 1
    clock.advance(LAST_USED_EVERY / 2)
    burst()
    assert store.moved == 2
    (listed,) = service.list_keys(owner, limit=10, cursor=None).items
    assert listed.last_used_at == start + LAST_USED_EVERY
    service.revoke(owner, listed.id)
    with pytest.raises(Unauthorized):
        service.authenticate(key)
