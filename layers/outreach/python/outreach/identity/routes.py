"""Identity routes: parse, authorize, call one service method, map to a Public schema."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from outreach.api.deps import CallerDep, IdentityServiceDep, no_store
from outreach.api.pagination import PageQueryDep
from outreach.api.problems import problem_responses
from outreach.identity.schemas import (
    LoginBody,
    OrganizationPublic,
    OrganizationUpdate,
    RefreshBody,
    RegisterBody,
    RegisterPublic,
    StateRulesPublic,
    TokenPairPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
    UserUpdate,
)

auth_router = APIRouter(prefix="/v1/auth", tags=["auth"])
organization_router = APIRouter(prefix="/v1/organization", tags=["organization"])
users_router = APIRouter(prefix="/v1/users", tags=["users"])


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(described={409: "An account with this email already exists."}),
)
def register(body: RegisterBody, service: IdentityServiceDep) -> RegisterPublic:
    """Create an organization with the caller as its owner. 409 if the email is taken."""
    user, organization = service.register(
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        organization_name=body.organization_name,
    )
    return RegisterPublic(
        user=UserPublic.of(user), organization=OrganizationPublic.of(organization)
    )


@auth_router.post(
    "/login",
    responses=problem_responses(
        described={
            401: "Wrong email or password (either: the answer does not say which).",
            429: "5 failed sign-ins for this email within 15 minutes: try again after "
            "`Retry-After` seconds.",
        }
    ),
)
def login(body: LoginBody, service: IdentityServiceDep, response: Response) -> TokenPairPublic:
    """Exchange email and password for tokens (``Cache-Control: no-store``). 401 on bad
    credentials; 429 after 5 attempts for one email within 15 minutes without a success
    (with `Retry-After`), counted before the password is checked so parallel guesses
    get no more."""
    pair = service.login(email=body.email, password=body.password)
    no_store(response)
    return TokenPairPublic.of(pair)


@auth_router.post(
    "/refresh",
    responses=problem_responses(
        described={
            401: "Not a live refresh token (unknown, expired, revoked or already rotated: "
            "a rotated one presented again ends its whole login)."
        }
    ),
)
def refresh(body: RefreshBody, service: IdentityServiceDep, response: Response) -> TokenPairPublic:
    """Rotate a refresh token (``Cache-Control: no-store``). Presenting an
    already-rotated token revokes the whole login."""
    pair = service.refresh(body.refresh_token)
    no_store(response)
    return TokenPairPublic.of(pair)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: RefreshBody, caller: CallerDep, service: IdentityServiceDep) -> Response:
    """End the login `refresh_token` belongs to: its refresh and access tokens stop working.
    204 whatever the token; one that is not a live refresh token of the caller (garbage,
    rotated, expired, another user's) changes nothing, the caller's own login included."""
    service.logout(caller, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.get(
    "/me", responses=problem_responses(described={403: "The caller is an API key, no user."})
)
def get_current_user(caller: CallerDep, service: IdentityServiceDep) -> UserPublic:
    """The signed-in user (403 for an API key)."""
    return UserPublic.of(service.me(caller))


@organization_router.get("")
def get_organization(caller: CallerDep, service: IdentityServiceDep) -> OrganizationPublic:
    """The caller's organization."""
    return OrganizationPublic.of(service.get_organization(caller))


@organization_router.get("/state-rules")
def get_state_rules(caller: CallerDep) -> StateRulesPublic:
    """The US state rules the sending engine applies on top of the federal window and the
    organization's quiet hours (``sending-rules.md``, rule 7), with the date they were
    last reviewed and their sources. Any user of an organization may read them."""
    del caller  # signed-in users only; the table is the same for every organization
    return StateRulesPublic.current()


@organization_router.patch(
    "",
    responses=problem_responses(
        described={
            403: "The caller is a member, or an admin raising `daily_message_limit` (the "
            "owner's alone).",
            409: "Another organization has `sender_number`, or released it less than 30 "
            "days ago (`available_at` says when it is free).",
        }
    ),
)
def update_organization(
    body: OrganizationUpdate, caller: CallerDep, service: IdentityServiceDep
) -> OrganizationPublic:
    """Change settings (owner or admin). 422 for `quiet_hours` outside 08:00-21:00; 403 when
    an admin raises `daily_message_limit`; 409 if another organization has the sender
    number or released it less than 30 days ago (with `available_at`)."""
    return OrganizationPublic.of(service.update_organization(caller, body.to_domain()))


@users_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        described={
            403: "Only owners and admins add users.",
            409: "An account with this email already exists.",
        }
    ),
)
def create_user(body: UserCreate, caller: CallerDep, service: IdentityServiceDep) -> UserPublic:
    """Add an admin or member (owner or admin). 409 if the email is taken."""
    return UserPublic.of(service.create_user(caller, body.to_domain()))


@users_router.get("")
def list_users(caller: CallerDep, service: IdentityServiceDep, page: PageQueryDep) -> UsersPublic:
    """The organization's users, oldest first. 400 for a cursor of another listing or
    organization, or a tampered one."""
    return UsersPublic.of(service.list_users(caller, limit=page.limit, cursor=page.cursor))


@users_router.get("/{user_id}")
def get_user(user_id: str, caller: CallerDep, service: IdentityServiceDep) -> UserPublic:
    """One user of the organization."""
    return UserPublic.of(service.get_user(caller, user_id))


@users_router.patch(
    "/{user_id}",
    responses=problem_responses(
        described={
            403: "Only owners and admins change users.",
            409: "The owner cannot be demoted.",
        }
    ),
)
def update_user(
    user_id: str, body: UserUpdate, caller: CallerDep, service: IdentityServiceDep
) -> UserPublic:
    """Rename or change role (owner or admin). 409 when demoting the owner."""
    return UserPublic.of(service.update_user(caller, user_id, body.to_domain()))


@users_router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(
        described={
            403: "Only owners and admins remove users.",
            409: "The owner cannot be removed.",
        }
    ),
)
def delete_user(user_id: str, caller: CallerDep, service: IdentityServiceDep) -> Response:
    """Remove a user (owner or admin). 409 for the owner."""
    service.delete_user(caller, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


routers = [auth_router, organization_router, users_router]
