"""Steps a user takes through the local stack's API (a TestClient on ``build_app()``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"


def sign_up(client: TestClient, name: str = "Acme", sender: str | None = None) -> dict[str, str]:
    """Register an owner of organization ``name``, log in, give it ``sender``; the auth header."""
    email = f"{name.lower()}@example.test"
    body = {"email": email, "password": PASSWORD, "full_name": name, "organization_name": name}
    assert client.post("/v1/auth/register", json=body).status_code == 201
    token = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    auth = {"authorization": f"Bearer {token['access_token']}"}
    if sender is not None:
        changed = client.patch("/v1/organization", headers=auth, json={"sender_number": sender})
        assert changed.status_code == 200, changed.text
    return auth


def start_campaign(client: TestClient, auth: dict[str, str], phones: list[str]) -> str:
    """Import ``phones`` (all named Pat), start an A/B campaign to everyone; its id."""
    rows = "\n".join(f"{phone},Pat" for phone in phones)
    imported = client.post(
        "/v1/contacts/import",
        headers={**auth, "content-type": "text/csv"},
        content=f"phone,first_name\n{rows}\n",
    ).json()
    assert imported["created"] == len(phones), imported
    campaign = client.post(
        "/v1/campaigns",
        headers=auth,
        json={
            "name": "Spring",
            "template_a": "Hi {first_name}!",
            "template_b": "Hey {first_name}.",
            "audience": {"all": True},
        },
    ).json()
    started = client.post(f"/v1/campaigns/{campaign['id']}/start", headers=auth).json()
    assert started["status"] == "active", started
    return str(campaign["id"])


def tick(client: TestClient, auth: dict[str, str], now: str) -> dict[str, Any]:
    """``POST /v1/dev/tick`` at ``now``; its answer."""
    response = client.post("/v1/dev/tick", headers=auth, json={"now": now})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
