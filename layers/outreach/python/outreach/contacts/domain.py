"""Contacts domain objects and their limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from outreach.destinations import NotTextableReason
from outreach.state_rules import state_code

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_LENGTH = 64
MAX_ATTRIBUTE_VALUE_LENGTH = 500
MAX_TEXT_FIELD_LENGTH = 200

# The contact fields a PATCH or an import row can set.
PROFILE_FIELDS = ("first_name", "last_name", "email", "company", "timezone", "state")

NOT_A_US_STATE = "must be a two-letter US state code (e.g. FL) or a US state's name"


def us_state(text: str) -> str:
    """A contact's ``state`` as stored: the USPS code of ``text`` (``"fl"``, ``"FL"`` and
    ``"Florida"`` all give ``"FL"``; :func:`outreach.state_rules.state_code`).

    ``api-contract.md``, Addendum 1 ("Contact: ``state``, optional, two-letter US
    state"); issue 15, point 1. :class:`ValueError` (:data:`NOT_A_US_STATE`) for anything
    else: a Canadian province (``"ON"``), an unknown code (``"XX"``), a foreign region.
    """
    code = state_code(text)
    if code is None:
        raise ValueError(NOT_A_US_STATE)
    return code


class OptOutSource(StrEnum):
    """How a number came onto the opt-out list (:mod:`outreach.contacts.opt_outs`)."""

    KEYWORD = "keyword"
    MANUAL = "manual"
    IMPORT = "import"


class TemplateValues(TypedDict):
    """What a message template's placeholders are filled from (``sending-rules.md``,
    "Message body"): the profile fields by name, and ``attributes`` for
    ``{attributes.<key>}``. ``None`` is an empty value (the fallback applies)."""

    first_name: str | None
    last_name: str | None
    company: str | None
    email: str | None
    phone: str
    attributes: dict[str, str]


def template_values_from(
    *,
    phone: str,
    first_name: str | None,
    last_name: str | None,
    company: str | None,
    email: str | None,
    attributes: Mapping[str, str],
) -> TemplateValues:
    """The template values of a contact given field by field, for readers that hold
    only the fields a message needs (the sender's projected read), not a :class:`Contact`."""
    return TemplateValues(
        first_name=first_name,
        last_name=last_name,
        company=company,
        email=email,
        phone=phone,
        attributes=dict(attributes),
    )


@dataclass(frozen=True)
class Contact:
    """A person an organization may text.

    ``state`` is the USPS code the organization gave (:func:`us_state`), never inferred
    from the number: the sender adds the area code's state itself
    (:func:`outreach.state_rules.recipient_states`; issue 15, point 1).

    ``opted_out`` and ``not_textable_reason`` are not stored: the contact service sets
    them on the contacts it answers, from the opt-out list and from the organization's
    current settings (:func:`outreach.destinations.not_textable_reason`; issue 14, point
    1). A store answers them unset (``False``, ``None``).
    """

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
    state: str | None
    created_at: datetime
    updated_at: datetime
    opted_out: bool = False
    not_textable_reason: NotTextableReason | None = None

    @property
    def textable(self) -> bool:
        """Whether the organization may text this number (``not_textable_reason`` is unset)."""
        return self.not_textable_reason is None

    def template_values(self) -> TemplateValues:
        """The values this contact's messages are rendered with (a copy: safe to change)."""
        return template_values_from(
            phone=self.phone,
            first_name=self.first_name,
            last_name=self.last_name,
            company=self.company,
            email=self.email,
            attributes=self.attributes,
        )


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
    state: str | None = None  # a USPS code, already normalised (:func:`us_state`)
    tags: tuple[str, ...] | None = None
    attributes: dict[str, str] | None = None
    # Fields the client explicitly set to null (PATCH only): they are cleared.
    cleared: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class RowError:
    """A problem with CSV row ``row`` (rows count from 1 at the first data row).

    Most row errors mean the row was not imported. A cell the contact can do without
    (a ``state`` that is not a US state) is reported here too, but its row is imported
    without that value (issue 15, point 1: a bad cell never drops a good row); its
    ``error`` names the field and says so.
    """

    row: int
    error: str


@dataclass
class ImportResult:
    """What an import did; every data row is counted once in ``created``, ``updated``,
    ``skipped`` or ``errors`` (blank rows are ignored), but for a row imported despite a
    bad cell, counted both as imported and in ``errors`` (:class:`RowError`)."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)


def normalize_tag(tag: str) -> str:
    """Tags compare case-insensitively: stored stripped and lowercased."""
    return tag.strip().lower()
