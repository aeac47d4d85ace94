"""Contacts API schemas: request bodies (``*Create``/``*Update``, mapped to the domain
with ``to_domain()``), answers (``*Public``, mapped from it with ``of``), and the CSV
upload's checks (media type, size, ``?tags=``)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator
from starlette.requests import Request

from outreach.api.fields import (
    PhoneNumber,
    PublicModel,
    StrictModel,
    TimeZone,
    UtcInstant,
    check_email,
)
from outreach.api.pagination import PagePublic
from outreach.contacts.csv_import import MAX_REPORTED_ROW_ERRORS
from outreach.contacts.domain import (
    MAX_ATTRIBUTE_KEY_LENGTH,
    MAX_ATTRIBUTE_VALUE_LENGTH,
    MAX_ATTRIBUTES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TEXT_FIELD_LENGTH,
    PROFILE_FIELDS,
    ContactChanges,
    ImportResult,
    normalize_tag,
    us_state,
)
from outreach.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_IMPORT_BYTES = 10 * 1024 * 1024
CSV_MEDIA_TYPES = ("text/csv", "application/csv")


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
# A contact's email keeps its case (identity's login email is lowercased).
ContactEmail = Annotated[str, Field(max_length=MAX_TEXT_FIELD_LENGTH), AfterValidator(check_email)]
Tags = Annotated[
    list[Annotated[str, Field(max_length=200)]], Field(max_length=MAX_TAGS), AfterValidator(_tags)
]
# A state as given ("fl", "FL", "Florida"), answered and stored as its USPS code; the
# bound keeps a huge value from being read (the longest name is 20 characters).
UsState = Annotated[
    str,
    Field(
        max_length=64,
        description="A two-letter US state code (USPS, e.g. FL) or a state's name; "
        "stored as the code (api-contract.md, Addendum 1).",
    ),
    AfterValidator(us_state),
]
Attributes = Annotated[
    dict[Annotated[str, Field(max_length=200)], Annotated[str, Field(max_length=5000)]],
    Field(max_length=MAX_ATTRIBUTES),
    AfterValidator(_attributes),
]


# The fields a body gives as they are: the phone and the profile (text, zone, state).
_SCALAR_FIELDS = {"phone", *PROFILE_FIELDS}


class ContactCreate(StrictModel):
    """Only ``phone`` is required; a missing ``timezone`` is inferred from the number, a
    missing ``state`` stays unset (the sender adds the area code's state itself). A
    ``state`` that is not a US state is a 422 naming ``state``."""

    phone: Phone
    first_name: Text | None = None
    last_name: Text | None = None
    email: ContactEmail | None = None
    company: Text | None = None
    tags: Tags = Field(default_factory=list)
    attributes: Attributes = Field(default_factory=dict)
    timezone: TimeZone | None = None
    state: UsState | None = None

    def to_domain(self) -> ContactChanges:
        """The new contact's values (tags and attributes empty when absent)."""
        return ContactChanges(
            **self.model_dump(include=_SCALAR_FIELDS),
            tags=tuple(self.tags),
            attributes=dict(self.attributes),
        )


class ContactUpdate(StrictModel):
    """Any field of the create body. ``null`` clears a text field, the zone or the state;
    ``tags`` and ``attributes`` replace the stored ones (``[]``/``{}`` clear them)."""

    phone: Phone | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    email: ContactEmail | None = None
    company: Text | None = None
    tags: Tags | None = None
    attributes: Attributes | None = None
    timezone: TimeZone | None = None
    state: UsState | None = None

    @model_validator(mode="after")
    def _not_null(self) -> ContactUpdate:
        for name in ("phone", "tags", "attributes"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def to_domain(self) -> ContactChanges:
        """The change: absent fields are ``None`` (kept), explicit nulls are in ``cleared``."""
        cleared: set[str] = {
            name
            for name in PROFILE_FIELDS
            if name in self.model_fields_set and getattr(self, name) is None
        }
        return ContactChanges(
            **self.model_dump(include=_SCALAR_FIELDS),
            tags=tuple(self.tags) if self.tags is not None else None,
            attributes=dict(self.attributes) if self.attributes is not None else None,
            cleared=cleared,
        )


class ContactPublic(PublicModel):
    """A contact as the API answers it (``api-contract.md``, ``contact``)."""

    id: str
    phone: str
    first_name: str | None
    last_name: str | None
    email: str | None
    company: str | None
    tags: list[str]
    attributes: dict[str, str]
    timezone: str | None
    state: str | None = Field(
        description="The contact's US state as a two-letter USPS code (e.g. FL), or null "
        "when not given; its rules apply beside those of the number's area code "
        "(api-contract.md, Addendum 1; sending-rules.md rule 7)."
    )
    opted_out: bool
    textable: bool = Field(
        description="Whether the organization may text this number under its current "
        "settings (api-contract.md, Addendum 1): campaigns leave it out otherwise."
    )
    not_textable_reason: Literal["country_not_allowed", "line_type"] | None = Field(
        description="Why it may not: a country the organization has not allowed "
        "(`allowed_countries`), or a premium-rate, shared-cost, pager or other line a text "
        "reaches at a cost the sender does not control. Null when textable."
    )
    created_at: UtcInstant
    updated_at: UtcInstant


class ContactsPublic(PagePublic[ContactPublic]):
    """A page of contacts; ``next_cursor`` is ``null`` on the last page."""


class ImportRowErrorPublic(PublicModel):
    """A problem with row ``row`` (from 1 at the first data row): why it was not imported,
    or, for a cell the row can do without (a ``state`` that is not a US state), which
    field was left out of the imported row (the ``error`` says so)."""

    row: int
    error: str


class ImportPublic(PublicModel):
    """``created`` new contacts, ``updated`` changed ones, ``skipped`` rows that changed
    nothing; rows in ``errors`` were not imported, but for those whose ``error`` says
    the row was imported without a bad cell's value (a ``state`` that is not a US state:
    issue 15, point 1), which are counted in ``created``/``updated``/``skipped`` too.
    Blank rows are ignored.

    ``errors`` holds the first ``MAX_REPORTED_ROW_ERRORS`` (100) row errors in row order
    and ``error_count`` counts them all (``api-contract.md``, Addendum 1; issue 14,
    point 6: the answer stays small whatever the file)."""

    created: int
    updated: int
    skipped: int
    errors: list[ImportRowErrorPublic]
    error_count: int

    @classmethod
    def of(cls, source: ImportResult) -> Self:
        return cls.model_validate(
            {
                "created": source.created,
                "updated": source.updated,
                "skipped": source.skipped,
                "errors": source.errors[:MAX_REPORTED_ROW_ERRORS],
                "error_count": len(source.errors),
            }
        )


async def read_csv_upload(request: Request) -> bytes:
    """The body of ``POST /v1/contacts/import`` once its media type and size pass, checked
    in the order the API answers them: 415 unless ``text/csv`` (or ``application/csv``),
    then 413 over 10 MB (the declared length before the body is read, then the body)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        raise UnsupportedMediaType("Send the CSV with Content-Type: text/csv.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("The CSV is larger than 10 MB.")
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("The CSV is larger than 10 MB.")
    return body


def import_tags(raw: str | None) -> tuple[str, ...]:
    """``?tags=a,b`` of an import: the normalised tags added to every row, empty ones
    dropped; 400 for one over ``MAX_TAG_LENGTH`` characters."""
    extra = tuple(t for t in (normalize_tag(x) for x in (raw or "").split(",")) if t)
    if any(len(tag) > MAX_TAG_LENGTH for tag in extra):
        raise BadRequest(f"A tag is at most {MAX_TAG_LENGTH} characters.")
    return extra


class OptOutCreate(StrictModel):
    """A number to suppress, in any common format (stored in E.164)."""

    phone: Phone


class OptOutPublic(PublicModel):
    """An entry of the opt-out list."""

    phone: str
    source: Literal["keyword", "manual", "import"]
    created_at: UtcInstant


class OptOutsPublic(PagePublic[OptOutPublic]):
    """A page of the opt-out list; ``next_cursor`` is ``null`` on the last page."""
