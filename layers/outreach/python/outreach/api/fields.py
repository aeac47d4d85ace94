"""Field types and the base models the API schemas share: IANA zones, E.164 phones,
HH:MM times, emails, instants (``RequestInstant`` in, ``UtcInstant`` out),
``StrictModel`` (a request: unknown fields are a 422) and ``PublicModel`` (an answer,
read from a domain object)."""

from __future__ import annotations

import re
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
    "IdText",
    "PhoneNumber",
    "PublicModel",
    "RequestInstant",
    "StrictModel",
    "TimeOfDay",
    "TimeZone",
    "UtcInstant",
    "check_email",
    "check_hhmm",
    "check_phone",
    "check_timezone",
]


class StrictModel(BaseModel):
    """A request body: a field the contract does not name is a 422, never ignored."""

    model_config = ConfigDict(extra="forbid")


class PublicModel(BaseModel):
    """An answer, read from the domain object whose attributes its fields name.

    :meth:`of` maps by name (``from_attributes``), nested answers included. A field the
    domain names otherwise declares it as a ``validation_alias``; a subclass with a
    field derived from several attributes overrides :meth:`of`.
    """

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, source: Any) -> Self:
        return cls.model_validate(source)


TimeZone = Annotated[str, Field(max_length=64), AfterValidator(check_timezone)]
PhoneNumber = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(check_phone)]
TimeOfDay = Annotated[str, AfterValidator(check_hhmm)]

ID_LENGTH = 26
"""The length of an id (:func:`outreach.ids.new_id`: a ULID)."""
IdText = Annotated[str, Field(min_length=1, max_length=ID_LENGTH, pattern=r"^[0-9A-Za-z]+$")]
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
