"""Contacts domain objects and their limits."""

from __future__ import annotations

import re
import unicodedata
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
    attribute_labels: dict[str, str] = field(default_factory=dict)
    """The name each attribute was given where it differs from its key
    (``{"contact_owner": "Contact owner"}``): shown, never matched (:func:`attribute_key`)."""

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
    attributes: dict[str, str] | None = None  # keyed by attribute_key
    # The names given for ``attributes`` where they differ from the keys (key -> name).
    attribute_labels: dict[str, str] | None = None
    # Fields the client explicitly set to null (PATCH only): they are cleared.
    cleared: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class RowError:
    """Why CSV row ``row`` (rows count from 1 at the first data row) was not imported:
    no valid phone number, more non-empty cells than columns, a row that cannot be
    parsed. A bad cell the contact can do without is a :class:`RowWarning` instead."""

    row: int
    error: str


@dataclass(frozen=True)
class RowWarning:
    """A cell of CSV row ``row`` (from 1 at the first data row) left out of the imported
    row: a bad email or time zone, a ``state`` that is not a US state, a value too long,
    a column with no name (issue 17, point 3). ``warning`` names the cell and says why."""

    row: int
    warning: str


@dataclass
class ImportResult:
    """What an import did; every data row is counted once in ``created``, ``updated``,
    ``skipped`` or ``errors`` (blank rows are ignored); ``warnings`` name the cells left
    out of imported rows (:class:`RowWarning`), ``encoding`` the file's encoding as read
    (``"utf-8"``, ``"windows-1252"``...; ``None`` before a file is read)."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    encoding: str | None = None


_NOT_KEY_CHARACTERS = re.compile(r"[^a-z0-9]+")


def attribute_key(name: str) -> str:
    """The key an attribute is stored and matched under: ``name`` with accents removed,
    lowercased, every run of other characters one ``_``, none at either end, at most
    :data:`MAX_ATTRIBUTE_KEY_LENGTH` characters (``"Contact owner"`` -> ``"contact_owner"``,
    ``"Favorite Color"`` -> ``"favorite_color"``, ``"Código Postal"`` -> ``"codigo_postal"``,
    ``"lead-source"`` -> ``"lead_source"``).

    ``api-contract.md``, Addendum 1 ("Attribute keys are stored normalised"); issue 17,
    point 4: imports, contact writes and ``{attributes.KEY}`` placeholders all go through
    it, so a header, a stored key and a placeholder that differ only in case, spacing or
    punctuation name the same attribute. ``""`` when ``name`` has no letter or digit
    (such a column cannot be named in a template: callers leave it out).
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    key = _NOT_KEY_CHARACTERS.sub("_", ascii_text.lower()).strip("_")
    return key[:MAX_ATTRIBUTE_KEY_LENGTH].rstrip("_")


def keyed_attributes(
    attributes: Mapping[str, object], labels: Mapping[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """``(attributes, labels)``: ``attributes`` (name -> value) keyed by
    :func:`attribute_key`, and the name shown for each key where it differs from the key.

    A key's label is the one ``labels`` (key -> name) gives, else the name it was found
    under (``{"Favorite Color": "red"}`` gives ``({"favorite_color": "red"},
    {"favorite_color": "Favorite Color"})``). Where two names give one key the first wins
    (its value and its name); a name without a letter or digit is left out (no template
    can name it). Values are read as text.

    Used where attributes are written (a PATCH, an import row) and wherever stored ones
    are read: contacts written before keys were normalised hold the names as given
    (issue 17, point 4: read through the same normalisation, no table migration).
    """
    keyed: dict[str, str] = {}
    names: dict[str, str] = {}
    for name, value in attributes.items():
        key = attribute_key(str(name))
        if not key or key in keyed:
            continue
        keyed[key] = str(value)
        label = (labels or {}).get(key) or str(name)
        if label != key:
            names[key] = label
    return keyed, names


def stored_attributes(
    attributes: Mapping[str, object], labels: Mapping[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """:func:`keyed_attributes` of a contact's attributes as a store holds them, where two
    names with one key (only in a contact written before keys were normalised) are
    settled the same way by every reader, whatever order the store answers them in: a
    name that is its key already wins, else the first in code-point order
    (``{"Favorite Color": "red", "favorite color": "blue"}`` reads ``{"favorite_color":
    "red"}``; issue 17, point 4). The contacts API and the sender both read through it,
    so a preview and the text sent agree."""
    ordered = sorted(
        attributes.items(), key=lambda item: (attribute_key(item[0]) != item[0], item[0])
    )
    return keyed_attributes(dict(ordered), labels)


def normalize_tag(tag: str) -> str:
    """Tags compare case-insensitively: stored stripped and lowercased."""
    return tag.strip().lower()
