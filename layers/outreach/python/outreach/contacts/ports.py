"""What the contacts service needs from storage, as Protocols (the seams of the domain).

:class:`~outreach.contacts.repository.ContactRepository` and
:class:`~outreach.contacts.repository.OptOutRepository` implement them on
DynamoDB; ``tests/support/fakes/contacts.py`` implements them in memory, and
``tests/integration/test_contacts_contract.py`` holds both to the same behaviour.
Every call takes the caller's organization id and sees only that organization.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from outreach.contacts.domain import Contact, OptOut, OptOutSource
from outreach.data.pages import Page


class ContactPlace(NamedTuple):
    """Where a contact says it is, for the time rules of its texts (``sending-rules.md``
    rules 3, 7, 8): its stored ``timezone`` (an IANA name) and ``state`` (a USPS code),
    each ``None`` where unset. Answered by :meth:`ContactStore.places`."""

    timezone: str | None
    state: str | None


class TagWrites(NamedTuple):
    """What :meth:`ContactStore.retag_many` did, by contact id: ``written`` were stored;
    ``current`` holds, for those stored otherwise than their ``old`` meanwhile (a PATCH, an
    import), the contact as it is stored now (a consistent read); ``gone`` were deleted
    meanwhile; ``held_off`` were not written because an import holds the organization's
    lease, which ends in ``retry_after`` seconds (at least 1; 0 when none was held off)."""

    written: list[str]
    current: dict[str, Contact]
    gone: list[str]
    held_off: list[str]
    retry_after: int


class ContactStore(Protocol):
    """Contacts, with the one-contact-per-phone guard, tag memberships and the import lease.

    Writes that move a phone guard (:meth:`create`, a phone change in
    :meth:`replace`, :meth:`delete`) fail with
    :class:`~outreach.errors.Conflict` and a ``Retry-After`` header (seconds
    until the lease ends, at least 1) while an unexpired import lease is held.
    """

    def create(self, contact: Contact) -> None:
        """Store a new contact; :class:`~outreach.errors.Conflict` with
        ``extra={"existing_id": ...}`` if its phone is already a contact's."""
        ...

    def get(self, org_id: str, contact_id: str) -> Contact:
        """The contact (``opted_out`` False: the store does not know the opt-out list);
        :class:`~outreach.errors.NotFound` if it does not exist."""
        ...

    def get_many(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        """The contacts among ``contact_ids`` that exist, by id (consistent)."""
        ...

    def ids_for_phones(self, org_id: str, phones: Iterable[str]) -> dict[str, str]:
        """Contact id by phone, for the ``phones`` (E.164) that are contacts' (consistent)."""
        ...

    def list_newest(self, org_id: str, *, limit: int, cursor: str | None) -> Page[Contact]:
        """Up to ``limit`` contacts, newest first, from ``cursor`` (listing ``contacts``);
        :class:`~outreach.errors.BadRequest` for a cursor not sealed for this listing."""
        ...

    def list_by_tag(
        self, org_id: str, tag: str, *, limit: int, cursor: str | None
    ) -> Page[Contact]:
        """Up to ``limit`` contacts carrying the normalised ``tag``, newest first, from
        ``cursor`` (listing ``contacts:tag:<tag>``)."""
        ...

    def replace(self, old: Contact, new: Contact) -> None:
        """Store ``new`` over ``old``, moving the phone guard and tag memberships.

        :class:`~outreach.errors.Conflict` if the stored contact is no longer
        ``old`` (compared by ``updated_at``), or if ``new.phone`` is another
        contact's (``extra={"existing_id": ...}``).
        """
        ...

    def delete(self, contact: Contact, *, now: datetime) -> None:
        """Remove the contact, its phone guard and tags; :class:`~outreach.errors.NotFound`
        if it is already gone. ``now`` is compared with the import lease."""
        ...

    def acquire_import_lease(self, org_id: str, *, now: datetime, until: datetime) -> str:
        """Hold the organization's import lease until ``until`` and return its token;
        :class:`~outreach.errors.Conflict` (``Retry-After: 10``) while another
        unexpired lease is held."""
        ...

    def renew_import_lease(self, org_id: str, token: str, *, until: datetime) -> bool:
        """Extend the lease ``token`` holds to ``until``; ``False`` if it holds it no more."""
        ...

    def release_import_lease(self, org_id: str, token: str) -> None:
        """Give the lease back if ``token`` still holds it (else do nothing)."""
        ...

    def write_new_many(self, contacts: Sequence[Contact]) -> None:
        """Import creates: contacts, guards and tags, unconditionally (the caller holds
        the import lease and has checked the phones are free)."""
        ...

    def put_many(self, pairs: Sequence[tuple[Contact, Contact]]) -> None:
        """Import updates: store each ``new`` of ``(old, new)`` and add its new tags.
        Imports never change a phone or remove a tag."""
        ...

    # --- Campaign audiences: (contact id, phone) pairs, what a snapshot needs.

    def all_members(self, org_id: str) -> Iterator[tuple[str, str]]:
        """Every contact of the organization."""
        ...

    def tag_members(self, org_id: str, tags: Iterable[str]) -> Iterator[tuple[str, str]]:
        """The contacts carrying any of ``tags``, each once."""
        ...

    def members_by_ids(self, org_id: str, contact_ids: Iterable[str]) -> Iterator[tuple[str, str]]:
        """The listed contacts that exist (unknown or malformed ids are ignored)."""
        ...

    def places(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, ContactPlace]:
        """The stored ``timezone`` and ``state`` of each of ``contact_ids`` that exists, by
        id (unknown or malformed ids are left out), in one batch read. Read for the
        audience's members at a campaign start and for a page of pending sends, so only
        what the time rules need is read."""
        ...

    # --- Bulk tags (``POST /v1/contacts/tags``).

    def retag_many(self, pairs: Sequence[tuple[Contact, Contact]]) -> TagWrites:
        """Store the ``tags`` and ``updated_at`` of each ``new`` over ``old`` (the same
        contact, of one organization; nothing else of it is written) and move its tag
        memberships, each contact on its own and only if it is still stored as ``old``
        (compared by ``updated_at``) and no unexpired import lease is held.

        Never raises for one contact's condition: :class:`TagWrites` says which were
        written, which changed meanwhile (with their current value, read consistently),
        which are gone and which the import lease held off.
        """
        ...


class OptOutList(Protocol):
    """The organization's opt-out list: numbers it must not text, contacts or not.

    The policy around it, and where each of its rules is enforced, is
    :mod:`outreach.contacts.opt_outs`. Reads are consistent: a number put on the
    list is seen by the next read, wherever it comes from.
    """

    def add(
        self, org_id: str, phone: str, source: OptOutSource, now: datetime
    ) -> tuple[OptOut, bool]:
        """Put ``phone`` on the list; ``(entry, True)`` if added, ``(existing entry, False)``
        if it already was (the entry, its source and time are unchanged)."""
        ...

    def get(self, org_id: str, phone: str) -> OptOut | None:
        """The entry for ``phone``, or ``None``."""
        ...

    def remove(self, org_id: str, phone: str) -> bool:
        """Take ``phone`` off the list; ``False`` if it was not on it."""
        ...

    def list_entries(self, org_id: str, *, limit: int, cursor: str | None) -> Page[OptOut]:
        """Up to ``limit`` entries in phone order, from ``cursor`` (listing ``opt-outs``);
        :class:`~outreach.errors.BadRequest` for a cursor not sealed for this listing."""
        ...

    def opted_out_among(self, org_id: str, phones: Iterable[str]) -> set[str]:
        """Which of ``phones`` are on the list (read by number: contact views, the sender's
        check of a page when the list is long)."""
        ...

    def all_phones(self, org_id: str) -> set[str]:
        """Every number on the list (the suppression at campaign start)."""
        ...

    def whole_list(self, org_id: str, *, at_most: int) -> set[str] | None:
        """Every number on the list, or ``None`` as soon as it holds more than ``at_most``
        (the sender's check before the provider call reads a short list whole)."""
        ...
