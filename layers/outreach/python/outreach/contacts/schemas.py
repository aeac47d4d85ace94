"""Contacts API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_serializer, model_validator

from outreach.api.fields import PhoneNumber, TimeZone, check_email
from outreach.clock import to_iso
from outreach.contacts.domain import (
    MAX_ATTRIBUTE_KEY_LENGTH,
    MAX_ATTRIBUTE_VALUE_LENGTH,
    MAX_ATTRIBUTES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TEXT_FIELD_LENGTH,
    Contact,
    ContactChanges,
    OptOut,
    normalize_tag,
)


def _tags(values: list[str]) -> list[str]:
    tags = list(dict.fromkeys(tag for tag in (normalize_tag(v) for v in values) if tag))
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise ValueError(f"a tag is at most {MAX_TAG_LENGTH} characters")
    return tags


def _attributes(values: dict[str, str]) -> dict[str, str]:
    for key, value in values.items():
        if not key.strip() or len(key) > MAX_ATTRIBUTE_KEY_LENGTH:
            raise ValueError(f"attribute names are 1 to {MAX_ATTRIBUTE_KEY_LENGTH} characters")
        if len(value) > MAX_ATTRIBUTE_VALUE_LENGTH:
            raise ValueError(
                f"attribute values are at most {MAX_ATTRIBUTE_VALUE_LENGTH} characters"
            )
    return values


Phone = PhoneNumber
Text = Annotated[str, Field(max_length=MAX_TEXT_FIELD_LENGTH)]
Email = Annotated[str, Field(max_length=MAX_TEXT_FIELD_LENGTH), AfterValidator(check_email)]
Tags = Annotated[
    list[Annotated[str, Field(max_length=200)]], Field(max_length=MAX_TAGS), AfterValidator(_tags)
]
Attributes = Annotated[
    dict[Annotated[str, Field(max_length=200)], Annotated[str, Field(max_length=5000)]],
    Field(max_length=MAX_ATTRIBUTES),
    AfterValidator(_attributes),
]

STRICT = ConfigDict(extra="forbid")


class ContactCreate(BaseModel):
    """Only ``phone`` is required; a missing ``timezone`` is inferred from the number."""

    model_config = STRICT
    phone: Phone
    first_name: Text | None = None
    last_name: Text | None = None
    email: Email | None = None
    company: Text | None = None
    tags: Tags = Field(default_factory=list)
    attributes: Attributes = Field(default_factory=dict)
    timezone: TimeZone | None = None

    def changes(self) -> ContactChanges:
        return ContactChanges(
            phone=self.phone,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            company=self.company,
            timezone=self.timezone,
            tags=tuple(self.tags),
            attributes=dict(self.attributes),
        )


class ContactUpdate(BaseModel):
    """Any field of the create body. ``null`` clears a text field or the zone; ``tags``
    and ``attributes`` replace the stored ones (``[]``/``{}`` clear them)."""

    model_config = STRICT
    phone: Phone | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    email: Email | None = None
    company: Text | None = None
    tags: Tags | None = None
    attributes: Attributes | None = None
    timezone: TimeZone | None = None

    @model_validator(mode="after")
    def _not_null(self) -> ContactUpdate:
        for name in ("phone", "tags", "attributes"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> ContactChanges:
        cleared: set[str] = {
            name
            for name in ("first_name", "last_name", "email", "company", "timezone")
            if name in self.model_fields_set and getattr(self, name) is None
        }
        return ContactChanges(
            phone=self.phone,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            company=self.company,
            timezone=self.timezone,
            tags=tuple(self.tags) if self.tags is not None else None,
            attributes=dict(self.attributes) if self.attributes is not None else None,
            cleared=cleared,
        )


def _iso(value: datetime) -> str:
    return to_iso(value)


class ContactPublic(BaseModel):
    id: str
    phone: str
    first_name: str | None
    last_name: str | None
    email: str | None
    company: str | None
    tags: list[str]
    attributes: dict[str, str]
    timezone: str | None
    opted_out: bool
    created_at: datetime
    updated_at: datetime

    @field_serializer("created_at", "updated_at")
    def _timestamps(self, value: datetime) -> str:
        return _iso(value)

    @classmethod
    def of(cls, contact: Contact) -> ContactPublic:
        return cls(
            id=contact.id,
            phone=contact.phone,
            first_name=contact.first_name,
            last_name=contact.last_name,
            email=contact.email,
            company=contact.company,
            tags=list(contact.tags),
            attributes=dict(contact.attributes),
            timezone=contact.timezone,
            opted_out=contact.opted_out,
            created_at=contact.created_at,
            updated_at=contact.updated_at,
        )


class ContactList(BaseModel):
    items: list[ContactPublic]
    next_cursor: str | None


class ImportError_(BaseModel):
    row: int
    error: str


class ImportPublic(BaseModel):
    """``created`` new contacts, ``updated`` changed ones, ``skipped`` rows that changed
    nothing; rows in ``errors`` were not imported. Blank rows are ignored."""

    created: int
    updated: int
    skipped: int
    errors: list[ImportError_]


class OptOutCreate(BaseModel):
    model_config = STRICT
    phone: Phone


class OptOutPublic(BaseModel):
    phone: str
    source: Literal["keyword", "manual", "import"]
    created_at: datetime

    @field_serializer("created_at")
    def _timestamps(self, value: datetime) -> str:
        return _iso(value)

    @classmethod
    def of(cls, entry: OptOut) -> OptOutPublic:
        return cls(phone=entry.phone, source=entry.source.value, created_at=entry.created_at)


class OptOutList(BaseModel):
    items: list[OptOutPublic]
    next_cursor: str | None
