"""Measure a text message as carriers do: encoding, characters and segments.

GSM-7 (3GPP TS 23.038 default alphabet) when every character is in the basic
table or its extension table, else UCS-2. A single GSM-7 message holds 160
septets and each part of a multipart message 153 (the rest is the
concatenation header); UCS-2 holds 70 UTF-16 code units, then 67 per part.
Segments are counted by packing the characters, because a two-septet GSM-7
escape and a UTF-16 surrogate pair are never split across two parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# The default alphabet in code-point order 0x00-0x7F, without 0x1B: that code is
# the escape into the extension table, not a character of its own. 127 characters.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Sent as ESC + code, so each costs two septets.
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE_SEGMENT = 160
GSM7_MULTIPART_SEGMENT = 153
UCS2_SINGLE_SEGMENT = 70
UCS2_MULTIPART_SEGMENT = 67


@dataclass(frozen=True, slots=True)
class SmsLength:
    """How long a message is for the carrier.

    ``characters`` is ``len(text)``: Unicode code points, which is what a person
    counts for most text but not for emoji sequences (``👍🏽`` is 2, a flag is 2).
    ``segments`` is the number of billed parts; an empty text is sent as one.
    """

    encoding: Encoding
    characters: int
    segments: int


def measure(text: str) -> SmsLength:
    """Return the encoding, character count and segment count of ``text``."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        septets = [2 if char in GSM7_EXTENSION else 1 for char in text]
        segments = _segments(septets, GSM7_SINGLE_SEGMENT, GSM7_MULTIPART_SEGMENT)
        return SmsLength(encoding="GSM-7", characters=len(text), segments=segments)
    code_units = [2 if ord(char) > 0xFFFF else 1 for char in text]
    segments = _segments(code_units, UCS2_SINGLE_SEGMENT, UCS2_MULTIPART_SEGMENT)
    return SmsLength(encoding="UCS-2", characters=len(text), segments=segments)


def _segments(units: list[int], single: int, per_part: int) -> int:
    if sum(units) <= single:
        return 1
    parts, used = 1, 0
    for size in units:
        # A character's units stay together: if they do not fit, the part ends early.
        if used + size > per_part:
            parts += 1
            used = 0
        used += size
    return parts
