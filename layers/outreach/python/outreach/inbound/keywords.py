"""Classify an inbound text: opt-out, opt-in, help request, or an ordinary reply, and
the language it is written in.

What counts (``sending-rules.md``, "Replies and keywords" and "Keywords in other
languages"; issue 15, point 2):

1. Keywords. The message holds one keyword and nothing else. Case, accents,
   full-width letters, and the punctuation, whitespace, quotes and emoji around
   or inside it don't matter: "Stop.", " sToP!! ", "'stop'", "stop 🛑",
   "Opt-Out", "opt_out", "OPTOUT", "S.T.O.P.", "Arrêt", "¡ALTO!" and "No más"
   all count. The reviewed table (:data:`KEYWORDS`, with each keyword's language
   in :data:`KEYWORD_LANGUAGES`), accents shown as people type them:

   ========  ===========================================  ================  ===========
   Language  Opt-out                                      Opt-in            Help
   ========  ===========================================  ================  ===========
   English   STOP STOPALL UNSUBSCRIBE CANCEL END QUIT     START UNSTOP YES  HELP INFO
             REVOKE, OPT OUT, OPTOUT
   Spanish   PARAR ALTO DETENER CANCELAR BAJA, NO MÁS      SÍ                AYUDA
   French    ARRÊT ARRÊTER                                OUI               AIDE
   ========  ===========================================  ================  ===========

   Sources: English, ``sending-rules.md`` "Replies and keywords" (the CTIA
   Messaging Principles and Best Practices' standard STOP/HELP/START set, and
   REVOKE and OPT OUT from the FCC's 2024 revocation order, 47 CFR
   64.1200(a)(10)). Spanish and French, ``sending-rules.md`` "Keywords in other
   languages" (added 2026-11-30), which follows carrier guidance: US carriers
   require Spanish-language programs to answer ALTO and AYUDA (the US short-code
   carrier guidelines), the Mobile Marketing Association's consumer best practices
   list CANCELAR and BAJA, and Canadian carriers require ARRET and AIDE of every
   program whatever its language, answered in French (CWTA Canadian Common Short
   Code Application Guidelines; Canadian Telecommunications Association, A2P
   Messaging Best Practices v1.0, 2023; ARRET is also one of AWS End User
   Messaging's required opt-out keywords for the US and Canada).

   Opt-in and help words count only alone: "yes, Tuesday works", "sí, el martes",
   "oui merci" and "help me understand the quote" are replies, because they don't
   remove anything. An opt-in word is an opt-in only for a number on the opt-out
   list; the inbound service files it as a reply otherwise (issue 15, point 3).
2. Revocations in plain words (the FCC's 2024 "any reasonable means" rule), in
   English and Spanish, and the common French ones. The message is split into
   clauses at sentence punctuation (including ``¿`` and ``¡``), and a clause is a
   revocation if it is one of these:
   - only stop words and politeness ("please stop", "STOP STOP", "stop it",
     "I said stop", "alto por favor", "¡basta ya!", "no más, gracias",
     "arrêtez svp"), so "wrong number, stop" and "Who is this? STOP" count;
   - a stopping verb aimed at messages or contact ("stop texting me", "end
     these messages", "cancel my subscription", "no more texts", "don't text me
     again", "I don't want these texts anymore"; "dejen de escribirme", "no me
     manden más mensajes", "no me escriban más", "ya no quiero recibir mensajes",
     "no quiero más mensajes", "paren los mensajes"; "arrêtez de m'écrire",
     "ne m'envoyez plus de messages");
   - removing me or my number ("remove me from your list", "take me off",
     "lose my number", "quítenme de la lista", "borren mi número", "darme de
     baja", "retirez-moi de votre liste"), "leave me alone" ("déjenme en paz",
     "laissez-moi tranquille"), "wrong number" ("número equivocado", "mauvais
     numéro"), the do-not-call list, "I never signed up for this" ("nunca me
     suscribí"), revoking consent, or a word that has no other meaning
     (unsubscribe, opt out, desuscribir, désabonner).
   A stopping verb with any other object is a reply: "can you stop by
   Tuesday?", "don't stop the work", "cancel my appointment", "the noise won't
   end", "¿pueden parar el martes?", "baja la presión del agua", "alto el
   precio", "no más de 2 horas por favor", "para el martes está bien". When in
   doubt the rules lean towards an opt-out: texting someone who asked us to stop
   is a legal and trust cost, whereas a misread reply only costs that one contact.
3. Anything else, including empty and emoji-only messages, is a reply.

Only texts count as the channel: "don't call me, text me" is a reply.

The language (:class:`~outreach.replies.Language`) is the keyword's, or the
revocation rule's; a clause of English stop words, a reply, and anything else
takes the language most of the message's telling words belong to ("stop por favor"
is Spanish, "stop svp" French), English when nothing says otherwise. The
confirmation or HELP answer goes in that language (``sending-rules.md``,
"Keywords in other languages").
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Final

from outreach.replies import LANGUAGES, Language


class InboundKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    REPLY = "reply"


@dataclass(frozen=True, slots=True)
class Classification:
    """What a text is (``kind``), the rule that said so (``reason``: ``keyword
    <KEYWORD>``, ``plain-words revocation (<rule>)`` or ``reply``), and the language
    the person wrote in (English when nothing says otherwise)."""

    kind: InboundKind
    reason: str
    language: Language = Language.EN


# The reviewed table (module docstring): keywords as compared, upper case without
# accents; two-word keywords with one space.
_KEYWORD_TABLE: Final[tuple[tuple[Language, InboundKind, tuple[str, ...]], ...]] = (
    (
        Language.EN,
        InboundKind.OPT_OUT,
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT", "OPTOUT"),
    ),
    (Language.EN, InboundKind.OPT_IN, ("START", "UNSTOP", "YES")),
    (Language.EN, InboundKind.HELP, ("HELP", "INFO")),
    (
        Language.ES,
        InboundKind.OPT_OUT,
        ("PARAR", "ALTO", "DETENER", "CANCELAR", "BAJA", "NO MAS"),
    ),
    (Language.ES, InboundKind.OPT_IN, ("SI",)),
    (Language.ES, InboundKind.HELP, ("AYUDA",)),
    (Language.FR, InboundKind.OPT_OUT, ("ARRET", "ARRETER")),
    (Language.FR, InboundKind.OPT_IN, ("OUI",)),
    (Language.FR, InboundKind.HELP, ("AIDE",)),
)

KEYWORDS: Final[Mapping[str, InboundKind]] = MappingProxyType(
    {keyword: kind for _, kind, keywords in _KEYWORD_TABLE for keyword in keywords}
)
KEYWORD_LANGUAGES: Final[Mapping[str, Language]] = MappingProxyType(
    {keyword: language for language, _, keywords in _KEYWORD_TABLE for keyword in keywords}
)
# A keyword typed without its space ("NOMAS", "no'más": the apostrophe joins the words)
# is the keyword; one that is a keyword itself (OPTOUT, STOPALL) stays itself.
_JOINED_KEYWORDS: Final[Mapping[str, str]] = MappingProxyType(
    {**{keyword.replace(" ", ""): keyword for keyword in KEYWORDS}, **{k: k for k in KEYWORDS}}
)

# A word is a run of letters and digits; an apostrophe inside it is dropped
# ("don't" -> "dont", "m'écrire" -> "mecrire") so contractions match however the
# phone typed them.
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

# "no más" is one stop word (NO MÁS, the keyword) though "no" and "más" alone are not.
_NO_MORE: Final = "no mas"
# Words that make a clause an opt-out when it holds nothing else but politeness, by
# the language they tell. Spanish and French stopping verbs in the forms people
# text (infinitive, imperative); "para" is there because alone, or with only
# politeness, it can only be the imperative ("¡Para ya!"), and "para el martes"
# has other words.
_STOP_WORDS: Final[Mapping[str, Language]] = MappingProxyType(
    {
        **dict.fromkeys(
            ("stop", "stopall", "unsubscribe", "unsub", "cancel", "end", "quit", "revoke",
             "optout"),
            Language.EN,
        ),
        **dict.fromkeys(
            ("parar", "para", "pare", "paren", "parale", "parenle", "alto", "detener",
             "detengan", "detenga", "detente", "detenganse", "basta", "cancelar", "cancela",
             "cancele", "cancelen", "baja", _NO_MORE),
            Language.ES,
        ),
        **dict.fromkeys(
            ("arret", "arrete", "arretez", "arreter", "cessez", "stoppez"), Language.FR
        ),
    }
)  # fmt: skip
_POLITENESS: Final = frozenset(
    {
        "please", "pls", "plz", "now", "it", "this", "that", "all", "thanks", "thank",
        "you", "thx", "ty", "already", "just", "ok", "okay", "immediately", "asap",
        "right", "away", "i", "said", "seriously", "again", "no", "forever",
        # Spanish: por favor, porfa, gracias, ya, ahora mismo, (les) dije, inmediatamente.
        "por", "favor", "porfa", "porfavor", "xfa", "xfavor", "gracias", "ya", "ahora",
        "mismo", "dije", "les", "inmediatamente",
        # French: s'il vous plaît, svp, merci, maintenant, tout de suite, j'ai dit, déjà.
        "sil", "vous", "plait", "svp", "stp", "merci", "maintenant", "tout", "de", "suite",
        "jai", "dit", "deja", "immediatement",
    }
)  # fmt: skip

# Words that tell a message's language (folded: lower case, no accents, no
# apostrophes), for what no keyword or language-specific rule decides: only words
# of one language, so "me", "la", "de", "no" and "numero" tell nothing.
_TELLING_WORDS: Final[Mapping[str, Language]] = MappingProxyType(
    {
        **dict.fromkeys(
            ("the", "please", "pls", "my", "you", "your", "i", "dont", "want", "text",
             "texts", "texting", "number", "thanks", "thank", "remove", "from", "list",
             "this", "to", "and", "is", "it", "of", "wrong", "again", "anymore", "more",
             "what", "who", "can", "will", "not", "do", "sorry", "hi", "hello", "yes",
             "call", "send", "us", "we", "are", "for", "that", "on", "at", "have", "get",
             "off", "with", "need", "works", "when", "how"),
            Language.EN,
        ),
        **dict.fromkeys(
            ("por", "favor", "porfa", "gracias", "mensajes", "mensaje", "textos", "mas",
             "quiero", "ya", "que", "el", "los", "las", "del", "mi", "mis", "su", "sus",
             "es", "esta", "este", "esto", "estos", "y", "con", "para", "pero", "hola",
             "lista", "dejen", "manden", "envien", "escriban", "ustedes", "usted",
             "equivocado", "hoy", "manana", "cuando", "donde", "como", "hay", "pueden",
             "puede", "tengo", "soy", "estoy", "una", "nada", "nunca", "aqui", "muchas",
             "hablo", "ingles", "espanol", "ayuda", "alto", "parar", "baja", "recibir"),
            Language.ES,
        ),
        **dict.fromkeys(
            ("je", "jai", "ne", "pas", "plus", "merci", "svp", "stp", "sil", "plait",
             "vous", "votre", "vos", "moi", "mon", "des", "du", "et", "est", "au", "aux",
             "avec", "pour", "mais", "bonjour", "oui", "non", "liste", "ce", "cette",
             "ces", "qui", "quoi", "quand", "demain", "cest", "il", "elle", "nous",
             "toi", "suis", "aide", "arret", "arrete", "arretez", "arreter", "ecrire",
             "envoyer", "recevoir", "tranquille", "paix", "parle", "francais"),
            Language.FR,
        ),
    }
)  # fmt: skip
# Letters only one of the two other languages writes (é is both's).
_TELLING_LETTERS: Final[Mapping[str, Language]] = MappingProxyType(
    {
        **dict.fromkeys("ñáíóú¿¡", Language.ES),
        **dict.fromkeys("èêàâîôûçœë", Language.FR),
    }
)

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

_ENGLISH: Final[tuple[tuple[str, str], ...]] = (
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


# Spanish (accents folded: "más" is "mas", "número" "numero"). "No dejen de
# escribirme" asks for the opposite.
_ES_NOT_NEGATED: Final = r"(?<!\bno )(?<!\bnunca )"
_ES_MESSAGES: Final = (
    r"(?:mensajes?|mensajitos?|msjs?|mjs|textos?|sms|spam|notificacion(?:es)?"
    r"|promocion(?:es)?|publicidad|anuncios|alertas|recordatorios|ofertas)"
)
_ES_MODIFIERS: Final = (
    r"(?:(?:mas|sus|su|tus|tu|los|las|estos|estas|esos|esas|este|ese|esta|esa|el|la|de"
    r"|del|ningun|ninguna|otro|otros|todos|todas|tantos|nada|texto|sms|spam)\s)*"
)
# Writing or sending to me, in the forms that ask (imperative, subjunctive) and the
# infinitive and gerund: "no me escriban", "dejen de escribirme", "no me sigan
# escribiendo"; the indicative tells what happened ("no me escribió el técnico", "no
# me molesta", "no me mandaron el mensaje" are replies).
_ES_WRITING: Final = (
    r"(?:(?:contact|molest|texte|mensaje|spame|acos|fastidi|hostig)"
    r"(?:arnos|arme|ando|ar|eis|en|es|e)"
    r"|escrib(?:irnos|irme|iendo|ir|ais|an|as|a))\b"
)
_ES_SENDING: Final = r"(?:mand|envi)(?:arnos|arme|ando|ar|eis|en|es|e)\b"
_ES_REMOVE_ME: Final = (
    r"(?:quit|saqu|sac|borr|elimin|remuev|retir|excluy|desapunt)(?:en|an|ar|ir|e|a)?"
    r"(?:me|nos)"
)
_ES_REMOVE: Final = (
    r"(?:quiten|quite|quita|quitar|saquen|saque|saca|sacar|borren|borre|borra|borrar"
    r"|eliminen|elimine|elimina|eliminar|remuevan|retiren|retire|retira|retirar)"
)
_ES_MY_NUMBER: Final = (
    r"(?:(?:mi|este|nuestro)\s(?:numero|telefono|celular|cel|contacto|nombre|informacion)"
    r"|mis\sdatos)"
)

# What "nunca me suscribí a ..." may end with: this, these messages.
_ES_THIS: Final = rf"(?:esto|esta|este|estos|estas|eso|nada|{_ES_MODIFIERS}{_ES_MESSAGES})"

_SPANISH: Final[tuple[tuple[str, str], ...]] = (
    (
        "dejen de escribirme",
        rf"{_ES_NOT_NEGATED}\b(?:deja|dejen|deje|dejes|dejar|dejad|paren|pare|para|parar)"
        rf"\s(?:ya\s)?de\s(?:(?:me|nos)\s)?(?:{_ES_WRITING}|{_ES_SENDING}"
        rf"(?:\s{_ES_MODIFIERS}{_ES_MESSAGES}\b|(?:\s(?:cosas|nada|eso|esto))?$))",
    ),
    # "No me escriban más", "no me vuelvan a escribir"; a "send" needs messages or
    # nothing after it: "no me manden al técnico" is a reply.
    (
        "no me escriban",
        rf"\b(?:no|nunca|jamas)\s(?:me|nos)\s(?:(?:vuelvan|vuelva|vuelvas|sigan|siga"
        rf"|sigas)\s(?:a\s)?)?{_ES_WRITING}",
    ),
    (
        "no me manden mensajes",
        rf"\b(?:no|nunca|jamas)\s(?:(?:me|nos)\s)?(?:(?:vuelvan|vuelva|sigan|siga)\s(?:a\s)?)?"
        rf"{_ES_SENDING}(?:\s(?:mas|nada|nunca|ya))*(?:\s{_ES_MODIFIERS}{_ES_MESSAGES}\b|$)",
    ),
    (
        "no quiero mensajes",
        rf"\b(?:no|nunca)\s(?:(?:me|nos)\s)?(?:quiero|queremos|deseo|deseamos|necesito"
        rf"|quisiera|interesa)\b(?:\s\w+){{0,4}}?\s(?:{_ES_MESSAGES}\b"
        rf"|que\s(?:me|nos)\s(?:sigan\s)?{_ES_WRITING})",
    ),
    (
        "no quiero recibir",
        r"\b(?:no|nunca)\s(?:quiero|queremos|deseo|deseamos|quisiera)\s(?:seguir\s)?"
        r"(?:recibir(?:los|las|lo)?|que\s(?:me|nos)\s(?:escriban|manden|envien|contacten))"
        r"(?:\s(?:mas|nada|ya|nunca))*$",
    ),
    (
        "no quiero estar en la lista",
        r"\bno\s(?:quiero|deseo|queremos)\s(?:estar|seguir|aparecer|continuar)\s"
        r"(?:en\s(?:la|su|sus|esta|esa)\s(?:lista|base)|suscrit|inscrit|registrad)",
    ),
    (
        "no más mensajes",
        # Between "no" and "más" only a verb that asks: "¿no hay más mensajes?" and
        # "no recibí más mensajes" are replies.
        r"\bno\s(?:(?:me|nos|le|les)\s)?(?:(?:quiero|queremos|deseo|necesito|lleguen"
        rf"|llegue|manden|mande|envien|envie)\s)?mas\s{_ES_MODIFIERS}{_ES_MESSAGES}\b",
    ),
    (
        "basta de mensajes",
        rf"\b(?:basta|suficiente|alto|fin)\s(?:de|con|a)\s{_ES_MODIFIERS}{_ES_MESSAGES}\b",
    ),
    (
        "paren los mensajes",
        rf"{_ES_NOT_NEGATED}\b(?:paren|pare|parar|detengan|detenga|detener|cancelen"
        rf"|cancele|cancela|cancelar|suspendan|suspenda|suspender|terminen|corten)\s"
        rf"(?:(?:de\s)?{_ES_SENDING}\s)?{_ES_MODIFIERS}{_ES_MESSAGES}\b",
    ),
    # "Quítenme de la lista", "sáquenme", but "sácame de dudas" and "quítame la
    # duda" are replies.
    (
        "quítenme de la lista",
        rf"\b{_ES_REMOVE_ME}(?:$|\s(?:ya|ahora|gracias|por\sfavor|porfa|de\sinmediato)\b"
        rf"|\s(?:de|del)\s(?!dudas?\b))",
    ),
    ("borren mi número", rf"\b{_ES_REMOVE}\s(?:a\s)?{_ES_MY_NUMBER}\b"),
    ("déjenme en paz", r"\b(?:dejenme|dejeme|dejame|dejenos|dejanos)\s(?:en\spaz|tranquil)"),
    (
        "número equivocado",
        r"\b(?:numero|telefono|celular|persona)\s(?:equivocad|incorrect|errone)"
        r"|\bequivoca\w*\sde\s(?:numero|persona)\b",
    ),
    (
        "darme de baja",
        r"\b(?:darme|darnos|denme|dame|deme|denos|danos|darse|dese|dense)\sde\sbaja\b"
        r"|\b(?:me|nos)\s(?:\w+\s){0,2}?(?:dar|den|de|des|dan|da|doy|damos|dieran|dio)"
        r"\sde\sbaja\b"
        rf"|\bdar\sde\sbaja(?:$|\s(?:{_ES_MY_NUMBER}|(?:mi|la|esta)\ssuscripcion|de)\b)"
        r"|\bbaja\sde\s(?:(?:la|su|sus|esta|este|estos|los)\s)?"
        rf"(?:lista|suscripcion|esto|{_ES_MESSAGES})\b"
        r"|\b(?:quiero|solicito|pido|deseo)\s(?:la|mi)\sbaja\b",
    ),
    (
        "cancelar mi suscripción",
        r"\b(?:cancel|anul|termin)\w*\s(?:mi|la|esta|su)\ssuscripcion\b",
    ),
    ("desuscribirme", r"\b(?:desuscrib|desubscrib|desinscrib|dessuscrib|desafili)\w*"),
    (
        "retiro mi consentimiento",
        r"\b(?:(?:retiro|revoco|revocar|retirar|cancelo|anulo)\s(?:mi\s|el\s)?"
        r"|no\s(?:doy|di|tienen|he\sdado|les\sdoy|les\sdi)\s(?:mi\s)?)"
        r"(?:consentimiento|autorizacion|permiso)\b",
    ),
    # Anchored at the clause end: "nunca me registré para la garantía" is a reply.
    (
        "nunca me suscribí",
        rf"\b(?:nunca|jamas|yo\sno|no)\s(?:me\s)?(?:suscribi|inscribi|registre|apunte"
        rf"|autorice|di\smi\snumero)(?:\s(?:(?:a|en|para|por)\s)?{_ES_THIS})?$"
        rf"|\b(?:nunca|jamas)\s(?:pedi|solicite)(?:\s{_ES_THIS})?$"
        # "No pedí" alone may mean "I didn't order it": only "no pedí esto" revokes.
        rf"|\bno\s(?:pedi|solicite)\s{_ES_THIS}$",
    ),
    ("lista de no llamar", r"\blista\sde\sno\s(?:llamar|molestar|contactar|enviar)\b"),
)

# French (accents folded; "m'écrire" is "mecrire", "d'envoyer" "denvoyer").
_FR_MESSAGES: Final = r"(?:messages?|textos?|sms|textes?|spams?|pubs?|publicites?)"
_FR_TO_ME: Final = r"(?:de\s(?:(?:me|nous)\s)?(?:m|n)?|d)"
_FR_WRITING: Final = r"(?:ecrire|texter|contacter|harceler|deranger|importuner|spammer|relancer)"

_FRENCH: Final[tuple[tuple[str, str], ...]] = (
    (
        "arrêtez de m'écrire",
        rf"\b(?:arretez|arrete|arretes|arreter|cessez|cesse|cesser|stoppez)\s{_FR_TO_ME}"
        rf"(?:{_FR_WRITING}\b|envoyer(?:\s(?:des|de|ces|vos|les|plus|tous|ses|ca|cela))*"
        rf"(?:\s{_FR_MESSAGES}\b|$))",
    ),
    (
        "arrêtez les messages",
        rf"\b(?:arretez|arrete|arreter|cessez|stop|stoppez|assez\sde|plus\sde|fini\sles)\s"
        rf"(?:(?:les|vos|ces|des|tous|ses|aux|de|ce)\s)*{_FR_MESSAGES}\b",
    ),
    (
        "ne m'écrivez plus",
        r"\bne\s(?:(?:me|nous)\s)?(?:m|n)?(?:ecrivez|ecris|contactez|contacte|textez|texte"
        r"|derangez|harcelez|relancez)\splus\b"
        rf"|\bne\s(?:(?:me|nous)\s)?(?:m|n)?(?:envoyez|envoie)\splus"
        rf"(?:\s(?:rien|jamais|de|des|aucun|ces|vos))*(?:\s{_FR_MESSAGES}\b|$)",
    ),
    (
        "je ne veux plus de messages",
        rf"\b(?:veux|veut|voulons|souhaite|souhaitons|desire)\s(?:plus|pas)\s(?:\w+\s){{0,3}}?"
        rf"{_FR_MESSAGES}\b|\b(?:veux|veut|voulons|souhaite|souhaitons|desire)\splus\s"
        r"(?:rien\s)?recevoir(?:\s(?:rien|de\svous|vos\smessages|ca|cela))?$",
    ),
    (
        "retirez-moi",
        r"\b(?:retirez|retire|retirer|supprimez|supprime|supprimer|enlevez|enleve|enlever"
        r"|effacez|efface|effacer|rayez|otez|desinscrivez|desabonnez)\s(?:moi|nous"
        r"|(?:mon|ce)\s(?:numero|nom|telephone)|mes\s(?:coordonnees|donnees))\b",
    ),
    ("désabonner", r"\b(?:desabonn|desinscri|desinscrip)\w*"),
    (
        "laissez-moi tranquille",
        r"\b(?:laissez|laisse)\s(?:moi|nous)\s(?:tranquilles?|en\spaix)\b"
        r"|\b(?:fichez|fiche|foutez|fous)\s(?:moi|nous)\sla\spaix\b",
    ),
    (
        "mauvais numéro",
        r"\b(?:mauvais|faux)\snumeros?\b|\berreur\sde\s(?:numero|personne)\b"
        r"|\bnumero\s(?:errone|incorrect)\b",
    ),
    (
        "retire mon consentement",
        r"\b(?:retire|revoque|annule)\s(?:mon\s)?(?:consentement|autorisation)\b",
    ),
    # Anchored at the clause end: "je n'ai pas demandé le rendez-vous" is a reply.
    (
        "jamais inscrit",
        r"\b(?:jamais|pas)\s(?:inscrite?|abonnee?|demande|consenti|accepte)"
        r"(?:\s(?:a\s)?(?:ca|cela|ceci))?$",
    ),
)


@cache
def _revocations() -> tuple[tuple[str, Language, re.Pattern[str]], ...]:
    """Every plain-words rule with the language it is written in, English first.

    Compiled on the first text that is not a keyword, not at import: the rules are
    about 45 patterns, some 40 ms of ``re.compile``, which a cold start serving a
    delivery receipt or a STOP never needs (issue 16)."""
    return tuple(
        (name, language, re.compile(pattern))
        for language, rules in (
            (Language.EN, _ENGLISH),
            (Language.ES, _SPANISH),
            (Language.FR, _FRENCH),
        )
        for name, pattern in rules
    )


def classify(body: str) -> Classification:
    """Classify one inbound text body, and tell the language it is written in.

    ``sending-rules.md``, "Replies and keywords" and "Keywords in other languages"
    (the module docstring has the rules). Never raises.
    """
    text = unicodedata.normalize("NFC", body)
    words = _words(text)
    if not words:
        return Classification(InboundKind.REPLY, "reply")

    spaced = " ".join(words).upper()
    keyword = spaced if spaced in KEYWORDS else _JOINED_KEYWORDS.get("".join(words).upper())
    if keyword is not None:
        return Classification(KEYWORDS[keyword], f"keyword {keyword}", KEYWORD_LANGUAGES[keyword])

    for clause in _CLAUSE_BREAK.split(text):
        clause_words = _words(clause)
        if not clause_words:
            continue
        if _only_stop_words(clause_words):
            language = _stop_words_language(clause_words) or _written_in(text, words)
            return _revocation("stop words", language)
        normalized = " ".join(clause_words)
        for name, language, pattern in _revocations():
            if pattern.search(normalized):
                return _revocation(name, language)

    return Classification(InboundKind.REPLY, "reply", _written_in(text, words))


def _words(text: str) -> list[str]:
    return [_fold(match.group()) for match in _WORD.finditer(text)]


def _fold(word: str) -> str:
    # NFKD after casefold turns full-width letters into ASCII and splits off
    # accents (including the dot of a Turkish capital İ), which are then dropped.
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.translate(_DROP_APOSTROPHES)


def _stop_tokens(words: Sequence[str]) -> list[str]:
    """``words`` with each "no" followed by "mas" made the one token "no mas"."""
    tokens: list[str] = []
    for word in words:
        if word == "mas" and tokens and tokens[-1] == "no":
            tokens[-1] = _NO_MORE
        else:
            tokens.append(word)
    return tokens


def _only_stop_words(words: Sequence[str]) -> bool:
    tokens = _stop_tokens(words)
    return any(token in _STOP_WORDS for token in tokens) and all(
        token in _STOP_WORDS or token in _POLITENESS for token in tokens
    )


def _stop_words_language(words: Sequence[str]) -> Language | None:
    """The language of the first Spanish or French stop word, or ``None`` when all are
    English (people of every language write STOP: the other words decide)."""
    for token in _stop_tokens(words):
        language = _STOP_WORDS.get(token)
        if language is not None and language is not Language.EN:
            return language
    return None


def _written_in(text: str, words: Sequence[str]) -> Language:
    """The language most of the telling words and letters of ``text`` (its folded
    ``words``) belong to; English on a tie or when none tells."""
    votes: Counter[Language] = Counter()
    votes.update(_TELLING_WORDS[word] for word in words if word in _TELLING_WORDS)
    votes.update(_TELLING_LETTERS[char] for char in text.casefold() if char in _TELLING_LETTERS)
    # max keeps the first of equals, and LANGUAGES starts with English.
    return max(LANGUAGES, key=lambda language: votes[language])


def _revocation(rule: str, language: Language) -> Classification:
    return Classification(InboundKind.OPT_OUT, f"plain-words revocation ({rule})", language)
