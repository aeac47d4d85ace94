"""Where an organization's texts may go: its allowed countries and normal-cost line types.

Source: ``sending-rules.md``, "State rules and languages", rule 9, and
``api-contract.md``'s Addendum 1 (``allowed_countries``, a contact's
``textable`` and ``not_textable_reason``). A text to a premium-rate or other
special-tariff number costs the sender money and pays whoever owns the
number (SMS pumping), so such numbers may be stored as contacts but are never
texted, auto-replies included.

- The country: the number's region (libphonenumber's ``region_code_for_number``)
  must be one of the organization's ``allowed_countries`` (ISO 3166 alpha-2);
  when it has named none, the country of its sender number; with no sender
  number either, :data:`outreach.phones.DEFAULT_REGION`. Non-geographic numbers
  (satellite, international networks: region ``001``) are in no country.
- The line type (libphonenumber's ``number_type``): premium-rate, shared-cost,
  UAN, pager, voicemail-only, personal numbers (UK ``070``, charged at premium
  rates) and numbers of unknown type are refused; mobile, fixed-line, VoIP and
  toll-free are texted at normal cost.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

from outreach.phones import DEFAULT_REGION


class NotTextableReason(StrEnum):
    """Why a number may not be texted (a contact's ``not_textable_reason``)."""

    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    LINE_TYPE = "line_type"


# Line types a text reaches at a cost the sender does not control.
REFUSED_LINE_TYPES = frozenset(
    {
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
        PhoneNumberType.PAGER,
        PhoneNumberType.VOICEMAIL,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.UNKNOWN,
    }
)


def country_of(phone: str) -> str | None:
    """The ISO 3166 alpha-2 region of an E.164 number; ``None`` for a non-geographic one
    (or text that is not a number)."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region if region and region != "001" else None


def allowed_regions(
    allowed_countries: Collection[str], sender_number: str | None
) -> frozenset[str]:
    """The countries an organization may text: its ``allowed_countries``, else its sender
    number's country, else :data:`~outreach.phones.DEFAULT_REGION`."""
    if allowed_countries:
        return frozenset(code.upper() for code in allowed_countries)
    sender_country = country_of(sender_number) if sender_number else None
    return frozenset({sender_country or DEFAULT_REGION})


def is_region(code: str) -> bool:
    """Whether ``code`` is an ISO 3166 alpha-2 region libphonenumber has numbers for."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS


@lru_cache(maxsize=65_536)
def not_textable_reason(phone: str, allowed: frozenset[str]) -> NotTextableReason | None:
    """Why ``phone`` (E.164) may not be texted by an organization allowed ``allowed``
    countries (:func:`allowed_regions`), or ``None`` when it may. The country is checked
    first: a premium number abroad is reported as ``country_not_allowed``."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return NotTextableReason.LINE_TYPE
    region = phonenumbers.region_code_for_number(number)
    if not region or region not in allowed:
        return NotTextableReason.COUNTRY_NOT_ALLOWED
    if phonenumbers.number_type(number) in REFUSED_LINE_TYPES:
        return NotTextableReason.LINE_TYPE
    return None
