"""The auto-replies' texts (``outreach.replies``): ``sending-rules.md``, "Keywords in other
languages" (answers in the language the person wrote in) and issue 15, point 8 (a HELP
answer that helps: it names the organization, says how to opt out, and gives the
organization's ``support_contact`` when one is set)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.campaigns.sms_length import measure
from outreach.identity.domain import Organization
from outreach.replies import (
    LANGUAGES,
    Language,
    default_help_text,
    effective_texts,
    help_text,
    opt_in_confirmation,
    opt_out_confirmation,
)
from tests.support import builders

AT = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
SUPPORT = "call 617-555-0100"
# The word each language's texts tell people to send to opt out.
OPT_OUT_WORD = {Language.EN: "STOP", Language.ES: "PARAR o ALTO", Language.FR: "ARRET"}


def organization(name: str = "Acme Plumbing", **changes: object) -> Organization:
    return builders.organization(name, at=AT, **changes)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_default_help_answer_names_the_organization_and_how_to_opt_out(
    language: Language,
) -> None:
    text = help_text(organization(), language)
    assert text == default_help_text(organization(), language)
    assert text.startswith("Acme Plumbing")
    assert OPT_OUT_WORD[language] in text
    assert "START" in text  # and how to come back
    assert "617" not in text  # no support line set: none made up


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_default_help_answer_gives_the_support_line_when_set(language: Language) -> None:
    text = help_text(organization(support_contact=SUPPORT), language)
    assert text.startswith("Acme Plumbing")
    assert SUPPORT in text
    assert OPT_OUT_WORD[language] in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_blank_support_line_is_no_support_line(language: Language) -> None:
    assert help_text(organization(support_contact="  "), language) == help_text(
        organization(), language
    )


@pytest.mark.parametrize("support", [None, SUPPORT])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_default_fits_one_gsm7_segment_for_an_ordinary_name(
    language: Language, support: str | None
) -> None:
    # Carriers expect keyword answers in one segment (160 GSM-7 characters); Spanish
    # avoids the accents outside GSM-7, which would make it UCS-2 (70 characters).
    org = organization("Acme Plumbing & Heating", support_contact=support)
    for text in (
        help_text(org, language),
        opt_out_confirmation(org, language),
        opt_in_confirmation(org, language),
    ):
        length = measure(text)
        assert (length.encoding, length.segments) == ("GSM-7", 1), text
        assert text.startswith("Acme Plumbing & Heating"), text


def test_the_texts_are_in_their_language() -> None:
    org = organization(support_contact=SUPPORT)
    assert help_text(org, Language.EN) == (
        "Acme Plumbing: for help, call 617-555-0100. Reply STOP to opt out, START to opt "
        "back in. Msg & data rates may apply."
    )
    assert help_text(org, Language.ES).startswith("Acme Plumbing: para ayuda, call 617-555-0100.")
    assert help_text(org, Language.FR).startswith(
        "Acme Plumbing : pour de l'aide, call 617-555-0100."
    )
    assert opt_out_confirmation(org, Language.EN) == (
        "Acme Plumbing: you are unsubscribed and will receive no more messages. "
        "Reply START to resubscribe."
    )
    assert opt_out_confirmation(org, Language.ES) == (
        "Acme Plumbing: se ha dado de baja y ya no le enviaremos mensajes. "
        "Responda START para volver a suscribirse."
    )
    assert opt_out_confirmation(org, Language.FR) == (
        "Acme Plumbing : vous avez été désabonné et ne recevrez plus de messages. "
        "Répondez START pour vous réabonner."
    )
    assert opt_in_confirmation(org, Language.EN) == (
        "Acme Plumbing: you are resubscribed. Reply STOP to opt out."
    )
    assert opt_in_confirmation(org, Language.ES) == (
        "Acme Plumbing: se ha vuelto a suscribir. Responda PARAR o ALTO para darse de baja."
    )
    assert opt_in_confirmation(org, Language.FR) == (
        "Acme Plumbing : vous avez été réabonné. Répondez ARRET pour vous désabonner."
    )


def test_an_organizations_own_text_wins_for_its_language_only() -> None:
    org = organization(
        support_contact=SUPPORT,
        help_texts={"es": "Acme: llámenos."},
        opt_out_confirmations={"fr": "Acme : c'est noté."},
    )
    assert help_text(org, Language.ES) == "Acme: llámenos."
    assert help_text(org, Language.EN) == default_help_text(org, Language.EN)
    assert help_text(org, Language.FR) == default_help_text(org, Language.FR)
    assert opt_out_confirmation(org, Language.FR) == "Acme : c'est noté."
    assert opt_out_confirmation(org, Language.EN) == opt_out_confirmation(
        organization(), Language.EN
    )
    # Its own HELP text is sent as written, without the support line added.
    assert SUPPORT not in help_text(org, Language.ES)


def test_effective_texts_show_every_language_as_it_would_be_sent() -> None:
    org = organization(help_texts={"en": "Acme: call us."})
    assert effective_texts(org) == {
        "help_texts": {
            "en": "Acme: call us.",
            "es": default_help_text(org, Language.ES),
            "fr": default_help_text(org, Language.FR),
        },
        "opt_out_confirmations": {
            language.value: opt_out_confirmation(org, language) for language in LANGUAGES
        },
    }


def test_the_languages_are_english_spanish_and_french_english_first() -> None:
    # English first: the language when nothing says otherwise (outreach.inbound.keywords).
    assert [language.value for language in LANGUAGES] == ["en", "es", "fr"]
