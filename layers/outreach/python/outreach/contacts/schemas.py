"""Contacts API schemas: request bodies (``*Create``/``*Update``, mapped to the domain
with ``to_domain()``), answers (``*Public``, mapped from it with ``of``), and the CSV
upload: its checks (media type, size, ``?tags=``), its reading (a ``text/csv`` body, or
the ``file`` part of a ``multipart/form-data`` one) and its OpenAPI request body."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple, Self

from pydantic import AfterValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from outreach.api.fields import (
    NOT_BLANK_PATTERN,
    E164Number,
    IdText,
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
    attribute_key,
    keyed_attributes,
    normalize_tag,
    us_state,
)
from outreach.contacts.service import MAX_TAG_CHANGE_IDS, MAX_TAG_SELECTION
from outreach.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_IMPORT_BYTES = 4 * 1024 * 1024
"""The largest CSV ``POST /v1/contacts/import`` takes (4 MiB), sent as the body or as a
form's file. Lambda takes a request of at most 6 MB, and API Gateway may hand it the
body base64-encoded (a third larger): 4 MiB and a form's overhead stay below that.
Larger files go through an import job (``POST /v1/imports``, up to 100 MiB)."""
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
    """``values`` as given, once each name is known to give a key of its own
    (:func:`~outreach.contacts.domain.attribute_key`): a name without a letter or digit,
    or one giving the same key as an earlier name, is a 422 at that name."""
    keys: dict[str, str] = {}
    for name, value in values.items():
        if not name.strip() or len(name) > MAX_ATTRIBUTE_KEY_LENGTH:
            raise ValueError(f"attribute names are 1 to {MAX_ATTRIBUTE_KEY_LENGTH} characters")
        if len(value) > MAX_ATTRIBUTE_VALUE_LENGTH:
            raise ValueError(
                f"attribute values are at most {MAX_ATTRIBUTE_VALUE_LENGTH} characters"
            )
        key = attribute_key(name)
        if not key:
            raise _at_name(name, "an attribute name needs a letter or a digit")
        if key in keys:
            raise _at_name(
                name, f"names the same attribute as {keys[key]!r} (both are stored as {key!r})"
            )
        keys[key] = name
    return values


def _at_name(name: str, message: str) -> ValidationError:
    """A 422 at the attribute ``name`` (``["body", "attributes", name]``)."""
    return ValidationError.from_exception_data(
        "Attributes",
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", message), loc=(name,), input=name
            )
        ],
    )


def _keyed(attributes: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A body's checked ``attributes`` as stored: keyed by
    :func:`~outreach.contacts.domain.attribute_key`, and each name that differs from its
    key as that key's label."""
    return keyed_attributes(attributes)


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
        description="Attributes by name (a spreadsheet's header is fine: `Contact owner`). "
        "Each is stored under its key: the name without accents, lowercased, every run of "
        "other characters one `_` (`Contact owner` -> `contact_owner`; api-contract.md, "
        "Addendum 1), and the name kept as the key's label where it differs "
        "(`attribute_labels`). A name without a letter or digit, or two names with one key, "
        "is a 422 at that name. `{attributes.Contact owner}` and "
        "`{attributes.contact_owner}` in a message both name it.",
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
        """The new contact's values (tags and attributes empty when absent); attributes
        keyed as stored, with their labels."""
        attributes, labels = _keyed(self.attributes)
        return ContactChanges(
            **self.model_dump(include=_SCALAR_FIELDS),
            tags=tuple(self.tags),
            attributes=attributes,
            attribute_labels=labels,
        )


_NOT_NULL_CONTACT_FIELDS = ("phone", "tags", "attributes")
"""The fields of a PATCH an explicit ``null`` is refused for (a 422)."""


class ContactUpdate(StrictModel):
    """Any field of the create body. ``null`` clears a text field, the zone or the state;
    ``tags`` and ``attributes`` replace the stored ones (``[]``/``{}`` clear them);
    ``phone``, ``tags`` and ``attributes`` cannot be ``null``. An attribute given under
    its key (``contact_owner``) keeps the label it had; one given under another name
    (``Contact owner``) takes that name as its label."""

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
    tags: Tags | None = Field(
        default=None,
        description="Replaces the contact's whole tag list (`[]` clears it). To add or "
        "remove some tags, on one contact or many, use `POST /v1/contacts/tags`; an "
        "import's `?tags=` adds to each row's tags.",
    )
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
        attributes, labels = (
            _keyed(self.attributes) if self.attributes is not None else (None, None)
        )
        return ContactChanges(
            **self.model_dump(include=_SCALAR_FIELDS),
            tags=tuple(self.tags) if self.tags is not None else None,
            attributes=attributes,
            attribute_labels=labels,
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
    attributes: dict[str, str] = Field(
        description="Attributes by key: each name as given (a request, an import's "
        "header) without accents, lowercased, every run of other characters one `_` "
        "(api-contract.md, Addendum 1). `{attributes.KEY}` in a message names one by its "
        "key or by any name with that key."
    )
    attribute_labels: dict[str, str] = Field(
        description="The name each attribute was given, by key, where it differs from the "
        'key (`{"contact_owner": "Contact owner"}`): for display; `{}` when there is none.'
    )
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
    """Why row ``row`` (from 1 at the first data row) was not imported: no valid phone
    number, more non-empty cells than the header has columns, a row that cannot be read."""

    row: int
    error: str


class ImportRowWarningPublic(PublicModel):
    """A cell of row ``row`` (from 1 at the first data row) left out of the imported row
    (issue 17, point 3): a bad email or time zone, a ``state`` that is not a US state, a
    value too long, a column with no name; ``warning`` names the cell and says why."""

    row: int
    warning: str


class ImportPublic(PublicModel):
    """``created`` new contacts, ``updated`` changed ones, ``skipped`` rows that changed
    nothing; rows in ``errors`` were not imported. A row with a bad optional cell is
    imported without it (counted in ``created``/``updated``/``skipped``) and the cell
    named in ``warnings``. Blank rows are ignored. ``encoding`` is the file's encoding
    as read.

    ``errors`` and ``warnings`` hold the first ``MAX_REPORTED_ROW_ERRORS`` (100) of each
    in row order, ``error_count`` and ``warning_count`` count them all
    (``api-contract.md``, Addendum 1; issue 14, point 6: the answer stays small whatever
    the file)."""

    created: int
    updated: int
    skipped: int
    errors: list[ImportRowErrorPublic]
    error_count: int
    warnings: list[ImportRowWarningPublic] = Field(
        description="The first 100 cells left out of imported rows, in row order: a bad "
        "email, time zone or state, a value too long; the row itself was imported."
    )
    warning_count: int
    encoding: str | None = Field(
        description="The encoding the file was read in, as a lowercase name: `utf-8` "
        "(with or without a byte-order mark), `utf-16`, `windows-1252` (Excel's \"CSV "
        '(Comma delimited)"), `iso-8859-1`, `macintosh`...',
        examples=["utf-8", "windows-1252"],
    )

    @classmethod
    def of(cls, source: ImportResult) -> Self:
        return cls.model_validate(
            {
                "created": source.created,
                "updated": source.updated,
                "skipped": source.skipped,
                "errors": source.errors[:MAX_REPORTED_ROW_ERRORS],
                "error_count": len(source.errors),
                "warnings": source.warnings[:MAX_REPORTED_ROW_ERRORS],
                "warning_count": len(source.warnings),
                "encoding": source.encoding,
            }
        )


class CsvUpload(NamedTuple):
    """An import's CSV (the bytes as sent) and, from a form, its ``tags`` field."""

    csv: bytes
    tags: str | None = None


_TOO_LARGE = "The CSV is larger than 4 MiB; import it with POST /v1/imports (up to 100 MiB)."


async def read_csv_upload(request: Request) -> CsvUpload:
    """The CSV of ``POST /v1/contacts/import``, checked in the order the API answers:

    * 415 unless the body is ``text/csv`` (or ``application/csv``), or
      ``multipart/form-data``;
    * 413 for a CSV over 4 MiB (:data:`MAX_IMPORT_BYTES`): the declared length before
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
    "description": "The CSV (UTF-8, UTF-16 with a byte-order mark, or a single-byte "
    "encoding such as Windows-1252, detected; comma-, semicolon- or tab-separated, an "
    "Excel `sep=` line honoured; a header row first; at most 4 MiB, larger files through "
    "`POST /v1/imports`): as the body (`text/csv`; `application/csv` is taken too), or as "
    "the `file` part of a form (`curl -F file=@contacts.csv`).",
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


# --- Bulk tags: POST /v1/contacts/tags (issue 17, point 7) -----------------------------------

MAX_REPORTED_SKIPPED = 100
"""A bulk tag change lists the first this many ``skipped`` ids (``skipped_count`` counts
them all), so its answer stays small."""
BULK_TAG_PATTERN = rf"^\s*\S([\s\S]{{0,{MAX_TAG_LENGTH - 2}}}\S)?\s*$"
"""A tag of a bulk change: not blank, at most ``MAX_TAG_LENGTH`` characters once stripped."""


def _bulk_tag(value: str) -> str:
    tag = normalize_tag(value)
    if not tag:
        raise ValueError("a tag cannot be blank")
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"a tag is at most {MAX_TAG_LENGTH} characters")
    return tag


BulkTag = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": BULK_TAG_PATTERN}),
    AfterValidator(_bulk_tag),
]
BulkTags = Annotated[list[BulkTag], Field(max_length=MAX_TAGS)]
_SELECTORS = ("contact_ids", "tag")


class TagChange(StrictModel):
    """Add ``add`` then remove ``remove`` (tags compared as stored: trimmed, any case) on
    the contacts ``contact_ids`` names or those carrying ``tag``: exactly one of the two
    (``null`` counts as not given), and at least one tag to add or remove. A tag both
    added and removed is a 422."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[
                {"add": ["webinar"], "remove": ["cold"], "tag": "leads"},
                {"add": ["vip"], "contact_ids": ["01JDQ8Z5C9W4K2M7N3P6R8T0V1"]},
            ],
            rules={
                "not": {
                    "anyOf": [
                        # neither selector, or both
                        {"properties": {name: {"type": "null"} for name in _SELECTORS}},
                        {
                            "required": list(_SELECTORS),
                            "properties": {name: {"not": {"type": "null"}} for name in _SELECTORS},
                        },
                        # no tag to add nor to remove
                        {"properties": {"add": {"maxItems": 0}, "remove": {"maxItems": 0}}},
                    ]
                }
            },
        )
    )

    add: BulkTags = Field(
        default_factory=list,
        description=f"Tags to add (at most {MAX_TAGS}); a contact keeps the tags it has.",
    )
    remove: BulkTags = Field(
        default_factory=list,
        description="Tags to remove, after adding; a tag the contact does not carry is no change.",
    )
    contact_ids: (
        Annotated[list[IdText], Field(min_length=1, max_length=MAX_TAG_CHANGE_IDS)] | None
    ) = Field(
        default=None,
        description=f"The contacts to change (at most {MAX_TAG_CHANGE_IDS:,}). Ids that name "
        "no contact of the organization (another organization's included) match nothing.",
    )
    tag: BulkTag | None = Field(
        default=None,
        description=f"Change every contact carrying this tag (at most {MAX_TAG_SELECTION:,}: "
        "a 422 otherwise, naming how many, and nothing is changed). It may be removed too.",
    )

    @model_validator(mode="after")
    def _one_selector_and_a_change(self) -> TagChange:
        if (self.contact_ids is None) == (self.tag is None):
            raise ValueError("give exactly one of contact_ids or tag")
        if not self.add and not self.remove:
            raise ValueError("give a tag to add or to remove")
        return self


class TagChangePublic(PublicModel):
    """What ``POST /v1/contacts/tags`` did."""

    matched: int = Field(description="Selected contacts found in the organization.")
    changed: int = Field(
        description="Contacts whose tags changed; the others matched were already as "
        "asked, or are in `skipped`."
    )
    skipped: list[str] = Field(
        description=f"Ids of contacts left as they are because they would carry more "
        f"than {MAX_TAGS} tags (the first {MAX_REPORTED_SKIPPED})."
    )
    skipped_count: int = Field(description="How many contacts were skipped.")

    @classmethod
    def of(cls, source: Any) -> Self:
        """From a :class:`~outreach.contacts.service.TagChangeResult`."""
        return cls(
            matched=source.matched,
            changed=source.changed,
            skipped=list(source.skipped[:MAX_REPORTED_SKIPPED]),
            skipped_count=len(source.skipped),
        )
