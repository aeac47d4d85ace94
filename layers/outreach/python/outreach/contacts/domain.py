"""Contacts domain objects and their limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_LENGTH = 64
MAX_ATTRIBUTE_VALUE_LENGTH = 500
MAX_TEXT_FIELD_LENGTH = 200

# The contact fields a PATCH or an import row can set.
PROFILE_FIELDS = ("first_name", "last_name", "email", "company", "timezone")


class OptOutSource(StrEnum):
    """How a number came onto the opt-out list."""

    KEYWORD = "keyword"
    MANUAL = "manual"
    IMPORT = "import"


@dataclass(frozen=True)
class Contact:
    """A person an organization may text."""

    id: str
    org_id: str
    phone: str
    first_name: str | None
    last_name: str | None
    email: str | None
    company: str | None
    tags: tuple[str, ...]
    attributes: dict[str, str]
    timezone: str | None
    created_at: datetime
    updated_at: datetime
    opted_out: bool = False


@dataclass(frozen=True)
class OptOut:
    """A number the organization must not text."""

    phone: str
    source: OptOutSource
    created_at: datetime


@dataclass
class ContactChanges:
    """What a PATCH or an import row asks to change; ``None`` means "leave as is"."""

    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    company: str | None = None
    timezone: str | None = None
    tags: tuple[str, ...] | None = None
    attributes: dict[str, str] | None = None
    # Fields the client explicitly set to null (PATCH only): they are cleared.
    cleared: set[str] = field(default_factory=set)


def normalize_tag(tag: str) -> str:
    """Tags compare case-insensitively: stored stripped and lowercased."""
    return tag.strip().lower()
