"""Field types and the base model the API schemas share: IANA zones, E.164 phones,
HH:MM times, emails, UTC instants, and ``StrictModel`` (unknown fields are a 422)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from outreach.clock import to_iso
from outreach.validation import check_email, check_hhmm, check_phone, check_timezone

__all__ = [
    "PhoneNumber",
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


TimeZone = Annotated[str, Field(max_length=64), AfterValidator(check_timezone)]
PhoneNumber = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(check_phone)]
TimeOfDay = Annotated[str, AfterValidator(check_hhmm)]

UtcInstant = Annotated[
    datetime,
    PlainSerializer(to_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
"""An instant in answers: UTC, ISO 8601 with milliseconds and a ``Z`` (``to_iso``)."""
