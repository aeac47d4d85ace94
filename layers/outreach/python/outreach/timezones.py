"""IANA time zones and HH:MM times of day, validated."""

from __future__ import annotations

import re
from datetime import time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# ASCII digits only, and nothing after (``$`` would also take "08:00\n").
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])\Z")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``America/New_York``); ``ZoneInfoNotFoundError`` if unknown.

    Cached here because ZoneInfo keeps only 8 zones strongly cached; a toll-free
    number alone spans 42, and reloading a zone from disk costs more than every
    conversion made with it.
    """
    return ZoneInfo(name)


def is_timezone(name: str) -> bool:
    """Tell whether ``name`` is an IANA zone (``America/New_York``)."""
    if name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_hhmm(text: str) -> time:
    """Parse ``HH:MM`` (00:00..23:59); raise ``ValueError`` otherwise."""
    match = _HHMM.match(text)
    if not match:
        raise ValueError("expected HH:MM (00:00 to 23:59)")
    return time(int(match.group(1)), int(match.group(2)))
