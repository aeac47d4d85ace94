"""Identity API schemas: auth bodies (``*Body``), requests (``*Create``/``*Update``) and
answers (``*Public``), as `api-contract.md` fixes them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, AliasChoices, Field, field_validator, model_validator

from outreach.api.fields import (
    PhoneNumber,
    PublicModel,
    StrictModel,
    TimeOfDay,
    TimeZone,
    UtcInstant,
)
from outreach.api.pagination import PagePublic
from outreach.destinations import allowed_regions, is_region
from outreach.identity.domain import (
    LEGAL_QUIET_END,
    LEGAL_QUIET_START,
    NewUser,
    Organization,
    OrganizationChanges,
    Role,
    UserChanges,
    within_legal_quiet_hours,
)
from outreach.spend import (
    MAX_AUTO_REPLY_HOURLY_LIMIT,
    MAX_CONTACT_DAILY_LIMIT,
    MAX_DAILY_MESSAGE_LIMIT,
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


def _country_codes(codes: list[str]) -> list[str]:
    """Uppercased ISO 3166 alpha-2 codes, each a region libphonenumber has numbers for,
    each once."""
    codes = [code.upper() for code in codes]
    unknown = [code for code in codes if not is_region(code)]
    if unknown:
        raise ValueError(f"not ISO 3166 alpha-2 country codes: {', '.join(unknown[:5])}")
    if len(set(codes)) != len(codes):
        raise ValueError("each country may appear once")
    return codes


MAX_ALLOWED_COUNTRIES = 50
AllowedCountries = Annotated[
    list[Annotated[str, Field(min_length=2, max_length=2)]],
    Field(min_length=1, max_length=MAX_ALLOWED_COUNTRIES),
    AfterValidator(_country_codes),
]
"""The countries an organization may text (`api-contract.md` Addendum 1; issue 14 point 1)."""
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
    """Every field optional; ``sender_number: null`` removes the number.

    ``quiet_hours`` must lie inside 08:00-21:00 (narrowed, never widened: the federal
    window, `sending-rules.md` rule 3). The spend limits are bounded by
    :mod:`outreach.spend`; raising ``daily_message_limit`` is the owner's alone (the
    service checks the role, as it knows the current value).
    """

    name: Name | None = None
    timezone: TimeZone | None = None
    sender_number: PhoneNumber | None = None
    messages_per_second: Annotated[int, Field(ge=1, le=100)] | None = None
    quiet_hours: QuietHoursWindow | None = None
    help_text: Annotated[str, Field(min_length=1, max_length=320)] | None = None
    opt_out_footer: Annotated[str, Field(max_length=100)] | None = None
    allowed_countries: AllowedCountries | None = None
    daily_message_limit: Annotated[int, Field(ge=1, le=MAX_DAILY_MESSAGE_LIMIT)] | None = None
    contact_daily_limit: Annotated[int, Field(ge=1, le=MAX_CONTACT_DAILY_LIMIT)] | None = None
    auto_reply_hourly_limit: Annotated[int, Field(ge=0, le=MAX_AUTO_REPLY_HOURLY_LIMIT)] | None = (
        None
    )

    @field_validator("quiet_hours")
    @classmethod
    def _inside_the_legal_window(cls, window: QuietHoursWindow | None) -> QuietHoursWindow | None:
        if window is not None and not within_legal_quiet_hours(window.start, window.end):
            raise ValueError(
                f"quiet_hours must lie inside {LEGAL_QUIET_START}-{LEGAL_QUIET_END}, the "
                "federal telemarketing window (sending rule 3): it may be narrowed, "
                "never widened"
            )
        return window

    @model_validator(mode="after")
    def _only_sender_number_may_be_null(self) -> OrganizationUpdate:
        for field in self.model_fields_set - {"sender_number"}:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self

    def to_domain(self) -> OrganizationChanges:
        """The changes the client asked for: the fields it sent (null only for the number)."""
        quiet = self.quiet_hours
        countries = self.allowed_countries
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
            allowed_countries=tuple(countries) if countries is not None else None,
            daily_message_limit=self.daily_message_limit,
            contact_daily_limit=self.contact_daily_limit,
            auto_reply_hourly_limit=self.auto_reply_hourly_limit,
        )


class OrganizationPublic(PublicModel):
    """An organization and its sending settings.

    ``allowed_countries`` is the effective list, sorted: the countries set, or, when
    none are, the sender number's country (the default, :func:`allowed_regions`), so
    the answer always says where the organization's texts may go now.
    """

    id: str
    name: str
    timezone: str
    sender_number: str | None
    messages_per_second: int
    quiet_hours: QuietHoursWindow
    help_text: str
    opt_out_footer: str
    allowed_countries: list[str]
    daily_message_limit: int
    contact_daily_limit: int
    auto_reply_hourly_limit: int
    created_at: UtcInstant

    @classmethod
    def of(cls, source: Organization) -> Self:
        """The organization's fields by name, its two quiet-hours fields as one window and
        its effective countries."""
        window = QuietHoursWindow(start=source.quiet_hours_start, end=source.quiet_hours_end)
        countries = sorted(allowed_regions(source.allowed_countries, source.sender_number))
        return cls.model_validate(
            {**asdict(source), "quiet_hours": window, "allowed_countries": countries}
        )


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
