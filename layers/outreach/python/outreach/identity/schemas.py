"""Identity API schemas: auth bodies (``*Body``), requests (``*Create``/``*Update``) and
answers (``*Public``), as `api-contract.md` fixes them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, AliasChoices, Field, model_validator

from outreach.api.fields import (
    PhoneNumber,
    PublicModel,
    StrictModel,
    TimeOfDay,
    TimeZone,
    UtcInstant,
)
from outreach.api.pagination import PagePublic
from outreach.identity.domain import (
    NewUser,
    Organization,
    OrganizationChanges,
    Role,
    UserChanges,
)
from outreach.timezones import parse_hhmm
from outreach.validation import check_email


def _login_email(value: str) -> str:
    return check_email(value).lower()


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


LoginEmail = Annotated[str, Field(max_length=320), AfterValidator(_login_email)]
"""The email a user signs in with: checked and lowercased (it is unique whatever its case)."""
Password = Annotated[str, Field(min_length=10, max_length=256)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]
# Who an owner or admin may add or make: never a second owner.
GrantableRole = Literal["admin", "member"]


class RegisterBody(StrictModel):
    """``POST /v1/auth/register``: the first user, who owns the new organization."""

    email: LoginEmail
    password: Password
    full_name: Name
    organization_name: Name


class LoginBody(StrictModel):
    """``POST /v1/auth/login``: checked only for size, so a bad email is a plain 401."""

    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class RefreshBody(StrictModel):
    """``POST /v1/auth/refresh`` and ``/logout``: the opaque refresh token."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class TokenPairPublic(PublicModel):
    """What login and refresh answer; ``expires_in`` is the access token's life in seconds."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int


class QuietHoursWindow(StrictModel):
    """The organization's ``quiet_hours``: the local hours (HH:MM) when texting is
    *allowed*, start before end (the name is the contract's)."""

    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _start_before_end(self) -> QuietHoursWindow:
        if parse_hhmm(self.start) >= parse_hhmm(self.end):
            raise ValueError("quiet_hours.start must be before quiet_hours.end")
        return self


class OrganizationUpdate(StrictModel):
    """Every field optional; ``sender_number: null`` removes the number."""

    name: Name | None = None
    timezone: TimeZone | None = None
    sender_number: PhoneNumber | None = None
    messages_per_second: Annotated[int, Field(ge=1, le=100)] | None = None
    quiet_hours: QuietHoursWindow | None = None
    help_text: Annotated[str, Field(min_length=1, max_length=320)] | None = None
    opt_out_footer: Annotated[str, Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _only_sender_number_may_be_null(self) -> OrganizationUpdate:
        for field in self.model_fields_set - {"sender_number"}:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self

    def to_domain(self) -> OrganizationChanges:
        """The changes the client asked for: the fields it sent (null only for the number)."""
        quiet = self.quiet_hours
        return OrganizationChanges(
            name=self.name,
            timezone=self.timezone,
            sender_number=self.sender_number,
            release_sender_number=(
                "sender_number" in self.model_fields_set and self.sender_number is None
            ),
            messages_per_second=self.messages_per_second,
            quiet_hours_start=quiet.start if quiet else None,
            quiet_hours_end=quiet.end if quiet else None,
            help_text=self.help_text,
            opt_out_footer=self.opt_out_footer,
        )


class OrganizationPublic(PublicModel):
    """An organization and its sending settings."""

    id: str
    name: str
    timezone: str
    sender_number: str | None
    messages_per_second: int
    quiet_hours: QuietHoursWindow
    help_text: str
    opt_out_footer: str
    created_at: UtcInstant

    @classmethod
    def of(cls, source: Organization) -> Self:
        """The organization's fields by name, and its two quiet-hours fields as one window."""
        window = QuietHoursWindow(start=source.quiet_hours_start, end=source.quiet_hours_end)
        return cls.model_validate({**asdict(source), "quiet_hours": window})


class UserPublic(PublicModel):
    """A user of the organization (never their password or its hash)."""

    id: str
    email: str
    full_name: str
    role: Role
    organization_id: str = Field(validation_alias=AliasChoices("organization_id", "org_id"))
    created_at: UtcInstant


class RegisterPublic(PublicModel):
    """What registering answers: the owner and their new organization."""

    user: UserPublic
    organization: OrganizationPublic


class UserCreate(StrictModel):
    """``POST /v1/users``: an admin or a member (there is one owner, who registered)."""

    email: LoginEmail
    password: Password
    full_name: Name
    role: GrantableRole

    def to_domain(self) -> NewUser:
        return NewUser(
            email=self.email, password=self.password, full_name=self.full_name, role=Role(self.role)
        )


class UserUpdate(StrictModel):
    """``PATCH /v1/users/{id}``: a new name, a new role, or both."""

    full_name: Name | None = None
    role: GrantableRole | None = None

    def to_domain(self) -> UserChanges:
        return UserChanges(
            full_name=self.full_name, role=Role(self.role) if self.role is not None else None
        )


class UsersPublic(PagePublic[UserPublic]):
    """A page of users; ``next_cursor`` is ``null`` on the last page."""
