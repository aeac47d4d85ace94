"""Identity API schemas: what comes in (Create/Update) and what goes out (Public)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_serializer, model_validator

from outreach.api.fields import PhoneNumber, TimeOfDay, TimeZone, check_email
from outreach.clock import to_iso
from outreach.identity.domain import Organization, Role, User
from outreach.timezones import parse_hhmm


def _email(value: str) -> str:
    return check_email(value).lower()


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Email = Annotated[str, Field(max_length=320), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=10, max_length=256)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]

STRICT = ConfigDict(extra="forbid")


class RegisterRequest(BaseModel):
    model_config = STRICT
    email: Email
    password: Password
    full_name: Name
    organization_name: Name


class LoginRequest(BaseModel):
    model_config = STRICT
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class RefreshRequest(BaseModel):
    model_config = STRICT
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class TokenPairPublic(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int


class QuietHours(BaseModel):
    model_config = STRICT
    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _start_before_end(self) -> QuietHours:
        if parse_hhmm(self.start) >= parse_hhmm(self.end):
            raise ValueError("quiet_hours.start must be before quiet_hours.end")
        return self


class OrganizationUpdate(BaseModel):
    """Every field optional; ``sender_number: null`` removes the number."""

    model_config = STRICT
    name: Name | None = None
    timezone: TimeZone | None = None
    sender_number: PhoneNumber | None = None
    messages_per_second: Annotated[int, Field(ge=1, le=100)] | None = None
    quiet_hours: QuietHours | None = None
    help_text: Annotated[str, Field(min_length=1, max_length=320)] | None = None
    opt_out_footer: Annotated[str, Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _only_sender_number_may_be_null(self) -> OrganizationUpdate:
        for field in self.model_fields_set - {"sender_number"}:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self

    def changes(self) -> dict[str, object]:
        """The model attributes to set, from the fields the client sent."""
        changes: dict[str, object] = {
            field: getattr(self, field) for field in self.model_fields_set - {"quiet_hours"}
        }
        if self.quiet_hours is not None:
            changes["quiet_hours_start"] = self.quiet_hours.start
            changes["quiet_hours_end"] = self.quiet_hours.end
        return changes


class OrganizationPublic(BaseModel):
    id: str
    name: str
    timezone: str
    sender_number: str | None
    messages_per_second: int
    quiet_hours: QuietHours
    help_text: str
    opt_out_footer: str
    created_at: datetime

    @field_serializer("created_at")
    def _iso(self, value: datetime) -> str:
        return to_iso(value)

    @classmethod
    def of(cls, organization: Organization) -> OrganizationPublic:
        return cls(
            id=organization.id,
            name=organization.name,
            timezone=organization.timezone,
            sender_number=organization.sender_number,
            messages_per_second=organization.messages_per_second,
            quiet_hours=QuietHours(
                start=organization.quiet_hours_start, end=organization.quiet_hours_end
            ),
            help_text=organization.help_text,
            opt_out_footer=organization.opt_out_footer,
            created_at=organization.created_at,
        )


class UserPublic(BaseModel):
    id: str
    email: str
    full_name: str
    role: Role
    organization_id: str
    created_at: datetime

    @field_serializer("created_at")
    def _iso(self, value: datetime) -> str:
        return to_iso(value)

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=user.role,
            organization_id=user.org_id,
            created_at=user.created_at,
        )


class RegisterPublic(BaseModel):
    user: UserPublic
    organization: OrganizationPublic


class UserCreate(BaseModel):
    model_config = STRICT
    email: Email
    password: Password
    full_name: Name
    role: Literal["admin", "member"]


class UserUpdate(BaseModel):
    model_config = STRICT
    full_name: Name | None = None
    role: Literal["admin", "member"] | None = None


class UserList(BaseModel):
    items: list[UserPublic]
    next_cursor: str | None
