"""The time zones a phone number can be in, from libphonenumber's timezone data."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number

from outreach.timezones import is_timezone


@lru_cache(maxsize=4096)
def zones_for_number(e164: str) -> tuple[str, ...]:
    """The IANA zones ``e164`` can belong to, sorted; ``()`` when libphonenumber cannot tell.

    A geographic number usually maps to one zone; a toll-free or mobile number (or an
    area code straddling a zone line) maps to several. Text that is not an E.164 number
    maps to none.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    names = set(time_zones_for_number(number))
    names.discard(UNKNOWN_TIMEZONE)
    # libphonenumber's data and the tzdata Python sees are released separately: a zone
    # zoneinfo cannot load would break every later conversion, so it is left out.
    return tuple(sorted(name for name in names if is_timezone(name)))


def contact_zone(timezone: str | None, phone: str) -> str | None:
    """A contact's zone: ``timezone`` when given, else the number's zone if it has exactly one."""
    if timezone:
        return timezone
    zones = zones_for_number(phone)
    return zones[0] if len(zones) == 1 else None
