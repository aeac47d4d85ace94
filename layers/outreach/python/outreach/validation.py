"""Checks of values people type (zones, phones, HH:MM times, emails), shared by the
API schemas and the CSV import. Each returns the normalised value or raises
``ValueError`` with a message fit for a 422 or a row error.

A message that quotes what was typed quotes it through :func:`echo`, so that no
error repeats more than :data:`MAX_ECHO_LENGTH` characters of input (issue 14,
point 6: a 131 kB CSV header repeated in every row error made a 52 MB answer).
"""

from __future__ import annotations

import re

from outreach.phones import InvalidPhoneNumber, to_e164
from outreach.timezones import is_timezone, parse_hhmm

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

MAX_ECHO_LENGTH = 100
"""The most characters of one input value an error message or problem may repeat."""
ELLIPSIS = "\u2026"


def clip(text: str) -> str:
    """``text`` itself, or its first :data:`MAX_ECHO_LENGTH` characters and an ellipsis.

    For input shown as it is (a field name in a problem's ``loc``, a path)."""
    if len(text) <= MAX_ECHO_LENGTH:
        return text
    return text[:MAX_ECHO_LENGTH] + ELLIPSIS


def echo(value: str) -> str:
    """``value`` quoted for an error message (``repr``), at most :data:`MAX_ECHO_LENGTH`
    of its characters: a longer value is cut and ends with an ellipsis after the quote
    (``'+1555...'\u2026``), so the reader sees both what was typed and that it was cut."""
    if len(value) <= MAX_ECHO_LENGTH:
        return repr(value)
    return repr(value[:MAX_ECHO_LENGTH]) + ELLIPSIS


def check_timezone(value: str) -> str:
    if not is_timezone(value):
        raise ValueError("not an IANA time zone (e.g. America/New_York)")
    return value


def check_phone(value: str) -> str:
    """Any common format in, E.164 out (default region US)."""
    try:
        return to_e164(value)
    except InvalidPhoneNumber as error:
        raise ValueError(f"{error}: {echo(value)}") from error


def check_hhmm(value: str) -> str:
    parse_hhmm(value)
    return value


def check_email(value: str) -> str:
    """The shape of an email address (surrounding spaces removed, case kept)."""
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value
