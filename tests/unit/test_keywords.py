from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.inbound.keywords import KEYWORDS, Classification, InboundKind, classify

OPT_OUT, OPT_IN, HELP, REPLY = (
    InboundKind.OPT_OUT,
    InboundKind.OPT_IN,
    InboundKind.HELP,
    InboundKind.REPLY,
)


def test_the_keyword_table_is_the_one_in_the_sending_rules() -> None:
    assert {k for k, kind in KEYWORDS.items() if kind is OPT_OUT} == {
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT", "OPTOUT",
    }  # fmt: skip
    assert {k for k, kind in KEYWORDS.items() if kind is OPT_IN} == {"START", "UNSTOP", "YES"}
    assert {k for k, kind in KEYWORDS.items() if kind is HELP} == {"HELP", "INFO"}


def test_kinds_have_stable_string_values() -> None:
    assert [kind.value for kind in InboundKind] == ["opt_out", "opt_in", "help", "reply"]


def test_classification_is_frozen() -> None:
    result = classify("STOP")
    assert result == Classification(OPT_OUT, "keyword STOP")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.kind = REPLY  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "kind", "reason"),
    [
        ("STOP", OPT_OUT, "keyword STOP"),
        ("stop", OPT_OUT, "keyword STOP"),
        ("Stop.", OPT_OUT, "keyword STOP"),
        ("  sToP!! ", OPT_OUT, "keyword STOP"),
        ("'stop'", OPT_OUT, "keyword STOP"),
        ('"stop"', OPT_OUT, "keyword STOP"),
        ("\u201cStop\u201d", OPT_OUT, "keyword STOP"),
        ("stop \U0001f6d1", OPT_OUT, "keyword STOP"),
        ("\tSTOP\n", OPT_OUT, "keyword STOP"),
        ("\uff33\uff34\uff2f\uff30", OPT_OUT, "keyword STOP"),  # full-width STOP
        ("S.T.O.P.", OPT_OUT, "keyword STOP"),
        ("opt out", OPT_OUT, "keyword OPT OUT"),
        ("Opt-Out", OPT_OUT, "keyword OPT OUT"),
        ("opt_out", OPT_OUT, "keyword OPT OUT"),
        ("opt   out", OPT_OUT, "keyword OPT OUT"),
        ("OPTOUT", OPT_OUT, "keyword OPTOUT"),
        ("optout", OPT_OUT, "keyword OPTOUT"),
        ("stopall", OPT_OUT, "keyword STOPALL"),
        ("STOP ALL", OPT_OUT, "keyword STOPALL"),
        ("Unsubscribe", OPT_OUT, "keyword UNSUBSCRIBE"),
        ("cancel", OPT_OUT, "keyword CANCEL"),
        ("END", OPT_OUT, "keyword END"),
        ("quit", OPT_OUT, "keyword QUIT"),
        ("revoke", OPT_OUT, "keyword REVOKE"),
        ("START", OPT_IN, "keyword START"),
        ("unstop", OPT_IN, "keyword UNSTOP"),
        ("Un-Stop", OPT_IN, "keyword UNSTOP"),
        ("Yes", OPT_IN, "keyword YES"),
        ("yes!", OPT_IN, "keyword YES"),
        ("YES \U0001f44d", OPT_IN, "keyword YES"),
        ("HELP", HELP, "keyword HELP"),
        ("help?", HELP, "keyword HELP"),
        ("Info", HELP, "keyword INFO"),
        ("\u0130NFO", HELP, "keyword INFO"),  # Turkish keyboards capitalise i as I-with-dot
    ],
)
def test_keywords_alone_in_any_case_and_punctuation(
    body: str, kind: InboundKind, reason: str
) -> None:
    assert classify(body) == Classification(kind, reason)


PLAIN_WORDS_REVOCATIONS = [
    "please stop texting me",
    "remove me from your list",
    "don't text me again",
    "don\u2019t text me again",
    "unsubscribe me",
    "stop messaging me",
    "take me off your list",
    "I don't want these texts anymore",
    "no more texts please",
    "leave me alone",
    "do not contact me",
    "stop sending me messages",
    "STOP STOP STOP",
    "stop! stop! stop!",
    "stop please",
    "please stop",
    "Stop it",
    "stop now",
    "STOP STOP",
    "I said STOP",
    "wrong number, stop",
    "Wrong number",
    "Who is this? STOP",
    "STOP. I never signed up for this",
    "opt me out",
    "cancel my subscription",
    "end these messages",
    "lose my number",
    "quit texting me",
    "Stop texting",
    "Pls stop txting me",
    "Quit bugging me",
    "Stop contacting me",
    "Stop with the texts already",
    "Enough with the texts",
    "no more messages",
    "Stop the spam",
    "How do I unsubscribe?",
    "I want to opt out",
    "Please take my number off your list",
    "Delete my number",
    "Please remove my number",
    "Put me on your do not call list",
    "I revoke my consent",
    "I no longer wish to receive these messages",
    "I do not wish to be contacted",
    "Please stop sending these",
    "how do I make it stop",
    "Cease and desist",
    "UNSUBSCRIBE ME NOW",
    "I never signed up for this!",
    "Thanks - STOP",
    "Ok thanks. Please stop.",
    "stop texting me wrong person",
]


@pytest.mark.parametrize("body", PLAIN_WORDS_REVOCATIONS)
def test_plain_words_revocations_are_opt_outs(body: str) -> None:
    result = classify(body)
    assert result.kind is OPT_OUT, result
    assert result.reason.startswith("plain-words revocation (")


LOOK_ALIKE_REPLIES = [
    "can you stop by Tuesday?",
    "don't stop the work",
    "when will the crew stop by?",
    "the water won't stop leaking",
    "I want to cancel my appointment and reschedule",
    "please end the job early friday",
    "yes, Tuesday works",
    "Yes please",
    "help me understand the quote",
    "Help please, the sink is flooding",
    "info on pricing?",
    "Can you send me the info?",
    "start the work monday",
    "Sounds good, start Monday",
    "we can't stop thinking about it",
    "the noise won't end",
    "bus stop near my house",
    "stopwatch",
    "Is this the end of the promotion?",
    "Stop by anytime after 3",
    "What time does the job end?",
    "Cancel the Tuesday appointment please",
    "Please remove the old shed too",
    "Text me when you're on the way",
    "Can you text me the address?",
    "Don't text the crew, call me",
    "Don't call me, text me instead",
    "Please don't stop sending me deals!",
    "Stop sending the crew before 8am",
    "I never signed up for the warranty",
    "Stop the work until I pay the deposit",
    "My foreman quit, can you send someone else?",
    "Stop what?",
    "No",
    "Thank you!",
]


@pytest.mark.parametrize("body", LOOK_ALIKE_REPLIES)
def test_look_alikes_are_replies(body: str) -> None:
    assert classify(body) == Classification(REPLY, "reply")


@pytest.mark.parametrize(
    "body", ["", " ", "\n\t  ", "...", "!!!", "\U0001f6d1", "\U0001f44d\U0001f3fd", "\u200b", "--"]
)
def test_bodies_without_words_are_replies(body: str) -> None:
    assert classify(body) == Classification(REPLY, "reply")


@given(st.text(max_size=500))
def test_any_text_gets_one_of_the_four_kinds(body: str) -> None:
    result = classify(body)
    assert result.kind in InboundKind
    assert result.reason


# Not letters or digits: punctuation, symbols (emoji included), separators, whitespace.
_IGNORABLE = st.characters(categories=["P", "S", "Zs"]) | st.sampled_from(" \t\n\r")


@st.composite
def _keyword_in_noise(draw: st.DrawFn) -> tuple[str, InboundKind]:
    keyword = draw(st.sampled_from(sorted(KEYWORDS)))
    cased = "".join(draw(st.sampled_from([char.lower(), char.upper()])) for char in keyword)
    inner = draw(st.text(_IGNORABLE, min_size=1, max_size=3))
    prefix = draw(st.text(_IGNORABLE, max_size=8))
    suffix = draw(st.text(_IGNORABLE, max_size=8))
    return prefix + cased.replace(" ", inner) + suffix, KEYWORDS[keyword]


@given(_keyword_in_noise())
def test_a_keyword_in_any_surrounding_punctuation_keeps_its_kind(
    case: tuple[str, InboundKind],
) -> None:
    body, kind = case
    assert classify(body).kind is kind


@given(st.text(_IGNORABLE, max_size=50))
def test_text_without_letters_or_digits_is_a_reply(body: str) -> None:
    assert classify(body).kind is REPLY
