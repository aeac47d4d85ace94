"""The auto-replies' texts, per language: HELP answers and opt-out / opt-in confirmations.

Source: ``sending-rules.md``, "Keywords in other languages" (confirmations and HELP
answers go in the language the person wrote in) and issue 15, points 2 and 8 (a HELP
answer names the organization, says how to opt out, and gives its
``support_contact`` when one is set). An organization may write its own
``help_texts`` and ``opt_out_confirmations`` per language; every language it has
not written gets the default below, built from its name and support line at the
moment of answering (so a support line set later reaches every default text).

:class:`~outreach.inbound.service.InboundService` sends them in the language
:func:`outreach.inbound.keywords.classify` tells (the keyword's, "ARRET" -> French,
"AYUDA" -> Spanish; English when nothing says otherwise), within the auto-replies'
bounds (``sending-rules.md``, "Keywords in other languages", last paragraph).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from outreach.identity.domain import Organization


class Language(StrEnum):
    """The languages keywords are recognised in and auto-replies are written in (the
    values are the language codes of ``Organization.help_texts`` and
    ``opt_out_confirmations``)."""

    EN = "en"
    ES = "es"
    FR = "fr"


LANGUAGES: Final[tuple[Language, ...]] = tuple(Language)

# What the default HELP answer said before issue 15 (stored on every organization then):
# an organization whose stored text is exactly this never wrote its own.
LEGACY_HELP_TEXT: Final = "{name}: reply STOP to opt out."

# The defaults, each within one GSM-7 segment (160 characters) for a name and support
# line of ordinary length (Spanish avoids á, í, ó, ú, which would make it UCS-2), each
# naming the organization and how to opt out, as carriers expect of HELP and STOP
# answers (CTIA Messaging Principles and Best Practices; CWTA: STOP answered in English,
# ARRET and AIDE in French; US carriers: ALTO and AYUDA for Spanish-language programs,
# so Spanish names ALTO beside PARAR, the first of sending-rules.md's list).
_HELP: Final[Mapping[Language, tuple[str, str]]] = {
    # (with a support line, without one)
    Language.EN: (
        "{name}: for help, {support}. Reply STOP to opt out, START to opt back in. "
        "Msg & data rates may apply.",
        "{name}: reply STOP to opt out of our texts, START to opt back in. "
        "Msg frequency varies. Msg & data rates may apply.",
    ),
    Language.ES: (
        "{name}: para ayuda, {support}. Responda PARAR o ALTO para no recibir mensajes. "
        "Pueden aplicar tarifas.",
        "{name}: responda PARAR o ALTO para dejar de recibir nuestros mensajes, START para "
        "volver. Pueden aplicarse tarifas de mensajes y datos.",
    ),
    Language.FR: (
        "{name} : pour de l'aide, {support}. Répondez ARRET pour vous désabonner. "
        "Frais de messagerie possibles.",
        "{name} : répondez ARRET pour ne plus recevoir nos messages, START pour les "
        "recevoir à nouveau. Des frais de messagerie peuvent s'appliquer.",
    ),
}
_OPT_OUT: Final[Mapping[Language, str]] = {
    Language.EN: "{name}: you are unsubscribed and will receive no more messages. "
    "Reply START to resubscribe.",
    Language.ES: "{name}: se ha dado de baja y ya no le enviaremos mensajes. "
    "Responda START para volver a suscribirse.",
    Language.FR: "{name} : vous avez été désabonné et ne recevrez plus de messages. "
    "Répondez START pour vous réabonner.",
}
_OPT_IN: Final[Mapping[Language, str]] = {
    Language.EN: "{name}: you are resubscribed. Reply STOP to opt out.",
    Language.ES: "{name}: se ha vuelto a suscribir. Responda PARAR o ALTO para darse de baja.",
    Language.FR: "{name} : vous avez été réabonné. Répondez ARRET pour vous désabonner.",
}


def default_help_text(organization: Organization, language: Language) -> str:
    """The default HELP answer in ``language``: the organization's name, how to opt out,
    and its ``support_contact`` when set."""
    with_support, without = _HELP[language]
    support = (organization.support_contact or "").strip()
    if support:
        return with_support.format(name=organization.name, support=support)
    return without.format(name=organization.name)


def help_text(organization: Organization, language: Language) -> str:
    """The HELP answer in ``language``: the organization's own, else the default."""
    return organization.help_texts.get(language.value) or default_help_text(organization, language)


def opt_out_confirmation(organization: Organization, language: Language) -> str:
    """The confirmation of a new opt-out in ``language``: the organization's own, else the
    default."""
    return organization.opt_out_confirmations.get(language.value) or _OPT_OUT[language].format(
        name=organization.name
    )


def opt_in_confirmation(organization: Organization, language: Language) -> str:
    """The confirmation that a number on the opt-out list is off it again (not
    configurable: it only restates the keywords)."""
    return _OPT_IN[language].format(name=organization.name)


def effective_texts(organization: Organization) -> dict[str, dict[str, str]]:
    """Every language's HELP answer and opt-out confirmation as they would be sent now:
    ``{"help_texts": {"en": ..., ...}, "opt_out_confirmations": {...}}`` (the
    organization's answer shows these)."""
    return {
        "help_texts": {lang.value: help_text(organization, lang) for lang in LANGUAGES},
        "opt_out_confirmations": {
            lang.value: opt_out_confirmation(organization, lang) for lang in LANGUAGES
        },
    }
