"""Field types and the base models the API schemas share: IANA zones, E.164 phones,
HH:MM times, emails, UTC instants, ``StrictModel`` (a request: unknown fields are a
422) and ``PublicModel`` (an answer, read from a domain object)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from outreach.clock import to_iso
from outreach.validation import check_email, check_hhmm, check_phone, check_timezone

__all__ = [
    "PhoneNumber",
    "PublicModel",
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

UtcInstant = Annotated[
    datetime,
    PlainSerializer(to_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
"""An instant in answers: UTC, ISO 8601 with milliseconds and a ``Z`` (``to_iso``)."""
