"""Phone numbers: any common format in, E.164 out (libphonenumber).

libphonenumber is imported on first use, not with the module: its import costs a cold
start about 40 ms, and most first requests (sign-in, a campaign list) parse no number.
"""

from __future__ import annotations

DEFAULT_REGION = "US"


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number."""


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """Normalize ``raw`` (``(617) 555-0123``, ``+1 617 555 0123``...) to E.164.

    Raises :class:`InvalidPhoneNumber` for text that is not a valid number.
    """
    import phonenumbers  # noqa: PLC0415 - loaded on first use (see the module docstring)

    text = raw.strip()
    if not text or len(text) > 40:
        raise InvalidPhoneNumber("not a phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
