"""In-memory :class:`~outreach.contacts.ports.ContactStore` and
:class:`~outreach.contacts.ports.OptOutList`, held to the DynamoDB repositories by
``tests/integration/test_contacts_contract.py``.

They keep what the contact rules depend on: one contact per phone in an
organization (a 409 naming the holder), the tag memberships that follow tag and
phone changes, the optimistic check on ``updated_at``, the import lease that holds
off guard-moving writes (409 with ``Retry-After``), listing order, and pages with
cursors sealed for the same listing names as the repositories'.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from outreach.contacts.domain import Contact, OptOut, OptOutSource
from outreach.contacts.ports import ContactPlace, TagWrites
from outreach.contacts.repository import CONTACTS_LISTING, OPT_OUTS_LISTING, tag_listing
from outreach.data.keys import tag_key
from outreach.data.pages import Page, decode_cursor, encode_cursor
from outreach.errors import Conflict, NotFound
from outreach.ids import is_id, new_id


@dataclass(frozen=True)
class _Lease:
    token: str
    until: datetime


def _page[T](
    ordered: list[tuple[str, T]],
    *,
    key_name: str,
    partition: dict[str, str],
    descending: bool,
    limit: int,
    cursor: str | None,
    org_id: str,
    listing: str,
) -> Page[T]:
    """A page of ``ordered`` (``(sort key, item)`` in listing order) after the cursor's key.

    As on DynamoDB, a page resumes strictly after the key the cursor carries,
    whether or not that item still exists; as on moto, a cursor comes back only
    when more items follow.
    """
    start = decode_cursor(cursor, org_id=org_id, listing=listing)
    if start is not None:
        after = str(start[key_name])
        ordered = [(k, item) for k, item in ordered if (k < after if descending else k > after)]
    chunk = ordered[:limit]
    last: dict[str, Any] | None = (
        {**partition, key_name: chunk[-1][0]} if len(ordered) > limit else None
    )
    return Page([item for _, item in chunk], encode_cursor(last, org_id=org_id, listing=listing))


class InMemoryContactStore:
    """A :class:`~outreach.contacts.ports.ContactStore` in dictionaries."""

    def __init__(self) -> None:
        self._contacts: dict[tuple[str, str], Contact] = {}
        self._phones: dict[tuple[str, str], str] = {}  # (org, phone) -> contact id
        self._tags: dict[tuple[str, str], dict[str, str]] = {}  # (org, tag) -> {id: phone}
        self._leases: dict[str, _Lease] = {}

    # --- Guards and the import lease -------------------------------------------------------

    def _lease_blocks(self, org_id: str, now: datetime) -> bool:
        lease = self._leases.get(org_id)
        return lease is not None and not lease.until < now

    def _import_running(self, org_id: str, now: datetime) -> Conflict:
        lease = self._leases.get(org_id)
        until = lease.until if lease else now
        wait = max(1, int((until - now).total_seconds()) + 1)
        return Conflict(
            "A CSV import is running for this organization; try again shortly.",
            headers={"Retry-After": str(wait)},
        )

    def _put(self, contact: Contact) -> None:
        self._contacts[contact.org_id, contact.id] = replace(
            contact, opted_out=False, attributes=dict(contact.attributes)
        )
        self._phones[contact.org_id, contact.phone] = contact.id

    def _tag(self, contact: Contact, tags: Iterable[str]) -> None:
        for tag in tags:
            self._tags.setdefault((contact.org_id, tag), {})[contact.id] = contact.phone

    def _untag(self, contact: Contact, tags: Iterable[str]) -> None:
        for tag in tags:
            self._tags.get((contact.org_id, tag), {}).pop(contact.id, None)

    # --- ContactStore ----------------------------------------------------------------------

    def create(self, contact: Contact) -> None:
        holder = self._phones.get((contact.org_id, contact.phone))
        if holder is not None:
            raise Conflict(
                "A contact with this phone already exists.", extra={"existing_id": holder}
            )
        if self._lease_blocks(contact.org_id, contact.created_at):
            raise self._import_running(contact.org_id, contact.created_at)
        self._put(contact)
        self._tag(contact, contact.tags)

    def get(self, org_id: str, contact_id: str) -> Contact:
        try:
            return self._contacts[org_id, contact_id]
        except KeyError as error:
            raise NotFound("Contact not found.") from error

    def get_many(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        return {
            contact_id: self._contacts[org_id, contact_id]
            for contact_id in dict.fromkeys(contact_ids)
            if (org_id, contact_id) in self._contacts
        }

    def ids_for_phones(self, org_id: str, phones: Iterable[str]) -> dict[str, str]:
        return {
            phone: self._phones[org_id, phone]
            for phone in dict.fromkeys(phones)
            if (org_id, phone) in self._phones
        }

    def list_newest(self, org_id: str, *, limit: int, cursor: str | None) -> Page[Contact]:
        ordered = sorted(
            ((cid, c) for (org, cid), c in self._contacts.items() if org == org_id),
            key=lambda pair: pair[0],
            reverse=True,
        )
        return _page(
            ordered,
            key_name="contact_id",
            partition={"org_id": org_id},
            descending=True,
            limit=limit,
            cursor=cursor,
            org_id=org_id,
            listing=CONTACTS_LISTING,
        )

    def list_by_tag(
        self, org_id: str, tag: str, *, limit: int, cursor: str | None
    ) -> Page[Contact]:
        members = sorted(self._tags.get((org_id, tag), {}), reverse=True)
        ids = _page(
            [(cid, cid) for cid in members],
            key_name="contact_id",
            partition={"tag_key": tag_key(org_id, tag)},
            descending=True,
            limit=limit,
            cursor=cursor,
            org_id=org_id,
            listing=tag_listing(tag),
        )
        found = self.get_many(org_id, ids.items)
        return Page([found[i] for i in ids.items if i in found], ids.next_cursor)

    def replace(self, old: Contact, new: Contact) -> None:
        stored = self._contacts.get((old.org_id, old.id))
        moved = new.phone != old.phone
        unchanged = stored is not None and stored.updated_at == old.updated_at
        if moved:
            holder = self._phones.get((new.org_id, new.phone))
            if holder is not None:
                raise Conflict("Another contact has this phone.", extra={"existing_id": holder})
            if self._lease_blocks(new.org_id, new.updated_at):
                raise self._import_running(new.org_id, new.updated_at)
            unchanged = unchanged and self._phones.get((old.org_id, old.phone)) == old.id
        if not unchanged:
            raise Conflict("The contact changed meanwhile; read it and try again.")
        if moved:
            del self._phones[old.org_id, old.phone]
        self._put(new)
        self._untag(old, set(old.tags) - set(new.tags))
        self._tag(new, new.tags)

    def delete(self, contact: Contact, *, now: datetime) -> None:
        if self._lease_blocks(contact.org_id, now):
            raise self._import_running(contact.org_id, now)
        if (contact.org_id, contact.id) not in self._contacts or self._phones.get(
            (contact.org_id, contact.phone)
        ) != contact.id:
            raise NotFound("Contact not found.")
        del self._contacts[contact.org_id, contact.id]
        del self._phones[contact.org_id, contact.phone]
        self._untag(contact, contact.tags)

    def acquire_import_lease(self, org_id: str, *, now: datetime, until: datetime) -> str:
        if self._lease_blocks(org_id, now):
            raise Conflict(
                "Another CSV import is running for this organization.",
                headers={"Retry-After": "10"},
            )
        token = new_id(now)
        self._leases[org_id] = _Lease(token, until)
        return token

    def renew_import_lease(self, org_id: str, token: str, *, until: datetime) -> bool:
        lease = self._leases.get(org_id)
        if lease is None or lease.token != token:
            return False
        self._leases[org_id] = _Lease(token, until)
        return True

    def release_import_lease(self, org_id: str, token: str) -> None:
        lease = self._leases.get(org_id)
        if lease is not None and lease.token == token:
            del self._leases[org_id]

    def write_new_many(self, contacts: Sequence[Contact]) -> None:
        for contact in contacts:
            self._put(contact)
            self._tag(contact, contact.tags)

    def put_many(self, pairs: Sequence[tuple[Contact, Contact]]) -> None:
        for old, new in pairs:
            self._put(new)
            self._tag(new, set(new.tags) - set(old.tags))

    def all_members(self, org_id: str) -> Iterator[tuple[str, str]]:
        for (org, contact_id), contact in sorted(self._contacts.items()):
            if org == org_id:
                yield contact_id, contact.phone

    def tag_members(self, org_id: str, tags: Iterable[str]) -> Iterator[tuple[str, str]]:
        seen: set[str] = set()
        for tag in dict.fromkeys(tags):
            for contact_id, phone in sorted(self._tags.get((org_id, tag), {}).items()):
                if contact_id not in seen:
                    seen.add(contact_id)
                    yield contact_id, phone

    def members_by_ids(self, org_id: str, contact_ids: Iterable[str]) -> Iterator[tuple[str, str]]:
        for contact_id in dict.fromkeys(contact_ids):
            contact = self._contacts.get((org_id, contact_id)) if is_id(contact_id) else None
            if contact is not None:
                yield contact_id, contact.phone

    def places(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, ContactPlace]:
        found = (self._contacts.get((org_id, i)) for i in contact_ids if is_id(i))
        return {
            contact.id: ContactPlace(contact.timezone, contact.state)
            for contact in found
            if contact is not None
        }

    def retag_many(self, pairs: Sequence[tuple[Contact, Contact]]) -> TagWrites:
        written: list[str] = []
        stale: list[str] = []
        held_off: list[str] = []
        for old, new in pairs:
            stored = self._contacts.get((old.org_id, old.id))
            if self._lease_blocks(new.org_id, new.updated_at):
                held_off.append(old.id)
            elif stored is None or stored.updated_at != old.updated_at:
                stale.append(old.id)
            else:
                self._put(replace(stored, tags=new.tags, updated_at=new.updated_at))
                self._untag(stored, set(stored.tags) - set(new.tags))
                self._tag(stored, set(new.tags) - set(stored.tags))
                written.append(old.id)
        if not pairs:
            return TagWrites([], {}, [], [], 0)
        org_id, now = pairs[0][0].org_id, pairs[0][1].updated_at
        current = self.get_many(org_id, stale)
        wait = int(self._import_running(org_id, now).headers["Retry-After"]) if held_off else 0
        return TagWrites(written, current, [i for i in stale if i not in current], held_off, wait)


class InMemoryOptOutList:
    """An :class:`~outreach.contacts.ports.OptOutList` in a dictionary."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], OptOut] = {}

    def add(
        self, org_id: str, phone: str, source: OptOutSource, now: datetime
    ) -> tuple[OptOut, bool]:
        existing = self._entries.get((org_id, phone))
        if existing is not None:
            return existing, False
        entry = OptOut(phone=phone, source=source, created_at=now)
        self._entries[org_id, phone] = entry
        return entry, True

    def get(self, org_id: str, phone: str) -> OptOut | None:
        return self._entries.get((org_id, phone))

    def remove(self, org_id: str, phone: str) -> bool:
        return self._entries.pop((org_id, phone), None) is not None

    def list_entries(self, org_id: str, *, limit: int, cursor: str | None) -> Page[OptOut]:
        ordered = sorted(
            ((phone, entry) for (org, phone), entry in self._entries.items() if org == org_id),
            key=lambda pair: pair[0],
        )
        return _page(
            ordered,
            key_name="phone",
            partition={"org_id": org_id},
            descending=False,
            limit=limit,
            cursor=cursor,
            org_id=org_id,
            listing=OPT_OUTS_LISTING,
        )

    def opted_out_among(self, org_id: str, phones: Iterable[str]) -> set[str]:
        return {phone for phone in phones if (org_id, phone) in self._entries}

    def all_phones(self, org_id: str) -> set[str]:
        return {phone for (org, phone) in self._entries if org == org_id}

    def whole_list(self, org_id: str, *, at_most: int) -> set[str] | None:
        phones = self.all_phones(org_id)
        return phones if len(phones) <= at_most else None
