"""What the campaign service needs, as small Protocols: its own stores, and the reads
it makes of the contacts and identity domains.

Its own: :class:`CampaignStore` and :class:`RecipientStore` (on DynamoDB,
:class:`~outreach.campaigns.repository.CampaignRepository` and
:class:`~outreach.campaigns.repository.RecipientRepository`; in memory,
``tests/support/fakes/campaigns.py``; held to each other by
``tests/integration/test_campaigns_contract.py``). Of the other domains:
:class:`AudienceSource` (a part of :class:`~outreach.contacts.ports.ContactStore`),
:class:`~outreach.contacts.ports.OptOutList` and
:class:`~outreach.identity.ports.OrganizationReader`, whose own contract tests
(``test_contacts_contract.py``, ``test_identity_contract.py``) hold the methods used here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Protocol

from outreach.campaigns.domain import (
    Campaign,
    CampaignStatus,
    Recipient,
    SendsQuery,
    Transition,
    VariantCounts,
)
from outreach.contacts.domain import Contact
from outreach.contacts.ports import ContactPlace, OptOutList
from outreach.data.pages import Page
from outreach.identity.ports import OrganizationReader

__all__ = [
    "AudienceSource",
    "CampaignStore",
    "OptOutList",
    "OrganizationReader",
    "RecipientStore",
]


class CampaignStore(Protocol):
    """Campaigns, keyed by organization. Every status change is conditional: a move the
    stored status does not allow is a :class:`~outreach.errors.Conflict` and changes
    nothing, however many callers race."""

    def create(self, campaign: Campaign) -> None:
        """Store a new campaign (its id is new: never overwrites)."""
        ...

    def get(self, org_id: str, campaign_id: str, *, consistent: bool = False) -> Campaign:
        """The campaign, or :class:`~outreach.errors.NotFound` (also for another
        organization's campaign or an id that is not a ULID). ``consistent``: read the
        latest write (DynamoDB reads are otherwise eventually consistent)."""
        ...

    def list(
        self, org_id: str, *, status: CampaignStatus | None, limit: int, cursor: str | None
    ) -> Page[Campaign]:
        """At most ``limit`` campaigns, newest first, after ``cursor``; with ``status``,
        only those in it. The cursor is sealed for ``org_id`` and the listing
        (``campaigns`` or ``campaigns:<status>``); any other is a
        :class:`~outreach.errors.BadRequest`."""
        ...

    def update_content(
        self, campaign: Campaign, *, allowed: frozenset[CampaignStatus], now: datetime
    ) -> Campaign:
        """Store ``campaign``'s editable fields (``updated_at`` becomes ``now``) and answer
        the stored campaign; :class:`~outreach.errors.Conflict` unless its stored status is
        in ``allowed`` and no start holds it."""
        ...

    def delete_draft(self, org_id: str, campaign_id: str, *, now: datetime) -> None:
        """Delete the campaign; :class:`~outreach.errors.Conflict` unless it is a draft that
        no start holds."""
        ...

    def begin_start(
        self, org_id: str, campaign_id: str, *, token: str, now: datetime, until: datetime
    ) -> None:
        """Hold the draft for the start ``token`` until ``until`` (the start lease), so
        one start writes the audience snapshot at a time. :class:`~outreach.errors.Conflict`
        with ``Retry-After: 5`` if it is no longer a draft or another start's lease has
        not lapsed at ``now``."""
        ...

    def transition(
        self, org_id: str, campaign_id: str, move: Transition, *, now: datetime
    ) -> Campaign:
        """Move to ``move.to`` if the stored status is in ``move.allowed``, atomically, and
        answer the result; otherwise :class:`~outreach.errors.Conflict` naming the stored
        status in ``extra={"campaign_status": ...}``.

        ``updated_at`` becomes ``now`` and the engine's ``paused_reason`` is cleared;
        reaching completed or cancelled sets ``completed_at``. With ``move.recipients`` (a
        start), the snapshot's size and ``started_at`` are set, and with ``move.left_out``
        what the start left out. A start passes its
        ``move.start_token``, which must still hold the lease (and is released); any other
        move out of draft waits for a running start.
        """
        ...


class RecipientStore(Protocol):
    """A campaign's recipients (its audience snapshot, and each one's send) and the
    per-variant counters the stats projection keeps."""

    def clear_snapshot(self, org_id: str, campaign_id: str) -> int:
        """Delete the recipients an interrupted start left behind; answer how many."""
        ...

    def write_snapshot(self, recipients: Iterable[Recipient]) -> int:
        """Store each recipient (keyed by campaign and contact: writing one twice keeps
        one), consuming the iterable once; answer how many were written."""
        ...

    def counts(self, org_id: str, campaign_id: str) -> list[VariantCounts]:
        """The counters of each variant that has any (latest values), in no set order."""
        ...

    def list(
        self, org_id: str, query: SendsQuery, *, limit: int, cursor: str | None
    ) -> Page[Recipient]:
        """The ``query.campaign_id``'s recipients in contact-id order, after ``cursor``;
        with ``query.status``, only those in it. ``limit`` is how many are *read*: a
        filtered page may hold fewer (even none) and still have a next cursor. The cursor
        is sealed for ``org_id`` and ``query.listing``; any other is a
        :class:`~outreach.errors.BadRequest`, checked before anything is read."""
        ...

    def skip_pending(
        self, org_id: str, campaign_id: str, *, reason: str, now: datetime
    ) -> dict[str, int]:
        """Mark every still-pending recipient skipped with ``error=reason``; answer how
        many per variant. Call only once nothing can claim from the campaign any more."""
        ...

    def sends_on(self, org_id: str, campaign_id: str, day: str) -> int:
        """How many texts of the campaign the daily cap counted on ``day``
        (``YYYY-MM-DD`` in the campaign's zone); 0 if none."""
        ...

    def org_sends_on(self, org_id: str, day: str) -> int:
        """How many texts the organization's ``daily_message_limit`` counted on ``day``
        (``YYYY-MM-DD`` in its zone; :mod:`outreach.spend`); 0 if none."""
        ...

    # --- What a preview reads (issue 15, point 7: :mod:`outreach.campaigns.preview`).

    def open_recipients(self, org_id: str, campaign_id: str) -> Iterator[tuple[str, str, str]]:
        """``(contact id, phone, variant)`` of each recipient still to be texted (pending, or
        claimed and not yet recorded), in contact-id order (eventually consistent)."""
        ...

    def variant_of(self, org_id: str, campaign_id: str, contact_id: str) -> str | None:
        """The variant recorded for the contact's recipient; ``None`` if it is not one."""
        ...

    def texted_numbers(self, org_id: str, phones: Iterable[str]) -> set[str]:
        """Which of ``phones`` (E.164) the organization's campaigns have texted: those with
        a phone history, whose next campaign text goes without the opt-out footer (the
        sender's ``first_text``). One consistent batch read per 100 numbers."""
        ...


class AudienceSource(Protocol):
    """What a campaign reads of the contacts: its audience, as ``(contact id, phone)``
    pairs (each contact once), their zones and states (the start's reach check, the
    waiting reasons of sends), and one contact
    for a preview."""

    def get(self, org_id: str, contact_id: str) -> Contact:
        """The contact, or :class:`~outreach.errors.NotFound`."""
        ...

    def get_many(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        """The contacts among ``contact_ids`` that exist, by id (a preview renders each
        member's text from them)."""
        ...

    def all_members(self, org_id: str) -> Iterator[tuple[str, str]]:
        """Every contact of the organization."""
        ...

    def tag_members(self, org_id: str, tags: Iterable[str]) -> Iterator[tuple[str, str]]:
        """The contacts with any of ``tags`` (normalized tags), each once."""
        ...

    def members_by_ids(self, org_id: str, contact_ids: Iterable[str]) -> Iterator[tuple[str, str]]:
        """The listed contacts that exist in the organization (unknown ids are ignored)."""
        ...

    def places(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, ContactPlace]:
        """The stored ``timezone`` and ``state`` of each of ``contact_ids`` that exists, by
        id: where the time rules read the recipient's local time and which states' rules
        apply (:class:`~outreach.sending.rules.RecipientPlace`)."""
        ...
