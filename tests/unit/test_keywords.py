from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.inbound.keywords import (
    KEYWORD_LANGUAGES,
    KEYWORDS,
    Classification,
    InboundKind,
    classify,
)
from outreach.replies import Language

OPT_OUT, OPT_IN, HELP, REPLY = (
    InboundKind.OPT_OUT,
    InboundKind.OPT_IN,
    InboundKind.HELP,
    InboundKind.REPLY,
)
EN, ES, FR = Language.EN, Language.ES, Language.FR


def _table(language: Language, kind: InboundKind) -> set[str]:
    return {
        k for k, found in KEYWORDS.items() if found is kind and KEYWORD_LANGUAGES[k] is language
    }


def test_the_keyword_table_is_the_one_in_the_sending_rules() -> None:
    # Issue 15 added Spanish and French keywords on purpose: the English ones are now
    # the English part of the table ("Replies and keywords"), the others follow
    # "Keywords in other languages" (folded: upper case, no accents).
    assert _table(EN, OPT_OUT) == {
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT", "OPTOUT",
    }  # fmt: skip
    assert _table(EN, OPT_IN) == {"START", "UNSTOP", "YES"}
    assert _table(EN, HELP) == {"HELP", "INFO"}
    assert _table(ES, OPT_OUT) == {"PARAR", "ALTO", "DETENER", "CANCELAR", "BAJA", "NO MAS"}
    assert _table(ES, OPT_IN) == {"SI"}
    assert _table(ES, HELP) == {"AYUDA"}
    assert _table(FR, OPT_OUT) == {"ARRET", "ARRETER"}
    assert _table(FR, OPT_IN) == {"OUI"}
    assert _table(FR, HELP) == {"AIDE"}
    assert set(KEYWORD_LANGUAGES) == set(KEYWORDS)


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


# --- Spanish and French (sending-rules.md, "Keywords in other languages"; issue 15) -------


@pytest.mark.parametrize(
    ("body", "kind", "keyword", "language"),
    [
        # The "Why": stored as replies before.
        ("ARRET", OPT_OUT, "ARRET", FR),
        ("Arrêt", OPT_OUT, "ARRET", FR),
        ("ALTO", OPT_OUT, "ALTO", ES),
        ("PARAR", OPT_OUT, "PARAR", ES),
        ("arrêt", OPT_OUT, "ARRET", FR),
        ("ARRÊT!", OPT_OUT, "ARRET", FR),
        ("  arret. ", OPT_OUT, "ARRET", FR),
        ("Arrêter", OPT_OUT, "ARRETER", FR),
        ("ARRETER", OPT_OUT, "ARRETER", FR),
        ("¡Alto!", OPT_OUT, "ALTO", ES),
        ("alto", OPT_OUT, "ALTO", ES),
        ("Parar.", OPT_OUT, "PARAR", ES),
        ("detener", OPT_OUT, "DETENER", ES),
        ("DETENER!!", OPT_OUT, "DETENER", ES),
        ("Cancelar", OPT_OUT, "CANCELAR", ES),
        ("baja", OPT_OUT, "BAJA", ES),
        ("BAJA 🙏", OPT_OUT, "BAJA", ES),
        ("No más", OPT_OUT, "NO MAS", ES),
        ("NO MAS", OPT_OUT, "NO MAS", ES),
        ("¡No más!", OPT_OUT, "NO MAS", ES),
        ("no   más", OPT_OUT, "NO MAS", ES),
        ("nomás", OPT_OUT, "NO MAS", ES),
        ("No'más", OPT_OUT, "NO MAS", ES),
        ("\uff21\uff2c\uff34\uff2f", OPT_OUT, "ALTO", ES),  # full-width ALTO
        ("A\u0301LTO", OPT_OUT, "ALTO", ES),  # a combining accent, as some keyboards send
        ("AYUDA", HELP, "AYUDA", ES),
        ("¿Ayuda?", HELP, "AYUDA", ES),
        ("Aide", HELP, "AIDE", FR),
        ("AIDE!", HELP, "AIDE", FR),
        ("Sí", OPT_IN, "SI", ES),
        ("si", OPT_IN, "SI", ES),
        ("SÍ!", OPT_IN, "SI", ES),
        ("Oui", OPT_IN, "OUI", FR),
        ("OUI.", OPT_IN, "OUI", FR),
    ],
)
def test_spanish_and_french_keywords_alone_in_any_case_accents_and_punctuation(
    body: str, kind: InboundKind, keyword: str, language: Language
) -> None:
    assert classify(body) == Classification(kind, f"keyword {keyword}", language)


@pytest.mark.parametrize(
    ("body", "language"),
    [("STOP", EN), ("Help", EN), ("INFO", EN), ("yes", EN), ("START", EN), ("cancel", EN)],
)
def test_english_keywords_answer_in_english(body: str, language: Language) -> None:
    assert classify(body).language is language


SPANISH_REVOCATIONS = [
    "No más mensajes por favor",
    "no me manden más mensajes",
    "No me manden mas mensajes!!",
    "no me envíen más mensajes",
    "quítenme de la lista",
    "Quitenme de su lista por favor",
    "sáquenme de su lista",
    "bórrenme de la lista",
    "ya no quiero recibir mensajes",
    "Ya no quiero recibir sus mensajes",
    "no quiero recibir más",
    "dejen de escribirme",
    "Dejen de mandarme mensajes",
    "deja de enviarme mensajes",
    "paren de escribirme",
    "no me escriban más",
    "No me vuelvan a escribir",
    "no me sigan escribiendo por favor",
    "no me contacten",
    "borren mi número",
    "Eliminen mi número de su lista",
    "número equivocado",
    "Numero equivocado, no soy esa persona",
    "se equivocaron de número",
    "no quiero más mensajes",
    "No quiero que me escriban",
    "déjenme en paz",
    "Déjame en paz!",
    "dar de baja",
    "darme de baja",
    "quiero darme de baja",
    "Me quiero dar de baja",
    "denme de baja por favor",
    "¿Cómo me doy de baja?",
    "baja de la lista",
    "alto por favor",
    "¡Basta ya!",
    "para ya",
    "no más, gracias",
    "stop por favor",
    "Alto a los mensajes",
    "paren los mensajes",
    "basta de mensajes",
    "cancelar mi suscripción",
    "quiero desuscribirme",
    "retiro mi consentimiento",
    "nunca me suscribí a esto",
    "Yo no me suscribí",
    "no quiero estar en su lista",
    "Hola. No me interesa recibir mensajes",
    "Gracias, pero no más mensajes",
    "Yo no pedí esto",
    "No me lleguen más mensajes",
]


@pytest.mark.parametrize("body", SPANISH_REVOCATIONS)
def test_spanish_plain_words_revocations_are_opt_outs_in_spanish(body: str) -> None:
    result = classify(body)
    assert result.kind is OPT_OUT, result
    assert result.reason.startswith("plain-words revocation (")
    assert result.language is ES, result


FRENCH_REVOCATIONS = [
    "Arrêtez svp",
    "arrête s'il vous plaît",
    "stop svp",
    "Stop merci",
    "arrêtez de m'écrire",
    "Arrêtez de m'envoyer des messages",
    "ne m'envoyez plus de messages",
    "Ne m'écrivez plus",
    "je ne veux plus recevoir de messages",
    "Je ne veux plus de vos textos",
    "retirez-moi de votre liste",
    "Supprimez mon numéro",
    "me désabonner",
    "laissez-moi tranquille",
    "mauvais numéro",
    "plus de messages svp",
    "Je ne me suis jamais inscrit",
]


@pytest.mark.parametrize("body", FRENCH_REVOCATIONS)
def test_french_plain_words_revocations_are_opt_outs_in_french(body: str) -> None:
    result = classify(body)
    assert result.kind is OPT_OUT, result
    assert result.reason.startswith("plain-words revocation (")
    assert result.language is FR, result


# Spanish and French replies, many holding a keyword in another sense: para (for),
# alto (high), baja (lowers), si (if), oui, aide (help in a sentence), ayuda.
SPANISH_AND_FRENCH_LOOK_ALIKES = [
    "¿pueden parar el martes?",
    "no hay problema",
    "baja la presión del agua",
    "alto el precio",
    "Está muy alto el precio",
    "no más de 2 horas por favor",
    "para el martes está bien",
    "¿Para qué es esto?",
    "Para mí está bien",
    "No para de llover",
    "Sí, el martes está bien",
    "si puedo, el jueves",
    "Sí por favor",
    "¿Me pueden ayudar con la factura?",
    "Necesito ayuda con la cita",
    "Cancelar la cita del martes",
    "¿Baja de precio?",
    "La presión baja en la tarde",
    "No me molesta el cambio de hora",
    "No me escribió el técnico",
    "No me mandaron el mensaje con la dirección",
    "Sácame de dudas: ¿cuánto cuesta?",
    "Quítame la duda, ¿vienen el lunes?",
    "No quiero estar en casa el martes",
    "No dejen de escribirme con las ofertas",
    "Nunca me registré para la garantía",
    "No pedí",
    "¿No hay más mensajes del técnico?",
    "No recibí más mensajes",
    "No me manden la factura por correo",
    "No envíen al técnico el lunes",
    "Borren la cita del martes",
    "Hola, ¿a qué hora llegan?",
    "Oui, mardi c'est parfait",
    "oui merci",
    "J'ai besoin d'aide pour la facture",
    "Aide-moi à choisir la date",
    "L'arrêt de bus est devant chez moi",
    "Arrêtez-vous chez moi mardi",
    "Il n'arrête pas de pleuvoir",
    "Je n'ai pas demandé le rendez-vous du lundi",
    "Si possible, le matin",
]


@pytest.mark.parametrize("body", SPANISH_AND_FRENCH_LOOK_ALIKES)
def test_spanish_and_french_look_alikes_are_replies(body: str) -> None:
    result = classify(body)
    assert (result.kind, result.reason) == (REPLY, "reply"), result


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("Sí, el martes está bien", ES),
        ("¿Me pueden ayudar con la factura?", ES),
        ("Oui, mardi c'est parfait", FR),
        ("J'ai besoin d'aide pour la facture", FR),
        ("Tuesday works", EN),
        ("No", EN),
        ("\U0001f44d", EN),
    ],
)
def test_a_reply_tells_the_language_it_is_written_in(body: str, language: Language) -> None:
    assert classify(body).language is language


@pytest.mark.parametrize("body", PLAIN_WORDS_REVOCATIONS)
def test_english_plain_words_revocations_stay_in_english(body: str) -> None:
    assert classify(body).language is EN


@pytest.mark.parametrize("body", LOOK_ALIKE_REPLIES)
def test_english_look_alikes_stay_english(body: str) -> None:
    assert classify(body).language is EN


@given(st.text(max_size=500))
def test_any_text_tells_one_of_the_three_languages(body: str) -> None:
    assert classify(body).language in Language


@given(st.sampled_from(sorted(KEYWORDS)), st.text(_IGNORABLE, max_size=8))
def test_a_keyword_tells_its_own_language(keyword: str, noise: str) -> None:
    assert classify(noise + keyword.lower() + noise).language is KEYWORD_LANGUAGES[keyword]
