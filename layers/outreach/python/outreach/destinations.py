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

libphonenumber is imported on first use, not with the module: its import costs a
cold start about 40 ms, and most first requests (sign-in, a campaign list) parse
no number.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from functools import lru_cache

from outreach.phones import DEFAULT_REGION


class NotTextableReason(StrEnum):
    """Why a number may not be texted (a contact's ``not_textable_reason``)."""

    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    LINE_TYPE = "line_type"


@lru_cache(maxsize=1)
def refused_line_types() -> frozenset[int]:
    """Line types a text reaches at a cost the sender does not control (libphonenumber's
    ``PhoneNumberType`` values)."""
    from phonenumbers import PhoneNumberType  # noqa: PLC0415 - see the module docstring

    return frozenset(
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
    import phonenumbers  # noqa: PLC0415 - loaded on first use (see the module docstring)

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
    import phonenumbers  # noqa: PLC0415 - loaded on first use (see the module docstring)

    return code.upper() in phonenumbers.SUPPORTED_REGIONS


@lru_cache(maxsize=65_536)
def not_textable_reason(phone: str, allowed: frozenset[str]) -> NotTextableReason | None:
    """Why ``phone`` (E.164) may not be texted by an organization allowed ``allowed``
    countries (:func:`allowed_regions`), or ``None`` when it may. The country is checked
    first: a premium number abroad is reported as ``country_not_allowed``."""
    import phonenumbers  # noqa: PLC0415 - loaded on first use (see the module docstring)

    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return NotTextableReason.LINE_TYPE
    region = phonenumbers.region_code_for_number(number)
    if not region or region not in allowed:
        return NotTextableReason.COUNTRY_NOT_ALLOWED
    if phonenumbers.number_type(number) in refused_line_types():
        return NotTextableReason.LINE_TYPE
    return None
