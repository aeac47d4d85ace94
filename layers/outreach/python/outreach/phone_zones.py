"""The time zones a phone number can be in, from libphonenumber's timezone data.

libphonenumber is imported on first use (see :mod:`outreach.phones`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from outreach.timezones import is_timezone, zone


@lru_cache(maxsize=4096)
def zones_for_number(e164: str) -> tuple[str, ...]:
    """The IANA zones ``e164`` can belong to, sorted; ``()`` when libphonenumber cannot tell.

    A geographic number usually maps to one zone; a toll-free or mobile number (or an
    area code straddling a zone line) maps to several. Text that is not an E.164 number
    maps to none.
    """
    import phonenumbers  # noqa: PLC0415 - loaded on first use (see the module docstring)
    from phonenumbers.timezone import (  # noqa: PLC0415
        UNKNOWN_TIMEZONE,
        time_zones_for_number,
    )

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    names = set(time_zones_for_number(number))
    names.discard(UNKNOWN_TIMEZONE)
    # libphonenumber's data and the tzdata Python sees are released separately: a zone
    # zoneinfo cannot load would break every later conversion, so it is left out.
    return tuple(sorted(name for name in names if is_timezone(name)))


@lru_cache(maxsize=4096)
def pinned_zones(e164: str) -> tuple[str, ...]:
    """The zones of the place ``e164`` is pinned to, or ``()`` when libphonenumber cannot
    pin it (``sending-rules.md``, rule 8).

    A geographic number (its area code names a place, even one straddling a zone line)
    has its :func:`zones_for_number`, and so has a non-geographic number whose zones all
    keep one clock (a UK mobile: London, Jersey, Guernsey, Man). A toll-free or other
    non-geographic number that libphonenumber maps to zones of different clocks (42 for
    a US toll-free number, Guam to Hawaii) is pinned nowhere.
    """
    zones = zones_for_number(e164)
    if len(zones) <= 1 or _one_clock(zones):
        return zones
    import phonenumbers  # noqa: PLC0415 - loaded on first use (see the module docstring)

    number = phonenumbers.parse(e164, None)  # zones_for_number parsed it already
    return zones if phonenumbers.is_number_geographical(number) else ()


# Two instants half a year apart: zones with equal offsets at both keep one clock
# (the same offset, and the same daylight saving time, as far as the year shows).
_PROBES = (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC))


@lru_cache(maxsize=256)
def _one_clock(zones: tuple[str, ...]) -> bool:
    return all(
        len({probe.astimezone(zone(name)).utcoffset() for name in zones}) == 1 for probe in _PROBES
    )


def contact_zone(timezone: str | None, phone: str) -> str | None:
    """A contact's zone: ``timezone`` when given, else the number's zone if it has exactly one."""
    if timezone:
        return timezone
    zones = zones_for_number(phone)
    return zones[0] if len(zones) == 1 else None
