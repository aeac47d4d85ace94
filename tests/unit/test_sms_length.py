from __future__ import annotations

import math

import pytest

from outreach.campaigns.sms_length import SmsLength, measure

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


def test_escape_pair_is_not_split_across_segments() -> None:
    # 152 septets then "€": one septet is left in part 1, so the pair starts part 2.
    text = "a" * 152 + "€" + "a" * 152
    septets = 152 + 2 + 152
    assert math.ceil(septets / 153) == 2  # what plain division would claim
    assert measure(text) == SmsLength(encoding="GSM-7", characters=305, segments=3)


def test_escape_pair_that_fits_exactly_does_not_move() -> None:
    # 151 + 2 fills part 1 exactly, so 153 more septets fit in part 2.
    assert measure("a" * 151 + "€" + "a" * 153).segments == 2


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


def test_surrogate_pair_is_not_split_across_segments() -> None:
    # 66 units then an emoji: one unit is left in part 1, so the pair starts part 2.
    text = "ê" * 66 + "👍" + "ê" * 66
    units = 66 + 2 + 66
    assert math.ceil(units / 67) == 2  # what plain division would claim
    assert measure(text) == SmsLength(encoding="UCS-2", characters=133, segments=3)


def test_surrogate_pair_that_fits_exactly_does_not_move() -> None:
    assert measure("ê" * 65 + "👍" + "ê" * 67).segments == 2
