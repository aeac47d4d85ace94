"""Identity routes through the real Lambda handler (Mangum, FastAPI, the routes and
problem details) with the service on in-memory stores: status codes, problem
details, fields, validation, token attacks and logging, without DynamoDB.

The paths that rest on DynamoDB itself stay on moto in
``tests/integration/test_identity.py`` and ``test_identity_security.py``; the stores
are held to DynamoDB by ``tests/integration/test_identity_contract.py``.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from outreach.clock import SystemClock
from outreach.config import get_settings
from outreach.identity.service import get_identity_service
from outreach.identity.tokens import AccessTokens
from outreach.observability import logger
from outreach.secrets import get_signing_key
from tests.integration.identity_support import PASSWORD, Account, add_user, login, register
from tests.support.api import ApiClient
from tests.support.fakes.identity import in_memory_identity_service
from tests.support.in_memory_api import api_with


@pytest.fixture
def api() -> Iterator[ApiClient]:
    # The system clock: token expiry is checked against real time, as in production.
    service = in_memory_identity_service(SystemClock())
    with api_with("identity", {get_identity_service: lambda: service}) as client:
        yield client


@pytest.fixture
def owner(api: ApiClient) -> Account:
    return register(api, "owner@acme.test")


# --- Register ---------------------------------------------------------------------------


def test_register_creates_organization_and_owner(api: ApiClient) -> None:
    response = api.call(
        "POST",
        "/v1/auth/register",
        body={
            "email": "  Pat@Acme.TEST ",
            "password": PASSWORD,
            "full_name": "Pat",
            "organization_name": "Acme",
        },
    )
    assert response.status == 201
    body = response.json()
    user, organization = body["user"], body["organization"]
    assert set(user) == {"id", "email", "full_name", "role", "organization_id", "created_at"}
    assert user["email"] == "pat@acme.test"
    assert user["role"] == "owner"
    assert user["organization_id"] == organization["id"]
    assert user["created_at"].endswith("Z")
    assert organization["timezone"] == "America/New_York"
    assert organization["sender_number"] is None
    assert organization["messages_per_second"] == 1
    assert organization["quiet_hours"] == {"start": "08:00", "end": "21:00"}
    assert organization["opt_out_footer"] == "Reply STOP to opt out"
    assert "password" not in response.text and "argon2" not in response.text


def test_register_with_a_taken_email_is_a_409_whatever_its_case(
    api: ApiClient, owner: Account
) -> None:
    response = api.call(
        "POST",
        "/v1/auth/register",
        body={
            "email": "OWNER@acme.test",
            "password": PASSWORD,
            "full_name": "Other",
            "organization_name": "Other Co",
        },
    )
    response.assert_problem(409)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "short"),
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("full_name", "   "),
        ("organization_name", ""),
        ("password", "x" * 257),
    ],
)
def test_register_validates(api: ApiClient, field: str, value: str) -> None:
    body = {
        "email": "new@acme.test",
        "password": PASSWORD,
        "full_name": "New",
        "organization_name": "New Co",
        field: value,
    }
    problem = api.call("POST", "/v1/auth/register", body=body).assert_problem(422)
    assert ["body", field] in [error["loc"] for error in problem["errors"]]


def test_register_rejects_unknown_fields_and_malformed_json(api: ApiClient) -> None:
    api.call(
        "POST",
        "/v1/auth/register",
        body={
            "email": "n@acme.test",
            "password": PASSWORD,
            "full_name": "N",
            "organization_name": "N",
            "role": "owner",
        },
    ).assert_problem(422)
    api.call(
        "POST",
        "/v1/auth/register",
        raw_body='{"email": ',
        headers={"content-type": "application/json"},
    ).assert_problem(400)


# --- Login, refresh, logout ------------------------------------------------------------------


def test_login_answers_a_bearer_pair(api: ApiClient, owner: Account) -> None:
    body = login(api, "Owner@Acme.test").json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    claims = jwt.decode(
        body["access_token"], get_signing_key(), algorithms=["HS256"], audience="outreach-api"
    )
    assert {"sub", "org", "role", "jti", "iat", "exp", "iss", "aud"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == 900
    assert claims["org"] == owner.organization["id"]
    assert claims["role"] == "owner"


def test_wrong_password_and_unknown_email_answer_the_same(api: ApiClient, owner: Account) -> None:
    wrong = login(api, owner.email, "wrong password!").assert_problem(401)
    unknown = login(api, "nobody@acme.test", "wrong password!").assert_problem(401)
    assert wrong == unknown


def test_five_failures_lock_the_email_whatever_the_password(api: ApiClient, owner: Account) -> None:
    for _ in range(5):
        login(api, owner.email, "wrong password!").assert_problem(401)
    response = login(api, owner.email)
    response.assert_problem(429)
    assert 1 <= int(response.headers["retry-after"]) <= 15 * 60 + 1
    login(api, "OWNER@acme.test").assert_problem(429)
    # Another email is not affected.
    register(api, "other@acme.test", "Other Co")


def test_unknown_emails_are_throttled_too(api: ApiClient) -> None:
    for _ in range(5):
        login(api, "ghost@acme.test", "whatever12345").assert_problem(401)
    login(api, "ghost@acme.test", "whatever12345").assert_problem(429)


def test_a_success_clears_earlier_failures(api: ApiClient, owner: Account) -> None:
    for _ in range(4):
        login(api, owner.email, "wrong password!").assert_problem(401)
    assert login(api, owner.email).status == 200
    for _ in range(4):
        login(api, owner.email, "wrong password!").assert_problem(401)
    assert login(api, owner.email).status == 200


@pytest.mark.parametrize("token", ["", "garbage", "x" * 512])
def test_unknown_refresh_tokens_are_401(api: ApiClient, owner: Account, token: str) -> None:
    response = api.call("POST", "/v1/auth/refresh", body={"refresh_token": token})
    assert response.status in (401, 422)
    assert response.content_type.startswith("application/problem+json")


def test_logout_ends_the_login(api: ApiClient, owner: Account) -> None:
    response = api.call(
        "POST", "/v1/auth/logout", headers=owner.auth, body={"refresh_token": owner.refresh_token}
    )
    assert response.status == 204
    api.call(
        "POST", "/v1/auth/refresh", body={"refresh_token": owner.refresh_token}
    ).assert_problem(401)
    api.call("GET", "/v1/auth/me", headers=owner.auth).assert_problem(401)


def test_logout_with_a_garbage_token_answers_204_and_keeps_the_session(
    api: ApiClient, owner: Account
) -> None:
    response = api.call(
        "POST", "/v1/auth/logout", headers=owner.auth, body={"refresh_token": "garbage"}
    )
    assert response.status == 204
    assert api.call("GET", "/v1/auth/me", headers=owner.auth).status == 200
    refreshed = api.call("POST", "/v1/auth/refresh", body={"refresh_token": owner.refresh_token})
    assert refreshed.status == 200


def test_logout_needs_a_token(api: ApiClient, owner: Account) -> None:
    api.call("POST", "/v1/auth/logout", body={"refresh_token": owner.refresh_token}).assert_problem(
        401
    )


def test_me_answers_the_user(api: ApiClient, owner: Account) -> None:
    response = api.call("GET", "/v1/auth/me", headers=owner.auth)
    assert response.json() == owner.user


# --- Token attacks ------------------------------------------------------------------------


OTHER_KEY = "another-key-of-sufficient-length-0123456789abcdef"


def _claims(owner: Account, **overrides: object) -> dict[str, object]:
    real = jwt.decode(owner.access_token, options={"verify_signature": False})
    return {**real, **overrides}


def _forge(claims: dict[str, object], key: bytes | str | None = None, alg: str = "HS256") -> str:
    return jwt.encode(claims, key if key is not None else get_signing_key(), algorithm=alg)


def _unsigned(claims: dict[str, object]) -> str:
    import base64
    import json

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def attacks(owner: Account) -> dict[str, str | None]:
    now = datetime.now(UTC)
    settings = get_settings()
    expired = AccessTokens(
        get_signing_key(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(minutes=15),
    ).issue(
        user_id=owner.user["id"],
        org_id=owner.organization["id"],
        role="owner",
        session_id=_claims(owner)["sid"],  # type: ignore[arg-type]
        now=now - timedelta(minutes=16),
    )
    without_sid = {k: v for k, v in _claims(owner).items() if k != "sid"}
    return {
        "missing": None,
        "not bearer": f"Basic {owner.access_token}",
        "empty bearer": "Bearer ",
        "malformed": "Bearer not.a.jwt",
        "expired": f"Bearer {expired}",
        "alg none": f"Bearer {_unsigned(_claims(owner))}",
        "wrong alg": f"Bearer {_forge(_claims(owner), alg='HS512')}",
        "wrong issuer": f"Bearer {_forge(_claims(owner, iss='evil'))}",
        "wrong audience": f"Bearer {_forge(_claims(owner, aud='other-api'))}",
        "bad signature": f"Bearer {_forge(_claims(owner), key=OTHER_KEY)}",
        "missing claim": f"Bearer {_forge(without_sid)}",
        "other organization": f"Bearer {_forge(_claims(owner, org='01AAAAAAAAAAAAAAAAAAAAAAAA'))}",
        "tampered role": owner.access_token[:-4] + "AAAA",
    }


@pytest.mark.parametrize(
    "attack",
    [
        "missing",
        "not bearer",
        "empty bearer",
        "malformed",
        "expired",
        "alg none",
        "wrong alg",
        "wrong issuer",
        "wrong audience",
        "bad signature",
        "missing claim",
        "other organization",
        "tampered role",
    ],
)
def test_token_attacks_are_401(api: ApiClient, owner: Account, attack: str) -> None:
    header = attacks(owner)[attack]
    if attack == "tampered role":
        header = f"Bearer {header}"
    headers = {"authorization": header} if header is not None else {}
    response = api.call("GET", "/v1/auth/me", headers=headers)
    response.assert_problem(401)
    assert response.headers["www-authenticate"] == "Bearer"


# --- Organization settings -----------------------------------------------------------------


def test_owner_updates_organization_settings(api: ApiClient, owner: Account) -> None:
    response = api.call(
        "PATCH",
        "/v1/organization",
        headers=owner.auth,
        body={
            "name": "Acme Foundation Repair",
            "timezone": "America/Chicago",
            "sender_number": "(617) 555-0123",
            "messages_per_second": 5,
            "quiet_hours": {"start": "09:00", "end": "20:00"},
            "help_text": "Acme: call 617-555-0100.",
            "opt_out_footer": "",
        },
    )
    assert response.status == 200, response.text
    body = response.json()
    assert body["sender_number"] == "+16175550123"
    assert body["timezone"] == "America/Chicago"
    assert body["quiet_hours"] == {"start": "09:00", "end": "20:00"}
    assert body["opt_out_footer"] == ""
    assert api.call("GET", "/v1/organization", headers=owner.auth).json() == body


def test_every_user_reads_the_state_rules_with_their_date_and_sources(
    api: ApiClient, owner: Account
) -> None:
    member = add_user(api, owner, "member@acme.test", role="member")
    response = api.call("GET", "/v1/organization/state-rules", headers=member.auth)
    assert response.status == 200, response.text
    body = response.json()
    assert body["effective_date"] == "2026-11-30"
    assert any("501.059" in source for source in body["sources"])
    states = {rule["state"]: rule for rule in body["states"]}
    assert list(states) == sorted(states)
    assert states["TX"] == {
        "state": "TX",
        "name": "Texas",
        "weekdays": {"start": "09:00", "end": "21:00"},
        "saturday": {"start": "09:00", "end": "21:00"},
        "sunday": {"start": "12:00", "end": "21:00"},
    }
    assert states["RI"]["sunday"] is None
    assert states["RI"]["saturday"] == {"start": "10:00", "end": "17:00"}
    assert api.call("GET", "/v1/organization/state-rules").status == 401


@pytest.mark.parametrize(
    "body",
    [
        {"timezone": "Mars/Olympus"},
        {"timezone": "EST5EDT/../../etc"},
        {"sender_number": "12345"},
        {"sender_number": "not a phone"},
        {"quiet_hours": {"start": "21:00", "end": "08:00"}},
        {"quiet_hours": {"start": "09:00", "end": "09:00"}},
        {"quiet_hours": {"start": "24:00", "end": "25:00"}},
        {"quiet_hours": {"start": "9am", "end": "5pm"}},
        {"messages_per_second": 0},
        {"messages_per_second": 101},
        {"name": None},
        {"name": ""},
        {"unknown": 1},
    ],
)
def test_organization_settings_validate(
    api: ApiClient, owner: Account, body: dict[str, object]
) -> None:
    api.call("PATCH", "/v1/organization", headers=owner.auth, body=body).assert_problem(422)


def test_switching_to_a_taken_sender_number_is_a_409_and_keeps_the_old_one(
    api: ApiClient, owner: Account
) -> None:
    other = register(api, "boss@other.test", "Other Co")
    api.call(
        "PATCH", "/v1/organization", headers=owner.auth, body={"sender_number": "+16175550123"}
    )
    api.call(
        "PATCH", "/v1/organization", headers=other.auth, body={"sender_number": "+16175550124"}
    )
    api.call(
        "PATCH", "/v1/organization", headers=other.auth, body={"sender_number": "+16175550123"}
    ).assert_problem(409)
    assert (
        api.call("GET", "/v1/organization", headers=other.auth).json()["sender_number"]
        == "+16175550124"
    )
    # The kept number is still guarded.
    api.call(
        "PATCH", "/v1/organization", headers=owner.auth, body={"sender_number": "+16175550124"}
    ).assert_problem(409)


def test_changing_sender_number_holds_the_old_one_for_its_organization(
    api: ApiClient, owner: Account
) -> None:
    # It used to free it at once; issue 14 point 8 holds it for 30 days
    # (tests/unit/test_identity_settings_api.py runs the clock past the hold).
    other = register(api, "boss@other.test", "Other Co")
    api.call(
        "PATCH", "/v1/organization", headers=owner.auth, body={"sender_number": "+16175550123"}
    )
    api.call(
        "PATCH", "/v1/organization", headers=owner.auth, body={"sender_number": "+16175550124"}
    )
    held = api.call(
        "PATCH", "/v1/organization", headers=other.auth, body={"sender_number": "+16175550123"}
    ).assert_problem(409)
    assert held["field"] == "sender_number"
    assert held["available_at"] in held["detail"]
    assert (
        api.call(
            "PATCH", "/v1/organization", headers=owner.auth, body={"sender_number": "+16175550123"}
        ).status
        == 200
    )


def test_members_cannot_change_settings_or_manage_users(api: ApiClient, owner: Account) -> None:
    member = add_user(api, owner, "member@acme.test")
    assert api.call("GET", "/v1/organization", headers=member.auth).status == 200
    api.call(
        "PATCH", "/v1/organization", headers=member.auth, body={"name": "Mine"}
    ).assert_problem(403)
    api.call(
        "POST",
        "/v1/users",
        headers=member.auth,
        body={"email": "x@acme.test", "password": PASSWORD, "full_name": "X", "role": "member"},
    ).assert_problem(403)
    api.call(
        "PATCH", f"/v1/users/{owner.user['id']}", headers=member.auth, body={"full_name": "Y"}
    ).assert_problem(403)
    api.call("DELETE", f"/v1/users/{owner.user['id']}", headers=member.auth).assert_problem(403)
    assert (
        api.call("GET", "/v1/organization", headers=owner.auth).json()["name"] == "Acme Foundations"
    )


# --- Users -------------------------------------------------------------------------------------


def test_a_demotion_takes_effect_at_once(api: ApiClient, owner: Account) -> None:
    admin = add_user(api, owner, "admin@acme.test", role="admin")
    api.call("PATCH", f"/v1/users/{admin.user['id']}", headers=owner.auth, body={"role": "member"})
    api.call("PATCH", "/v1/organization", headers=admin.auth, body={"name": "Mine"}).assert_problem(
        403
    )


def test_the_owner_cannot_be_deleted_or_demoted(api: ApiClient, owner: Account) -> None:
    admin = add_user(api, owner, "admin@acme.test", role="admin")
    owner_id = owner.user["id"]
    api.call("DELETE", f"/v1/users/{owner_id}", headers=admin.auth).assert_problem(409)
    api.call(
        "PATCH", f"/v1/users/{owner_id}", headers=admin.auth, body={"role": "member"}
    ).assert_problem(409)
    api.call(
        "PATCH", f"/v1/users/{owner_id}", headers=owner.auth, body={"role": "admin"}
    ).assert_problem(409)
    api.call(
        "PATCH", f"/v1/users/{owner_id}", headers=admin.auth, body={"role": "owner"}
    ).assert_problem(422)
    assert api.call("GET", "/v1/auth/me", headers=owner.auth).json()["role"] == "owner"


def test_user_emails_are_unique_across_the_product(api: ApiClient, owner: Account) -> None:
    other = register(api, "boss@other.test", "Other Co")
    api.call(
        "POST",
        "/v1/users",
        headers=other.auth,
        body={
            "email": "Owner@acme.test",
            "password": PASSWORD,
            "full_name": "Dup",
            "role": "member",
        },
    ).assert_problem(409)


def test_users_list_pages_with_cursors(api: ApiClient, owner: Account) -> None:
    for index in range(4):
        add_user(api, owner, f"user{index}@acme.test")
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.call("GET", "/v1/users", headers=owner.auth, query=query).json()
        assert len(page["items"]) <= 2
        seen.extend(user["email"] for user in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(["owner@acme.test"] + [f"user{i}@acme.test" for i in range(4)])


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "201"}, {"limit": "x"}])
def test_users_list_limit_is_bounded(api: ApiClient, owner: Account, query: dict[str, str]) -> None:
    api.call("GET", "/v1/users", headers=owner.auth, query=query).assert_problem(422)


def test_a_tampered_cursor_is_a_400(api: ApiClient, owner: Account) -> None:
    api.call("GET", "/v1/users", headers=owner.auth, query={"cursor": "abc.def"}).assert_problem(
        400
    )


# --- Secrets in answers and logs ------------------------------------------------------


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
