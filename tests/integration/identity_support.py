"""Helpers for driving the identity function through its Lambda handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.api import ApiClient, ApiResponse

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    """A registered user with a live login."""

    email: str
    password: str
    user: dict[str, Any]
    organization: dict[str, Any]
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token}"}


def register(api: ApiClient, email: str, organization: str = "Acme Foundations") -> Account:
    created = api.call(
        "POST",
        "/v1/auth/register",
        body={
            "email": email,
            "password": PASSWORD,
            "full_name": "Pat Owner",
            "organization_name": organization,
        },
    )
    assert created.status == 201, created.text
    tokens = login(api, email).json()
    return Account(
        email=email,
        password=PASSWORD,
        user=created.json()["user"],
        organization=created.json()["organization"],
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


def login(api: ApiClient, email: str, password: str = PASSWORD) -> ApiResponse:
    return api.call("POST", "/v1/auth/login", body={"email": email, "password": password})


def add_user(api: ApiClient, admin: Account, email: str, role: str = "member") -> Account:
    created = api.call(
        "POST",
        "/v1/users",
        headers=admin.auth,
        body={"email": email, "password": PASSWORD, "full_name": "Sam Staff", "role": role},
    )
    assert created.status == 201, created.text
    tokens = login(api, email).json()
    return Account(
        email=email,
        password=PASSWORD,
        user=created.json(),
        organization=admin.organization,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )
