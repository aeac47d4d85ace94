"""Checks of values people type (zones, phones, HH:MM times, emails), shared by the
API schemas and the CSV import. Each returns the normalised value or raises
``ValueError`` with a message fit for a 422 or a row error."""

from __future__ import annotations

import re

from outreach.phones import InvalidPhoneNumber, to_e164
from outreach.timezones import is_timezone, parse_hhmm

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def check_timezone(value: str) -> str:
    if not is_timezone(value):
        raise ValueError("not an IANA time zone (e.g. America/New_York)")
    return value


def check_phone(value: str) -> str:
    """Any common format in, E.164 out (default region US)."""
    try:
        return to_e164(value)
    except InvalidPhoneNumber as error:
        raise ValueError(f"{error}: {value!r}") from error


def check_hhmm(value: str) -> str:
    parse_hhmm(value)
    return value


def check_email(value: str) -> str:
    """The shape of an email address (surrounding spaces removed, case kept)."""
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value
