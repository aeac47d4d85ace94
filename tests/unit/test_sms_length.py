from __future__ import annotations

import math

import pytest

from outreach.campaigns.sms_length import Encoding, SmsLength, measure

# Written out from 3GPP TS 23.038 (0x00-0x7F without the escape 0x1B), independently
# of the module's table, so a typo there fails here.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"


def test_standard_tables_have_the_expected_sizes() -> None:
    assert len(set(GSM_BASIC)) == 127
    assert len(set(GSM_EXTENSION)) == 10


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_segment_boundaries(length: int, segments: int) -> None:
    assert measure("a" * length) == SmsLength(
        encoding="GSM-7", characters=length, segments=segments
    )


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_segment_boundaries(length: int, segments: int) -> None:
    assert measure("ê" * length) == SmsLength(
        encoding="UCS-2", characters=length, segments=segments
    )


def test_empty_text_is_one_gsm7_segment() -> None:
    assert measure("") == SmsLength(encoding="GSM-7", characters=0, segments=1)


@pytest.mark.parametrize("char", list(GSM_BASIC))
def test_every_basic_character_is_one_septet(char: str) -> None:
    assert measure(char * 160) == SmsLength(encoding="GSM-7", characters=160, segments=1)
    assert measure(char * 161).segments == 2


@pytest.mark.parametrize("char", list(GSM_EXTENSION))
def test_every_extension_character_is_two_septets(char: str) -> None:
    assert measure(char * 80) == SmsLength(encoding="GSM-7", characters=80, segments=1)
    assert measure(char * 81) == SmsLength(encoding="GSM-7", characters=81, segments=2)


def test_escape_code_itself_is_not_a_gsm_character() -> None:
    assert measure("a\x1bb").encoding == "UCS-2"


def test_greek_capitals_of_the_gsm_alphabet_are_gsm7() -> None:
    assert measure("ΔΦΓΛΩΠΨΣΘΞ").encoding == "GSM-7"


def test_other_greek_letters_force_ucs2() -> None:
    assert measure("Καλημέρα").encoding == "UCS-2"


def test_extension_character_pushes_a_single_segment_over_160() -> None:
    assert measure("a" * 158 + "€").segments == 1  # 160 septets
    assert measure("a" * 159 + "€") == SmsLength(encoding="GSM-7", characters=160, segments=2)


def test_one_accented_character_outside_gsm_switches_the_whole_message_to_ucs2() -> None:
    assert measure("Café " * 32) == SmsLength(encoding="GSM-7", characters=160, segments=1)
    assert measure("Café " * 31 + "Fête") == SmsLength(encoding="UCS-2", characters=159, segments=3)


def test_curly_apostrophe_is_not_gsm7() -> None:
    assert measure("Don't").encoding == "GSM-7"
    assert measure("Don\u2019t").encoding == "UCS-2"


def test_lowercase_c_cedilla_is_not_in_the_default_alphabet() -> None:
    assert measure("Ça").encoding == "GSM-7"
    assert measure("ça").encoding == "UCS-2"


def test_emoji_counts_two_utf16_units_but_one_character() -> None:
    assert measure("👍" * 35) == SmsLength(encoding="UCS-2", characters=35, segments=1)
    assert measure("👍" * 35 + "a") == SmsLength(encoding="UCS-2", characters=36, segments=2)
    assert measure("ê" * 69 + "👍") == SmsLength(encoding="UCS-2", characters=70, segments=2)


# A character of two units (an escape pair of septets, a surrogate pair of UTF-16
# units) in a text of one-unit fillers, and the units each part of a long text holds.
PAIRS = [
    pytest.param("GSM-7", "a", "€", 153, id="escape pair"),
    pytest.param("UCS-2", "ê", "👍", 67, id="surrogate pair"),
]


@pytest.mark.parametrize(("encoding", "filler", "pair", "per_part"), PAIRS)
def test_a_pair_is_not_split_across_segments(
    encoding: Encoding, filler: str, pair: str, per_part: int
) -> None:
    # One unit short of a part, then the pair: one unit is left in part 1, so the pair
    # starts part 2.
    before = per_part - 1
    text = filler * before + pair + filler * before
    units = before + 2 + before
    assert math.ceil(units / per_part) == 2  # what plain division would claim
    assert measure(text) == SmsLength(encoding=encoding, characters=2 * before + 1, segments=3)


@pytest.mark.parametrize(("encoding", "filler", "pair", "per_part"), PAIRS)
def test_a_pair_that_fits_exactly_does_not_move(
    encoding: Encoding, filler: str, pair: str, per_part: int
) -> None:
    # Two units short of a part, then the pair, fills part 1 exactly, so a whole part
    # more fits in part 2.
    text = filler * (per_part - 2) + pair + filler * per_part
    assert measure(text) == SmsLength(encoding=encoding, characters=2 * per_part - 1, segments=2)
