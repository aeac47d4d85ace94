"""Identity domain objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """Roles, strongest first: owner > admin > member."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"

    @property
    def manages(self) -> bool:
        """Owners and admins manage users and organization settings."""
        return self in (Role.OWNER, Role.ADMIN)


DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_QUIET_START = "08:00"
DEFAULT_QUIET_END = "21:00"
DEFAULT_OPT_OUT_FOOTER = "Reply STOP to opt out"
DEFAULT_MESSAGES_PER_SECOND = 1


@dataclass(frozen=True)
class Organization:
    """A tenant and its sending settings."""

    id: str
    name: str
    timezone: str
    sender_number: str | None
    messages_per_second: int
    quiet_hours_start: str
    quiet_hours_end: str
    help_text: str
    opt_out_footer: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class User:
    """A person who signs in to one organization."""

    id: str
    org_id: str
    email: str
    full_name: str
    role: Role
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Caller:
    """The authenticated user a request acts as."""

    user_id: str
    org_id: str
    role: Role
    session_id: str


@dataclass(frozen=True)
class TokenPair:
    """What login and refresh answer."""

    access_token: str
    refresh_token: str
    expires_in: int
