"""Field types and the base models the API schemas share: IANA zones, E.164 phones,
HH:MM times, emails, instants (``RequestInstant`` in, ``UtcInstant`` out),
``StrictModel`` (a request: unknown fields are a 422) and ``PublicModel`` (an answer,
read from a domain object).

The OpenAPI document describes each of these fields with the pattern or format the
server enforces (issue 18), defined here once (``*_PATTERN``). A pattern is put in the
JSON Schema only (``json_schema_extra``), never given to pydantic as a constraint: the
field's own check (:mod:`outreach.validation`) decides, and no regular expression is
compiled when the schemas are imported (a cold start measures them). A pattern ends
in ``$(?!\n)``: Python's ``$`` (which ``jsonschema`` and schemathesis's generators use)
also matches before a final newline, which the server refuses.
:func:`model_schema` adds a model's examples and the rules across its fields that JSON
Schema can express (``not``, ``anyOf``, ``dependentRequired``; not ``oneOf``, which
openapi-python-client cannot read for partial objects).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from outreach.clock import to_iso
from outreach.validation import check_email, check_hhmm, check_phone, check_timezone

__all__ = [
    "E164_PATTERN",
    "EMAIL_MAX_LENGTH",
    "HHMM_PATTERN",
    "IANA_ZONE_PATTERN",
    "NOT_BLANK_PATTERN",
    "WHOLE_NUMBER",
    "E164Number",
    "Email",
    "IdText",
    "PhoneNumber",
    "PublicModel",
    "RequestInstant",
    "ResponseEmail",
    "StrictModel",
    "TimeOfDay",
    "TimeText",
    "TimeZone",
    "UtcInstant",
    "ZoneName",
    "check_email",
    "check_hhmm",
    "check_phone",
    "check_timezone",
    "model_schema",
]


# defer_build: a model's validator and serializer are built when it is first used, not
# when its class is defined. A function defines every model of its routes at import, and
# its first request uses one or two of them: deferring takes the rest off the cold start.
class StrictModel(BaseModel):
    """A request body: a field the contract does not name is a 422, never ignored."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class PublicModel(BaseModel):
    """An answer, read from the domain object whose attributes its fields name.

    :meth:`of` maps by name (``from_attributes``), nested answers included. A field the
    domain names otherwise declares it as a ``validation_alias``; a subclass with a
    field derived from several attributes overrides :meth:`of`.
    """

    model_config = ConfigDict(from_attributes=True, defer_build=True)

    @classmethod
    def of(cls, source: Any) -> Self:
        return cls.model_validate(source)


E164_PATTERN = r"^\+[1-9][0-9]{1,14}$(?!\n)"
"""A phone number as the API answers it: E.164 (``+`` and at most 15 digits)."""
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$(?!\n)"
"""A time of day, ``HH:MM`` from ``00:00`` to ``23:59`` (:data:`TimeOfDay`)."""
IANA_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$(?!\n)"
"""The shape of an IANA time zone name (``America/New_York``, ``UTC``, ``Etc/GMT+5``):
every name of the tz database has it. Which names exist is the server's tz database's
to say (it differs between machines), so the document gives no list."""
NOT_BLANK_PATTERN = r"\S"
"""Text with a character other than whitespace: what a field the server strips and
refuses when blank says in the document."""
EMAIL_MAX_LENGTH = 254
"""The longest email address (RFC 5321's path limit), as :func:`check_email` bounds it."""

_ZONE_SCHEMA = {
    "pattern": IANA_ZONE_PATTERN,
    "description": "An IANA time zone name (e.g. America/New_York), one of the tz "
    "database the server knows; any other name is a 422.",
    "examples": ["America/New_York"],
}
TimeZone = Annotated[
    str, Field(max_length=64, json_schema_extra=_ZONE_SCHEMA), AfterValidator(check_timezone)
]
"""An IANA time zone in a request; the name as given."""

PhoneNumber = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        description="A phone number in any common format: E.164 (+16175550100), or "
        "national with the US as the default country ((617) 555-0100, 617.555.0100, "
        "+1 617 555 0100). It must be a valid number; it is stored and answered in E.164.",
        examples=["+16175550100", "(617) 555-0100"],
    ),
    AfterValidator(check_phone),
]
"""A phone number in a request: any format libphonenumber reads (a 422 otherwise),
normalised to E.164. The document gives no pattern: one loose enough to take every
format the check takes (letters of vanity numbers, full-width digits) would say
nothing."""

E164Number = Annotated[
    str,
    Field(
        json_schema_extra={"pattern": E164_PATTERN},
        description="A phone number in E.164 (e.g. +16175550100).",
    ),
]
"""A phone number in an answer: always E.164."""


TimeOfDay = Annotated[
    str,
    Field(
        json_schema_extra={"pattern": HHMM_PATTERN},
        description="A local time of day, HH:MM (00:00 to 23:59).",
    ),
    AfterValidator(check_hhmm),
]
"""A time of day in a request (``HH:MM``, ASCII digits, nothing after), as
:func:`outreach.timezones.parse_hhmm` reads it: exactly what :data:`HHMM_PATTERN` matches."""

Email = Annotated[
    str,
    Field(
        max_length=320,
        json_schema_extra={"format": "email", "maxLength": EMAIL_MAX_LENGTH},
        description="An email address (at most 254 characters; surrounding spaces are removed).",
        examples=["dana@example.com"],
    ),
    AfterValidator(check_email),
]
"""An email address in a request: checked by :func:`check_email`, case kept. Its
input may be longer than 254 characters by surrounding spaces only; the document says
254, the longest address."""

ResponseEmail = Annotated[str, Field(json_schema_extra={"format": "email"})]
"""An email address in an answer."""
ZoneName = Annotated[
    str,
    Field(json_schema_extra={"pattern": IANA_ZONE_PATTERN}, examples=["America/New_York"]),
]
"""An IANA time zone name in an answer."""
TimeText = Annotated[str, Field(json_schema_extra={"pattern": HHMM_PATTERN})]
"""A time of day in an answer, ``HH:MM``."""


def model_schema(
    *,
    examples: Iterable[Mapping[str, Any]],
    rules: Mapping[str, Any] | None = None,
    not_null: Iterable[str] = (),
) -> Callable[[dict[str, Any]], None]:
    """A model's ``json_schema_extra``: adds its ``examples`` (request bodies the server
    accepts) and ``rules`` (JSON Schema keywords across fields: ``not``, ``anyOf``,
    ``dependentRequired``), and drops ``null`` from the fields of ``not_null``
    (optional fields an explicit ``null`` is refused for: their schema is the value's,
    without the ``default: null``)."""
    listed = [dict(example) for example in examples]
    extra = dict(rules or {})
    refused_null = tuple(not_null)

    def edit(schema: dict[str, Any]) -> None:
        properties: dict[str, Any] = schema.get("properties", {})
        for name in refused_null:
            field = properties.get(name)
            if field is None:
                continue
            choices = field.get("anyOf", [])
            values = [choice for choice in choices if choice != {"type": "null"}]
            if len(values) == len(choices):
                continue
            del field["anyOf"]
            if field.get("default", ...) is None:
                del field["default"]
            if len(values) == 1:
                field.update(values[0])
            else:
                field["anyOf"] = values
        schema.update(extra)
        schema["examples"] = listed

    return edit


def whole_number(value: object) -> object:
    """A JSON integer as JSON Schema reads one: a number without a fraction, ``105`` or
    ``105.0`` (both are an ``integer`` to a client's validator). ``ValueError`` (a 422)
    for a fraction, a boolean, text or anything else, which pydantic's lax mode would
    otherwise turn into a number (``true`` -> 1, ``"5"`` -> 5)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("give a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("give a whole number")
        return int(value)
    return value


WHOLE_NUMBER = BeforeValidator(whole_number)
"""An integer in a request: ``5`` or ``5.0``, never ``5.5``, ``true`` or ``"5"``. Put it
after the bounds (``Annotated[int, Field(ge=1, le=10), WHOLE_NUMBER]``): before them,
pydantic's schema would say ``ge``/``le`` instead of ``minimum``/``maximum``."""


ID_LENGTH = 26
"""The length of an id (:func:`outreach.ids.new_id`: a ULID)."""
IdText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=ID_LENGTH,
        pattern=r"^[0-9A-Za-z]+$",
        json_schema_extra={"pattern": r"^[0-9A-Za-z]+$(?!\n)"},
    ),
]
"""An id in a request body: at most an id's 26 letters and digits (one byte each when
stored). A value of that shape that names nothing is the service's business (it is
left out, or a 404); a longer one is a 422, so a list of them has a known size in a
DynamoDB item (issue 14, point 9: 10,000 ids of 64 characters overflowed the 400 kB
item)."""

EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2100, 1, 1, tzinfo=UTC)
"""A request's instants lie in [``EARLIEST_INSTANT``, ``LATEST_INSTANT``) once in UTC:
far wider than any campaign's schedule, and far from ``datetime``'s own limits (years
1..9999), which an offset could push a value past when converted (issue 14, point 9:
``9999-12-31T23:00:00-14:00`` was a 500)."""


def check_instant(value: datetime) -> datetime:
    """``value`` in UTC. ``ValueError`` (a 422 naming the field) when it has no offset
    or falls outside [``EARLIEST_INSTANT``, ``LATEST_INSTANT``)."""
    if value.tzinfo is None:
        raise ValueError("give a timezone (e.g. 2026-12-01T14:00:00Z)")
    bounds = f"between {EARLIEST_INSTANT.year} and {LATEST_INSTANT.year - 1} (UTC)"
    try:
        instant = value.astimezone(UTC)
    except OverflowError as error:  # beyond year 9999 or before year 1 once in UTC
        raise ValueError(f"give an instant {bounds}") from error
    if not EARLIEST_INSTANT <= instant < LATEST_INSTANT:
        raise ValueError(f"give an instant {bounds}")
    return instant


_DATE_TIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def instant_text(value: object) -> object:
    """Only RFC 3339 text is an instant: ``ValueError`` (a 422) for a number, a boolean or
    digits alone, which pydantic would otherwise read as seconds since 1970 (``0`` was
    1970-01-01, issue 18), and for a date without a time. A ``datetime`` passes (code
    building a model); the text's own validity is pydantic's to check next."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME_TEXT.match(value.strip()):
        raise ValueError("give a date and time as text, e.g. 2026-12-01T14:00:00Z")
    return value


RequestInstant = Annotated[datetime, BeforeValidator(instant_text), AfterValidator(check_instant)]
"""An instant in a request: RFC 3339 text (a number is a 422, not seconds since 1970),
with an offset (a naive one is a 422), between the years 2000 and 2099 once in UTC,
and converted to UTC."""

UtcInstant = Annotated[
    datetime,
    PlainSerializer(to_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
"""An instant in answers: UTC, ISO 8601 with milliseconds and a ``Z`` (``to_iso``)."""
