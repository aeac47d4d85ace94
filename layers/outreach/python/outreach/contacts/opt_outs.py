"""The opt-out policy: the one place that says who must not be texted, and where each
rule of it is enforced.

Texting a person after they said STOP is a legal and trust cost (``sending-rules.md``),
so the rules are listed here in full, each with the one place that enforces it.

The list
    One per organization: numbers (E.164) the organization must not text, contacts
    or not. Each entry records how it came on (:class:`~outreach.contacts.domain.OptOutSource`:
    ``keyword``, ``manual``, ``import``) and when. It is read and written only through
    :class:`~outreach.contacts.ports.OptOutList`
    (:class:`~outreach.contacts.repository.OptOutRepository` on DynamoDB), whose reads
    are consistent.

Where each rule is enforced
    ========================  =====================================================
    rule                      its one home
    ========================  =====================================================
    Keyword classification    :func:`outreach.inbound.keywords.classify`: STOP and its
                              synonyms alone, or consent revoked in plain words, is an
                              opt-out; START/UNSTOP/YES alone is an opt-in
                              (``sending-rules.md``, "Replies and keywords").
    The keyword write         ``InboundService`` (``outreach.inbound.service``): an
                              opt-out is ``OptOutList.add(..., KEYWORD, ...)``; only a
                              number newly added is confirmed and counted against the
                              campaign that last texted it (a repeated STOP changes
                              nothing and sends nothing); an opt-in is
                              ``OptOutList.remove`` and is confirmed only if the number
                              was on the list.
    Suppression at start      ``CampaignService.start``: numbers in
                              ``OptOutList.all_phones`` get no recipient.
    Check before sending      ``Checkpoints`` in ``outreach.sending.checkpoint``: within
                              the send deadline before each provider call, the list is read
                              (``OptOutList.whole_list`` when short, else
                              ``OptOutList.opted_out_among`` for the page's numbers); a
                              number on it ends ``skipped`` with the error "opted out"
                              (``sending-rules.md``, rule 4: "at the moment of sending").
    The footer                :func:`with_footer`, applied by the sender to the first
                              text an organization sends a number.
    The CSV import            :func:`marks_opted_out` reads a row's opt-out column;
                              :func:`add_imported` puts those numbers on the list. An
                              import only ever adds to the list.
    The API                   ``POST /v1/opt-outs`` adds (``manual``; 200 with the
                              existing entry if already on it); ``DELETE`` is
                              :func:`opt_back_in`.
    Contact views             ``opted_out`` on a contact is ``OptOutList.opted_out_among``
                              at read time (``ContactService``), never stored.
    ========================  =====================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from outreach.contacts.domain import OptOutSource
from outreach.contacts.ports import OptOutList
from outreach.errors import NotFound
from outreach.phones import InvalidPhoneNumber, to_e164

# Cell values (after trimming, any case) of a CSV opt-out column that mean "opted out";
# anything else, an empty cell included, leaves the number as it is.
OPTED_OUT_MARKS = frozenset({"true", "yes", "y", "1", "x", "t"})


def marks_opted_out(cell: str) -> bool:
    """Whether a CSV import's opt-out cell (``Unsubscribed``, ``Do not text``...) says
    the row's number opted out (``api-contract.md``, "Contacts and opt-outs")."""
    return cell.strip().lower() in OPTED_OUT_MARKS


def add_imported(opt_outs: OptOutList, org_id: str, phones: Iterable[str], now: datetime) -> None:
    """Put the numbers an import marked opted out on the list (source ``import``).

    An import only adds: a row without the mark never takes a number off the
    list, and a number already on it keeps its first entry.
    """
    for phone in dict.fromkeys(phones):
        opt_outs.add(org_id, phone, OptOutSource.IMPORT, now)


def opt_back_in(opt_outs: OptOutList, org_id: str, raw_phone: str) -> None:
    """Take a number (any common format) off the list at the organization's request;
    :class:`~outreach.errors.NotFound` if it is not on it (a number that cannot be
    read cannot be on it either)."""
    try:
        phone = to_e164(raw_phone)
    except InvalidPhoneNumber as error:
        raise NotFound("This number is not on the opt-out list.") from error
    if not opt_outs.remove(org_id, phone):
        raise NotFound("This number is not on the opt-out list.")


def with_footer(body: str, footer: str | None, *, first_text: bool) -> str:
    """``body`` with the organization's ``opt_out_footer`` on a line of its own when this
    is the first text the organization ever sends the number and the footer is not
    empty (``sending-rules.md``, "Message body"); else ``body`` unchanged."""
    if first_text and footer:
        return f"{body}\n{footer}"
    return body
