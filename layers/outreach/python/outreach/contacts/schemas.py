"""Contacts API schemas: request bodies (``*Create``/``*Update``, mapped to the domain
with ``to_domain()``), answers (``*Public``, mapped from it with ``of``), and the CSV
upload: its checks (media type, size, ``?tags=``), its reading (a ``text/csv`` body, or
the ``file`` part of a ``multipart/form-data`` one) and its OpenAPI request body."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple, Self

from pydantic import AfterValidator, ConfigDict, Field, model_validator
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from outreach.api.fields import (
    NOT_BLANK_PATTERN,
    E164Number,
    PhoneNumber,
    PublicModel,
    ResponseEmail,
    StrictModel,
    TimeZone,
    UtcInstant,
    ZoneName,
    check_email,
    model_schema,
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
from outreach.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_IMPORT_BYTES = 10 * 1024 * 1024
"""The largest CSV an import takes (10 MiB), sent as the body or as a form's file."""
CSV_MEDIA_TYPES = ("text/csv", "application/csv")
FORM_MEDIA_TYPE = "multipart/form-data"
FORM_OVERHEAD_BYTES = 64 * 1024
"""What a ``multipart/form-data`` body may add to its CSV: boundaries, part headers and
a ``tags`` field. A larger body is a 413 before it is parsed."""
FILE_FIELD = "file"
TAGS_FIELD = "tags"
_FORM_FIELDS = (FILE_FIELD, TAGS_FIELD)
MAX_IMPORT_TAGS_LENGTH = 1000
"""The longest ``?tags=`` (and form ``tags`` field) of an import, in characters."""


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
ContactEmail = Annotated[
    str,
    Field(
        max_length=MAX_TEXT_FIELD_LENGTH,
        json_schema_extra={"format": "email"},
        description="An email address (surrounding spaces are removed).",
    ),
    AfterValidator(check_email),
]
TAG_PATTERN = rf"^\s*(\S([\s\S]{{0,{MAX_TAG_LENGTH - 2}}}\S)?)?\s*$"
"""A tag as a request gives it: at most ``MAX_TAG_LENGTH`` characters once stripped
(a blank one is dropped)."""
_LISTED_TAG = rf"\s*([^,\s]([^,]{{0,{MAX_TAG_LENGTH - 2}}}[^,\s])?)?\s*"
IMPORT_TAGS_PATTERN = rf"^{_LISTED_TAG}(,{_LISTED_TAG})*$(?!\n)"
"""``?tags=`` of an import: comma-separated tags, each at most ``MAX_TAG_LENGTH``
characters once stripped (blank ones are dropped)."""
Tags = Annotated[
    list[Annotated[str, Field(max_length=200, json_schema_extra={"pattern": TAG_PATTERN})]],
    Field(max_length=MAX_TAGS),
    AfterValidator(_tags),
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
    dict[
        Annotated[str, Field(min_length=1, max_length=MAX_ATTRIBUTE_KEY_LENGTH)],
        Annotated[str, Field(max_length=MAX_ATTRIBUTE_VALUE_LENGTH)],
    ],
    Field(
        max_length=MAX_ATTRIBUTES,
        json_schema_extra={
            "propertyNames": {
                "minLength": 1,
                "maxLength": MAX_ATTRIBUTE_KEY_LENGTH,
                "pattern": NOT_BLANK_PATTERN,
            }
        },
    ),
    AfterValidator(_attributes),
]


# The fields a body gives as they are: the phone and the profile (text, zone, state).
_SCALAR_FIELDS = {"phone", *PROFILE_FIELDS}


class ContactCreate(StrictModel):
    """Only ``phone`` is required; a missing ``timezone`` is inferred from the number, a
    missing ``state`` stays unset (the sender adds the area code's state itself). A
    ``state`` that is not a US state is a 422 naming ``state``."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[
                {
                    "phone": "(617) 555-0100",
                    "first_name": "Dana",
                    "last_name": "Reyes",
                    "email": "dana@example.com",
                    "company": "Reyes Roofing",
                    "tags": ["leads", "spring"],
                    "attributes": {"roof": "slate"},
                    "timezone": "America/New_York",
                    "state": "MA",
                }
            ]
        )
    )

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


_NOT_NULL_CONTACT_FIELDS = ("phone", "tags", "attributes")
"""The fields of a PATCH an explicit ``null`` is refused for (a 422)."""


class ContactUpdate(StrictModel):
    """Any field of the create body. ``null`` clears a text field, the zone or the state;
    ``tags`` and ``attributes`` replace the stored ones (``[]``/``{}`` clear them);
    ``phone``, ``tags`` and ``attributes`` cannot be ``null``."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[{"company": "Reyes & Sons", "tags": ["customers"], "state": None}],
            not_null=_NOT_NULL_CONTACT_FIELDS,
        )
    )

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
        for name in _NOT_NULL_CONTACT_FIELDS:
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
    phone: E164Number
    first_name: str | None
    last_name: str | None
    email: ResponseEmail | None
    company: str | None
    tags: list[str]
    attributes: dict[str, str]
    timezone: ZoneName | None
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


class CsvUpload(NamedTuple):
    """An import's CSV (the bytes as sent) and, from a form, its ``tags`` field."""

    csv: bytes
    tags: str | None = None


_TOO_LARGE = "The CSV is larger than 10 MB."


async def read_csv_upload(request: Request) -> CsvUpload:
    """The CSV of ``POST /v1/contacts/import``, checked in the order the API answers:

    * 415 unless the body is ``text/csv`` (or ``application/csv``), or
      ``multipart/form-data``;
    * 413 for a CSV over 10 MB (:data:`MAX_IMPORT_BYTES`): the declared length before
      the body is read, then the body (a form's may be :data:`FORM_OVERHEAD_BYTES`
      more), then a form's file;
    * for a form: 400 when it cannot be parsed, 422 (naming the part) without exactly
      one ``file`` part or with a part other than ``file`` and ``tags``.

    A form is parsed by Starlette with python-multipart.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in CSV_MEDIA_TYPES:
        limit = MAX_IMPORT_BYTES
    elif media_type == FORM_MEDIA_TYPE:
        limit = MAX_IMPORT_BYTES + FORM_OVERHEAD_BYTES
    else:
        raise UnsupportedMediaType(
            "Send the CSV with Content-Type: text/csv, or as the file field of a "
            "multipart/form-data body."
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(_TOO_LARGE)
    body = await request.body()
    if len(body) > limit:
        raise PayloadTooLarge(_TOO_LARGE)
    if media_type in CSV_MEDIA_TYPES:
        return CsvUpload(body)
    return await _read_form(request)


async def _read_form(request: Request) -> CsvUpload:
    """The ``file`` part (a file, or a plain field holding the text) and the ``tags``
    fields (joined by commas) of the request's form, whose body is already read."""
    try:
        async with request.form(
            max_files=len(_FORM_FIELDS),
            max_fields=len(_FORM_FIELDS),
            max_part_size=MAX_IMPORT_BYTES + 1,
        ) as form:
            names = [name for name, _ in form.multi_items()]
            unknown = sorted(set(names) - set(_FORM_FIELDS))
            if unknown:
                raise ValidationFailed(
                    "The form has parts other than file and tags.",
                    [{"loc": ["body", name], "msg": "unknown part"} for name in unknown],
                )
            files = form.getlist(FILE_FIELD)
            if len(files) != 1:
                message = "field required" if not files else "give one file"
                raise ValidationFailed(
                    "Send the CSV in one form part named file (curl -F file=@contacts.csv).",
                    [{"loc": ["body", FILE_FIELD], "msg": message}],
                )
            (part,) = files
            if isinstance(part, UploadFile):
                if part.size is not None and part.size > MAX_IMPORT_BYTES:
                    raise PayloadTooLarge(_TOO_LARGE)
                csv = await part.read()
            else:
                csv = part.encode()
            if len(csv) > MAX_IMPORT_BYTES:
                raise PayloadTooLarge(_TOO_LARGE)
            tags = ",".join(value for value in form.getlist(TAGS_FIELD) if isinstance(value, str))
    except HTTPException as error:  # Starlette's answer to a form it cannot parse
        raise BadRequest(f"The multipart/form-data body cannot be read: {error.detail}") from error
    if len(tags) > MAX_IMPORT_TAGS_LENGTH:
        raise ValidationFailed(
            f"The tags field is longer than {MAX_IMPORT_TAGS_LENGTH} characters.",
            [{"loc": ["body", TAGS_FIELD], "msg": f"at most {MAX_IMPORT_TAGS_LENGTH} characters"}],
        )
    return CsvUpload(csv, tags or None)


IMPORT_EXAMPLE_CSV = (
    "phone,first_name,last_name,email,tags,state\n"
    "(617) 555-0100,Dana,Reyes,dana@example.com,leads;spring,MA\n"
    "+1 312 555 0111,Sam,Ortiz,,leads,Illinois\n"
)

IMPORT_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "The CSV (UTF-8, comma-, semicolon- or tab-separated, a header row "
    "first; at most 10 MB): as the body (`text/csv`; `application/csv` is taken too), or "
    "as the `file` part of a form (`curl -F file=@contacts.csv`).",
    "content": {
        "text/csv": {
            "schema": {"type": "string", "description": "The CSV's text."},
            "example": IMPORT_EXAMPLE_CSV,
        },
        FORM_MEDIA_TYPE: {
            "schema": {
                "type": "object",
                "required": [FILE_FIELD],
                "properties": {
                    FILE_FIELD: {
                        "type": "string",
                        "format": "binary",
                        "contentMediaType": "text/csv",
                        "description": "The CSV file.",
                    },
                    TAGS_FIELD: {
                        "type": "string",
                        "maxLength": MAX_IMPORT_TAGS_LENGTH,
                        "pattern": IMPORT_TAGS_PATTERN,
                        "description": "Comma-separated tags added to every row (beside "
                        "those of `?tags=`).",
                    },
                },
                "additionalProperties": False,
            },
            "encoding": {FILE_FIELD: {"contentType": "text/csv, application/octet-stream"}},
            "example": {FILE_FIELD: IMPORT_EXAMPLE_CSV, TAGS_FIELD: "spring"},
        },
    },
}
"""``POST /v1/contacts/import``'s OpenAPI ``requestBody`` (the route reads the body
itself, so FastAPI cannot describe it)."""


def import_tags(query: str | None, form: str | None = None) -> tuple[str, ...]:
    """The tags an import adds to every row: ``?tags=a,b`` and a form's ``tags`` field,
    normalised, each once, empty ones dropped. A tag over ``MAX_TAG_LENGTH`` characters
    is a 422 at ``query.tags`` or ``body.tags`` (as :data:`IMPORT_TAGS_PATTERN`
    documents for both)."""
    found: list[str] = []
    for loc, text in (("query", query), ("body", form)):
        tags = [normalize_tag(tag) for tag in (text or "").split(",")]
        if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
            message = f"a tag is at most {MAX_TAG_LENGTH} characters"
            raise ValidationFailed(
                f"A tag is at most {MAX_TAG_LENGTH} characters.",
                [{"loc": [loc, "tags"], "msg": message}],
            )
        found.extend(tag for tag in tags if tag)
    return tuple(dict.fromkeys(found))


class OptOutCreate(StrictModel):
    """A number to suppress, in any common format (stored in E.164)."""

    model_config = ConfigDict(json_schema_extra=model_schema(examples=[{"phone": "+16175550100"}]))

    phone: Phone


class OptOutPublic(PublicModel):
    """An entry of the opt-out list."""

    phone: E164Number
    source: Literal["keyword", "manual", "import"]
    created_at: UtcInstant


class OptOutsPublic(PagePublic[OptOutPublic]):
    """A page of the opt-out list; ``next_cursor`` is ``null`` on the last page."""
