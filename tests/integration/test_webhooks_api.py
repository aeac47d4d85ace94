"""The webhook endpoints' API (issue 20, points 2 and 4): owners and admins only, never an
API key; https to public addresses only, refused per address class at creation and on a
change; the secret shown once and rotated; 404 across organizations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outreach.webhooks import addresses
from outreach_local.server import build_app
from tests.support.local_api import PASSWORD, sign_up

PUBLIC = "93.184.215.14"
RESOLVES: dict[str, list[str]] = {
    "hooks.example.com": [PUBLIC],
    "internal.example.com": ["10.0.0.7"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": [PUBLIC, "192.168.1.2"],
}


@pytest.fixture
def client(send_queue: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    def resolve(host: str, port: int) -> list[str]:
        if host not in RESOLVES:
            raise OSError(f"{host}: no such name")
        return RESOLVES[host]

    monkeypatch.setattr(addresses, "system_resolver", resolve)
    yield TestClient(build_app())


def create(client: TestClient, auth: dict[str, str], **body: Any) -> Any:
    return client.post(
        "/v1/webhooks",
        headers=auth,
        json={"url": "https://hooks.example.com/in", "events": ["message.received"], **body},
    )


def test_an_endpoint_is_made_listed_changed_rotated_and_deleted(client: TestClient) -> None:
    auth = sign_up(client)
    made = create(
        client,
        auth,
        description="CRM",
        events=["message.received", "message.received", "contact.opted_out"],
    )
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    endpoint = made.json()
    assert endpoint["events"] == ["message.received", "contact.opted_out"]
    assert endpoint["enabled"] is True and endpoint["disabled_reason"] is None
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")

    listed = client.get("/v1/webhooks", headers=auth)
    assert secret not in listed.text
    (item,) = listed.json()["items"]
    assert "secret" not in item and item["id"] == endpoint["id"]

    changed = client.patch(
        f"/v1/webhooks/{endpoint['id']}",
        headers=auth,
        json={"enabled": False, "description": "off"},
    )
    assert changed.status_code == 200 and changed.json()["enabled"] is False

    rotated = client.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret", headers=auth)
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != secret

    assert (
        client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=auth).json()["items"] == []
    )
    assert client.delete(f"/v1/webhooks/{endpoint['id']}", headers=auth).status_code == 204
    assert client.get(f"/v1/webhooks/{endpoint['id']}", headers=auth).status_code == 404
    assert client.delete(f"/v1/webhooks/{endpoint['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://hooks.example.com/in", "https"),
        ("https://internal.example.com/in", "private address"),
        ("https://metadata.example.com/in", "metadata"),
        ("https://mixed.example.com/in", "private address"),
        ("https://127.0.0.1/in", "loopback"),
        ("https://[::1]/in", "loopback"),
        ("https://169.254.1.1/in", "link-local"),
        ("https://224.0.0.5/in", "multicast"),
        ("https://nowhere.example.com/in", "does not resolve"),
        ("https://user:pw@hooks.example.com/in", "user name"),
        ("http://127.0.0.1:9000/in", "https"),  # loopback http: the local flag is off
    ],
)
def test_an_unsafe_url_is_a_422_at_creation_and_on_a_change(
    client: TestClient, url: str, words: str
) -> None:
    auth = sign_up(client)
    refused = create(client, auth, url=url)
    assert refused.status_code == 422, refused.text
    assert words in refused.json()["detail"]
    endpoint = create(client, auth).json()
    patched = client.patch(f"/v1/webhooks/{endpoint['id']}", headers=auth, json={"url": url})
    assert patched.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://hooks.example.com/in", "events": []},
        {"url": "https://hooks.example.com/in", "events": ["message.exploded"]},
        {"url": "https://hooks.example.com/in"},
        {"url": "https://hooks.example.com/in", "events": ["message.sent"], "secret": "mine"},
        {
            "url": "https://hooks.example.com/in",
            "events": ["message.sent"],
            "description": "x" * 501,
        },
    ],
)
def test_a_bad_body_is_a_422(client: TestClient, body: dict[str, Any]) -> None:
    auth = sign_up(client)
    assert client.post("/v1/webhooks", headers=auth, json=body).status_code == 422


def test_members_and_api_keys_never_manage_webhooks(client: TestClient) -> None:
    owner = sign_up(client)
    endpoint = create(client, owner).json()
    user = {"email": "sam@example.test", "password": PASSWORD, "full_name": "Sam", "role": "member"}
    assert client.post("/v1/users", headers=owner, json=user).status_code == 201
    token = client.post(
        "/v1/auth/login", json={"email": user["email"], "password": PASSWORD}
    ).json()
    member = {"authorization": f"Bearer {token['access_token']}"}
    key = client.post("/v1/api-keys", headers=owner, json={"name": "CRM", "role": "admin"}).json()
    admin_key = {"authorization": f"Bearer {key['key']}"}
    for caller in (member, admin_key):
        assert create(client, caller).status_code == 403
        assert client.get("/v1/webhooks", headers=caller).status_code == 403
        assert client.get(f"/v1/webhooks/{endpoint['id']}", headers=caller).status_code == 403
        assert (
            client.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret", headers=caller).status_code
            == 403
        )
        assert client.delete(f"/v1/webhooks/{endpoint['id']}", headers=caller).status_code == 403


def test_another_organizations_endpoint_is_not_found(client: TestClient) -> None:
    acme = sign_up(client, "Acme")
    other = sign_up(client, "Other")
    endpoint = create(client, acme).json()
    path = f"/v1/webhooks/{endpoint['id']}"
    assert client.get(path, headers=other).status_code == 404
    assert client.patch(path, headers=other, json={"enabled": False}).status_code == 404
    assert client.post(f"{path}/rotate-secret", headers=other).status_code == 404
    assert client.get(f"{path}/deliveries", headers=other).status_code == 404
    assert (
        client.post(
            f"{path}/deliveries/01JD00000000000000000000E1/retry", headers=other
        ).status_code
        == 404
    )
    assert client.delete(path, headers=other).status_code == 404
    assert client.get(path, headers=acme).status_code == 200


def test_an_organization_has_at_most_twenty_endpoints(client: TestClient) -> None:
    auth = sign_up(client)
    for _ in range(20):
        assert create(client, auth).status_code == 201
    assert create(client, auth).status_code == 409
