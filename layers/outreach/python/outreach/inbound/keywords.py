"""Classify an inbound text: opt-out, opt-in, help request, or an ordinary reply.

What counts (docs: sending-rules.md, "Replies and keywords"):

1. Keywords. The message holds one keyword and nothing else. Case, accents,
   full-width letters, and the punctuation, whitespace, quotes and emoji around
   or inside it don't matter: "Stop.", " sToP!! ", "'stop'", "stop 🛑",
   "Opt-Out", "opt_out", "OPTOUT" and "S.T.O.P." all count.
   Opt-out: STOP STOPALL UNSUBSCRIBE CANCEL END QUIT REVOKE OPT OUT OPTOUT.
   Opt-in: START UNSTOP YES. Help: HELP INFO. Opt-in and help words count
   only alone: "yes, Tuesday works" and "help me understand the quote" are
   replies, because they don't remove anything.
2. Revocations in plain words (the FCC's 2024 "any reasonable means" rule).
   The message is split into clauses at sentence punctuation, and a clause is a
   revocation if it is one of these:
   - only stop words and politeness ("please stop", "STOP STOP", "stop it",
     "I said stop"), so "wrong number, stop" and "Who is this? STOP" count;
   - a stopping verb aimed at messages or contact ("stop texting me", "end
     these messages", "cancel my subscription", "no more texts", "don't text
     me again", "I don't want these texts anymore");
   - removing me or my number ("remove me from your list", "take me off",
     "lose my number"), "leave me alone", "wrong number", the do-not-call list,
     "I never signed up for this", revoking consent, or a word that has no
     other meaning (unsubscribe, opt out).
   A stopping verb with any other object is a reply: "can you stop by
   Tuesday?", "don't stop the work", "cancel my appointment", "the noise won't
   end". When in doubt the rules lean towards an opt-out: texting someone who
   asked us to stop is a legal and trust cost, whereas a misread reply only
   costs that one contact.
3. Anything else, including empty and emoji-only messages, is a reply.

Only texts count as the channel: "don't call me, text me" is a reply.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class InboundKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    REPLY = "reply"


@dataclass(frozen=True, slots=True)
class Classification:
    kind: InboundKind
    reason: str


KEYWORDS: Final[Mapping[str, InboundKind]] = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "STOP",
                "STOPALL",
                "UNSUBSCRIBE",
                "CANCEL",
                "END",
                "QUIT",
                "REVOKE",
                "OPT OUT",
                "OPTOUT",
            ),
            InboundKind.OPT_OUT,
        ),
        **dict.fromkeys(("START", "UNSTOP", "YES"), InboundKind.OPT_IN),
        **dict.fromkeys(("HELP", "INFO"), InboundKind.HELP),
    }
)

# A word is a run of letters and digits; an apostrophe inside it is dropped
# ("don't" -> "dont") so contractions match however the phone typed them.
# ASCII, right and left single quotation marks, modifier letter apostrophe, backtick.
_APOSTROPHES: Final = "'\u2019\u2018\u02bc`"
_WORD: Final = re.compile(rf"[^\W_]+(?:[{_APOSTROPHES}][^\W_]+)*")
_DROP_APOSTROPHES: Final = str.maketrans("", "", _APOSTROPHES)
# Commas count as a break so "wrong number, stop" yields a bare "stop" clause.
# A hyphen only breaks when spaced, so "opt-out" stays one phrase; en and em
# dashes always break. \u2026 is the ellipsis, \u00a1 and \u00bf the inverted marks.
_CLAUSE_BREAK: Final = re.compile(
    "[.!?;:,\n\r\u2026\u00a1\u00bf]+|\\s[-\u2013\u2014]+\\s|[\u2013\u2014]+"
)

# Words that make a clause an opt-out when it holds nothing else but politeness.
_STOP_WORDS: Final = frozenset(
    {"stop", "stopall", "unsubscribe", "unsub", "cancel", "end", "quit", "revoke", "optout"}
)
_POLITENESS: Final = frozenset(
    {
        "please", "pls", "plz", "now", "it", "this", "that", "all", "thanks", "thank",
        "you", "thx", "ty", "already", "just", "ok", "okay", "immediately", "asap",
        "right", "away", "i", "said", "seriously", "again", "no", "forever",
    }
)  # fmt: skip

# Regex pieces over a normalized clause: lower-case words joined by single spaces.
_STOP_VERB: Final = r"(?:stop|quit|cease|end|cancel|halt|discontinue|pause|block)"
# "Don't stop texting me" asks for the opposite.
_NOT_NEGATED: Final = r"(?<!\bdont )(?<!\bdo not )(?<!\bnever )"
_MESSAGES: Final = (
    r"(?:texts?|txts?|messages?|msgs?|sms|spam|notifications?|alerts?|reminders?"
    r"|subscriptions?|communications?|contact)"
)
_MODIFIERS: Final = (
    r"(?:(?:the|these|those|this|that|your|ur|all|any|my|more|of|such|text|txt|sms"
    r"|stupid|annoying|damn|spam|promotional|marketing|automated)\s)*"
)
_BOTHERING: Final = (
    r"(?:texting|txting|messaging|msging|contacting|spamming|bothering|bugging"
    r"|harassing|pestering)"
)
_ME_OR_MY_NUMBER: Final = (
    r"(?:me|us|(?:my|this|our)(?:\s(?:phone|cell|mobile))?\s(?:number|num|contact)"
    r"|my\sname|my\sinfo(?:rmation)?|my\scontact\sinfo)"
)

_REVOCATIONS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        (
            "stop + messages",
            rf"{_NOT_NEGATED}\b{_STOP_VERB}\s(?:(?:getting|receiving|sending|with)\s)?"
            rf"(?:(?:me|us)\s)?{_MODIFIERS}{_MESSAGES}\b",
        ),
        ("stop + texting", rf"{_NOT_NEGATED}\b{_STOP_VERB}\s{_BOTHERING}\b"),
        # Anchored at the clause end: "stop sending the crew at 7" is a reply.
        (
            "stop sending",
            rf"{_NOT_NEGATED}\b{_STOP_VERB}\s(?:sending|getting|receiving)(?:\s(?:me|us))?"
            r"(?:\s(?:these|this|them|those|that|stuff|this stuff|junk|crap|anything))?$",
        ),
        ("make it stop", r"\bmake\s(?:it|this|them|these|the\stexts?)\sstop\b"),
        (
            "no more messages",
            rf"\b(?:no\smore|not\sany\smore|no\sfurther|enough(?:\swith)?)\s{_MODIFIERS}"
            rf"(?:{_MESSAGES}|{_BOTHERING})\b",
        ),
        (
            "don't text me",
            r"\b(?:dont|do\snot|never)\s(?:ever\s)?(?:text|txt|message|msg|sms|contact|spam)"
            r"(?:\s(?:me|us|this|again|anymore|ever|here)\b|$)",
        ),
        (
            "don't send messages",
            rf"\b(?:dont|do\snot|never)\s(?:ever\s)?send\s(?:(?:me|us)\s)?{_MODIFIERS}"
            rf"{_MESSAGES}\b",
        ),
        (
            "don't want messages",
            rf"\b(?:dont|do\snot|no\slonger|never)\s(?:want|wish|need|like)\b(?:\s\w+){{0,4}}?"
            rf"\s(?:{_MESSAGES}|texted|messaged|contacted|spammed)\b",
        ),
        (
            "remove me",
            rf"\b(?:remove|delete|erase|lose|forget|unenroll|unenrol|unsubscribe|cancel)"
            rf"\s{_ME_OR_MY_NUMBER}\b",
        ),
        (
            "take me off",
            rf"\btake\s{_ME_OR_MY_NUMBER}\s(?:off|out\sof)\b",
        ),
        ("leave me alone", r"\bleave\s(?:me|us)\salone\b"),
        # Consent belongs to the number's owner; someone else asking us to stop is enough.
        ("wrong number", r"\bwrong\s(?:number|num|person|phone)\b"),
        (
            "opt-out word",
            r"\b(?:unsubscribe[ds]?|unsubscribing|unsub|stopall|optout|optedout"
            r"|opt(?:ed|ing)?\s(?:(?:me|us|my\snumber|this\snumber)\s)?out)\b",
        ),
        (
            "revoke consent",
            r"\b(?:(?:revoke|revoking|revoked|withdraw|withdrawing|rescind|cancel|remove)"
            r"\s(?:(?:my|all|your|any)\s)?(?:consent|permission|authori[sz]ation)"
            r"|(?:dont|do\snot|no\slonger)\sconsent)\b",
        ),
        # Anchored at the clause end: "I never signed up for the warranty" is a reply.
        (
            "never signed up",
            rf"\b(?:never|didnt|did\snot)\s(?:sign(?:ed)?\sup|subscribed?|consent(?:ed)?"
            rf"|opt(?:ed)?\sin|ask(?:ed)?)(?:\s(?:for|to))?"
            rf"(?:\s(?:this|these|that|it|them|{_MODIFIERS}{_MESSAGES}))?$",
        ),
        ("do-not-call list", r"\b(?:do\snot\s(?:call|text|contact)\slist|dnc)\b"),
        ("cease and desist", r"\bcease\s(?:and\s)?desist\b"),
    )
)


def classify(body: str) -> Classification:
    """Classify one inbound text body. Never raises."""
    text = unicodedata.normalize("NFC", body)
    words = _words(text)
    if not words:
        return Classification(InboundKind.REPLY, "reply")

    spaced = " ".join(words).upper()
    keyword = spaced if spaced in KEYWORDS else "".join(words).upper()
    if keyword in KEYWORDS:
        return Classification(KEYWORDS[keyword], f"keyword {keyword}")

    for clause in _CLAUSE_BREAK.split(text):
        clause_words = _words(clause)
        if not clause_words:
            continue
        if _only_stop_words(clause_words):
            return _revocation("stop words")
        normalized = " ".join(clause_words)
        for name, pattern in _REVOCATIONS:
            if pattern.search(normalized):
                return _revocation(name)

    return Classification(InboundKind.REPLY, "reply")


def _words(text: str) -> list[str]:
    return [_fold(match.group()) for match in _WORD.finditer(text)]


def _fold(word: str) -> str:
    # NFKD after casefold turns full-width letters into ASCII and splits off
    # accents (including the dot of a Turkish capital İ), which are then dropped.
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.translate(_DROP_APOSTROPHES)


def _only_stop_words(words: list[str]) -> bool:
    return any(word in _STOP_WORDS for word in words) and all(
        word in _STOP_WORDS or word in _POLITENESS for word in words
    )


def _revocation(rule: str) -> Classification:
    return Classification(InboundKind.OPT_OUT, f"plain-words revocation ({rule})")
