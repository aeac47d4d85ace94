"""Contacts persistence on DynamoDB: contacts, the one-contact-per-phone guard, tags
and opt-outs (the implementations of :mod:`outreach.contacts.ports`).

Every call takes the caller's organization id and keys by it. The models must be
bound first (:func:`~outreach.data.binding.ensure_models_bound`, called by the
services' factories).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError

from outreach.contacts.domain import Contact, OptOut, OptOutSource, stored_attributes
from outreach.contacts.ports import ContactPlace, TagWrites
from outreach.data.keys import tag_key
from outreach.data.models import ContactModel, ContactPhoneModel, ContactTagModel, OptOutModel
from outreach.data.pages import Page, decode_cursor, sealed_page
from outreach.data.pynamo import condition_failed, delete_if_present, from_item, raw_map, to_item
from outreach.data.transactions import ConditionsFailed, Transaction
from outreach.errors import Conflict, NotFound
from outreach.ids import is_id, new_id

IMPORT_LEASE_KEY = "#import"
RETAG_PARALLELISM = 8
"""Transactions :meth:`ContactRepository.retag_many` sends at once (threads sharing one
DynamoDB client, whose pool holds 10 connections)."""
TRANSACTION_ITEMS = 100
"""The most items of one DynamoDB transaction (TransactWriteItems)."""
RETAG_CONFLICT_ATTEMPTS = 3
"""How many times a bulk tag transaction is sent while another transaction holds one of
its items (``TransactionConflict``), before its contacts are read again."""
RETAG_CONFLICT_PAUSE = 0.05
"""Seconds before sending such a transaction again (times the attempts so far)."""
_WRITTEN, _STALE, _HELD_OFF = "written", "stale", "held-off"
# The listing names sealed into cursors: a cursor of one listing is refused by another.
CONTACTS_LISTING = "contacts"
OPT_OUTS_LISTING = "opt-outs"


def tag_listing(tag: str) -> str:
    """The listing name of the contacts carrying ``tag``."""
    return f"contacts:tag:{tag}"


def _transaction_chunks(
    pairs: Sequence[tuple[Contact, Contact]],
) -> list[list[tuple[Contact, Contact]]]:
    """``pairs`` in runs whose items (a contact's update and its membership changes) fit
    one transaction beside its import-lease check."""
    chunks: list[list[tuple[Contact, Contact]]] = []
    room = 0
    for old, new in pairs:
        items = 1 + len(set(old.tags) ^ set(new.tags))
        if not chunks or items > room:
            chunks.append([])
            room = TRANSACTION_ITEMS - 1
        chunks[-1].append((old, new))
        room -= items
    return chunks


def _transaction_conflict(error: TransactWriteError) -> bool:
    """Whether DynamoDB cancelled the transaction because another one held an item."""
    return any(
        reason is not None and reason.code == "TransactionConflict"
        for reason in error.cancellation_reasons or []
    )


def _contact(item: ContactModel, *, opted_out: bool = False) -> Contact:
    """The contact an item holds; its attributes keyed by
    :func:`~outreach.contacts.domain.attribute_key` whenever it was written (an item
    from before issue 17 holds the names as given: each becomes its key's label)."""
    stored_labels = {str(k): str(v) for k, v in raw_map(item.attribute_labels).items()}
    attributes, labels = stored_attributes(raw_map(item.attributes), stored_labels)
    return from_item(
        Contact,
        item,
        id=item.contact_id,
        tags=tuple(item.tags or ()),
        attributes=attributes,
        attribute_labels=labels,
        opted_out=opted_out,
        not_textable_reason=None,  # the service's to set, from the organization's settings
    )


def _item(contact: Contact) -> ContactModel:
    """The item of ``contact``; ``attribute_labels`` left out when there is none."""
    return to_item(
        ContactModel,
        contact,
        contact_id=contact.id,
        tags=list(contact.tags),
        attributes=dict(contact.attributes),
        attribute_labels=dict(contact.attribute_labels) or None,
    )


class ContactRepository:
    """Contacts with their phone guard and tag memberships, kept in step by transactions
    (a :class:`~outreach.contacts.ports.ContactStore`)."""

    def create(self, contact: Contact) -> None:
        """Create the contact; :class:`Conflict` naming the existing id if the phone is taken."""
        transaction = Transaction()
        transaction.save(
            ContactPhoneModel(contact.org_id, contact.phone, contact_id=contact.id),
            condition=ContactPhoneModel.phone.does_not_exist(),
            label="phone",
        )
        transaction.save(_item(contact), condition=ContactModel.contact_id.does_not_exist())
        for tag in contact.tags:
            transaction.save(
                ContactTagModel(tag_key(contact.org_id, tag), contact.id, phone=contact.phone)
            )
        self._check_no_import(transaction, contact.org_id, contact.created_at)
        try:
            transaction.commit()
        except ConditionsFailed as failed:
            if "phone" in failed.labels:
                existing = self.id_for_phone(contact.org_id, contact.phone)
                raise Conflict(
                    "A contact with this phone already exists.", extra={"existing_id": existing}
                ) from failed
            self._raise_import_running(contact.org_id, contact.created_at, failed)
            raise

    @staticmethod
    def _check_no_import(transaction: Transaction, org_id: str, now: datetime) -> None:
        # Imports write in batches, which cannot be conditional: while an import
        # holds the lease, writes that move a phone guard wait for it.
        transaction.condition_check(
            ContactPhoneModel,
            org_id,
            IMPORT_LEASE_KEY,
            condition=ContactPhoneModel.phone.does_not_exist()
            | (ContactPhoneModel.lease_until < now),
            label="import-lease",
        )

    @staticmethod
    def _raise_import_running(org_id: str, now: datetime, failed: ConditionsFailed) -> None:
        if "import-lease" not in failed.labels:
            return
        try:
            lease = ContactPhoneModel.get(org_id, IMPORT_LEASE_KEY, consistent_read=True)
            until = lease.lease_until or now
        except DoesNotExist:
            until = now
        wait = max(1, int((until - now).total_seconds()) + 1)
        raise Conflict(
            "A CSV import is running for this organization; try again shortly.",
            headers={"Retry-After": str(wait)},
        ) from failed

    def acquire_import_lease(self, org_id: str, *, now: datetime, until: datetime) -> str:
        """Hold the organization's import lease until ``until``; :class:`Conflict` if held."""
        token = new_id(now)
        try:
            ContactPhoneModel(org_id, IMPORT_LEASE_KEY, contact_id=token, lease_until=until).save(
                condition=ContactPhoneModel.phone.does_not_exist()
                | (ContactPhoneModel.lease_until < now)
            )
        except PutError as error:
            if condition_failed(error):
                raise Conflict(
                    "Another CSV import is running for this organization.",
                    headers={"Retry-After": "10"},
                ) from error
            raise
        return token

    def renew_import_lease(self, org_id: str, token: str, *, until: datetime) -> bool:
        """Extend the lease ``token`` holds to ``until`` (a long import job renews it every
        chunk); ``False`` if the token holds it no more (it lapsed and was taken)."""
        try:
            ContactPhoneModel(org_id, IMPORT_LEASE_KEY).update(
                actions=[ContactPhoneModel.lease_until.set(until)],
                condition=ContactPhoneModel.contact_id == token,
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def release_import_lease(self, org_id: str, token: str) -> None:
        """Give the lease back if ``token`` still holds it (a lapsed lease may be another's)."""
        try:
            ContactPhoneModel(org_id, IMPORT_LEASE_KEY).delete(
                condition=ContactPhoneModel.contact_id == token
            )
        except DeleteError as error:
            if not condition_failed(error):
                raise

    def write_new_many(self, contacts: Sequence[Contact]) -> None:
        """Import creates: guards, contacts and tags in batches (the caller holds the lease)."""
        with ContactPhoneModel.batch_write() as guards:
            for contact in contacts:
                guards.save(ContactPhoneModel(contact.org_id, contact.phone, contact_id=contact.id))
        with ContactModel.batch_write() as items:
            for contact in contacts:
                items.save(_item(contact))
        with ContactTagModel.batch_write() as tags:
            for contact in contacts:
                for tag in contact.tags:
                    tags.save(
                        ContactTagModel(
                            tag_key(contact.org_id, tag), contact.id, phone=contact.phone
                        )
                    )

    def get(self, org_id: str, contact_id: str) -> Contact:
        """The contact; :class:`NotFound` if it does not exist."""
        try:
            return _contact(ContactModel.get(org_id, contact_id))
        except DoesNotExist as error:
            raise NotFound("Contact not found.") from error

    def get_many(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        """The contacts among ``contact_ids`` that exist, by id (consistent reads: an
        import merges into what they answer and writes it back unconditionally, so a
        change committed just before must be seen)."""
        keys = [(org_id, contact_id) for contact_id in dict.fromkeys(contact_ids)]
        return {
            item.contact_id: _contact(item)
            for item in ContactModel.batch_get(keys, consistent_read=True)
        }

    # --- Campaign audiences: (contact id, phone) pairs, projected to what a snapshot needs.

    def all_members(self, org_id: str) -> Iterator[tuple[str, str]]:
        """Every contact of the organization."""
        for item in ContactModel.query(org_id, attributes_to_get=["contact_id", "phone"]):
            yield item.contact_id, item.phone

    def tag_members(self, org_id: str, tags: Iterable[str]) -> Iterator[tuple[str, str]]:
        """Contacts with any of ``tags``, each once."""
        seen: set[str] = set()
        for tag in dict.fromkeys(tags):
            for item in ContactTagModel.query(tag_key(org_id, tag)):
                if item.contact_id not in seen:
                    seen.add(item.contact_id)
                    yield item.contact_id, item.phone

    def members_by_ids(self, org_id: str, contact_ids: Iterable[str]) -> Iterator[tuple[str, str]]:
        """The listed contacts that exist (unknown ids are ignored)."""
        keys = [(org_id, i) for i in dict.fromkeys(contact_ids) if is_id(i)]
        for item in ContactModel.batch_get(keys, attributes_to_get=["contact_id", "phone"]):
            yield item.contact_id, item.phone

    def places(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, ContactPlace]:
        """The listed contacts' zones and states, by id (a projected batch read; unknown
        ids left out)."""
        keys = [(org_id, i) for i in dict.fromkeys(contact_ids) if is_id(i)]
        items = ContactModel.batch_get(keys, attributes_to_get=["contact_id", "timezone", "state"])
        return {item.contact_id: ContactPlace(item.timezone, item.state) for item in items}

    def id_for_phone(self, org_id: str, phone: str) -> str | None:
        """The id of the contact with ``phone`` (consistent), or ``None``."""
        try:
            return ContactPhoneModel.get(org_id, phone, consistent_read=True).contact_id
        except DoesNotExist:
            return None

    def ids_for_phones(self, org_id: str, phones: Iterable[str]) -> dict[str, str]:
        """Contact id by phone, for the ``phones`` that are contacts' (consistent)."""
        keys = [(org_id, phone) for phone in dict.fromkeys(phones)]
        items = ContactPhoneModel.batch_get(keys, consistent_read=True)
        return {item.phone: item.contact_id for item in items}

    def list_newest(self, org_id: str, *, limit: int, cursor: str | None) -> Page[Contact]:
        """Newest first (ids sort by creation time), from ``cursor``."""
        result = ContactModel.query(
            org_id,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor, org_id=org_id, listing=CONTACTS_LISTING),
        )
        return sealed_page(result, _contact, org_id=org_id, listing=CONTACTS_LISTING)

    def list_by_tag(
        self, org_id: str, tag: str, *, limit: int, cursor: str | None
    ) -> Page[Contact]:
        """The contacts carrying ``tag``, newest first, from ``cursor``."""
        listing = tag_listing(tag)
        result = ContactTagModel.query(
            tag_key(org_id, tag),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor, org_id=org_id, listing=listing),
        )
        ids = sealed_page(result, lambda item: item.contact_id, org_id=org_id, listing=listing)
        found = self.get_many(org_id, ids.items)
        return Page([found[i] for i in ids.items if i in found], ids.next_cursor)

    def replace(self, old: Contact, new: Contact) -> None:
        """Store ``new`` over ``old``: moves the phone guard and the tag memberships.

        Fails with :class:`Conflict` if the contact changed meanwhile or the new
        phone belongs to another contact.
        """
        moved = new.phone != old.phone
        transaction = Transaction()
        transaction.save(
            _item(new), condition=ContactModel.updated_at == old.updated_at, label="unchanged"
        )
        if moved:
            transaction.save(
                ContactPhoneModel(new.org_id, new.phone, contact_id=new.id),
                condition=ContactPhoneModel.phone.does_not_exist(),
                label="phone",
            )
            transaction.delete(
                ContactPhoneModel(old.org_id, old.phone),
                condition=ContactPhoneModel.contact_id == old.id,
                label="unchanged",
            )
            self._check_no_import(transaction, new.org_id, new.updated_at)
        for tag in set(old.tags) - set(new.tags):
            transaction.delete(ContactTagModel(tag_key(old.org_id, tag), old.id))
        for tag in new.tags if moved else set(new.tags) - set(old.tags):
            transaction.save(ContactTagModel(tag_key(new.org_id, tag), new.id, phone=new.phone))
        try:
            transaction.commit()
        except ConditionsFailed as failed:
            if "phone" in failed.labels:
                raise Conflict(
                    "Another contact has this phone.",
                    extra={"existing_id": self.id_for_phone(new.org_id, new.phone)},
                ) from failed
            self._raise_import_running(new.org_id, new.updated_at, failed)
            raise Conflict("The contact changed meanwhile; read it and try again.") from failed
        except TransactWriteError as error:
            if not _transaction_conflict(error):
                raise
            # Another transaction (a bulk tag change) held the contact at that instant.
            raise Conflict("The contact changed meanwhile; read it and try again.") from error

    def put_many(self, pairs: Sequence[tuple[Contact, Contact]]) -> None:
        """Import updates: store each ``new`` and add its new tag memberships, batched.

        Imports never remove tags or change phones, so no guard moves here.
        """
        with ContactModel.batch_write() as contacts:
            for _old, new in pairs:
                contacts.save(_item(new))
        with ContactTagModel.batch_write() as tags:
            for old, new in pairs:
                for tag in set(new.tags) - set(old.tags):
                    tags.save(ContactTagModel(tag_key(new.org_id, tag), new.id, phone=new.phone))

    def delete(self, contact: Contact, *, now: datetime) -> None:
        """Remove the contact, its guard and tags; :class:`NotFound` if it is already gone."""
        transaction = Transaction()
        transaction.delete(
            ContactModel(contact.org_id, contact.id),
            condition=ContactModel.contact_id.exists(),
            label="exists",
        )
        transaction.delete(
            ContactPhoneModel(contact.org_id, contact.phone),
            condition=ContactPhoneModel.contact_id == contact.id,
            label="exists",
        )
        for tag in contact.tags:
            transaction.delete(ContactTagModel(tag_key(contact.org_id, tag), contact.id))
        self._check_no_import(transaction, contact.org_id, now)
        try:
            transaction.commit()
        except ConditionsFailed as failed:
            self._raise_import_running(contact.org_id, now, failed)
            raise NotFound("Contact not found.") from failed

    # --- Bulk tags -----------------------------------------------------------------------

    def retag_many(self, pairs: Sequence[tuple[Contact, Contact]]) -> TagWrites:
        """Store each ``new``'s tags over ``old`` (see :meth:`ContactStore.retag_many`).

        Contacts are packed into transactions of at most :data:`TRANSACTION_ITEMS` items
        (DynamoDB's bound): per contact, an update of ``tags`` and ``updated_at`` on
        condition that ``updated_at`` is still ``old``'s and its membership puts and
        deletes (at most 1 + 2 * ``MAX_TAGS`` items); per transaction, one check that no
        import holds the lease. A contact failing its condition is dropped from its
        transaction, which is sent again without it; :data:`RETAG_PARALLELISM`
        transactions run at once. A transaction per contact cost about 90 ms on moto
        (which copies the tables for each transaction), one of about 50 contacts hardly
        more.
        """
        if not pairs:
            return TagWrites([], {}, [], [], 0)
        chunks = _transaction_chunks(pairs)
        with ThreadPoolExecutor(max_workers=min(RETAG_PARALLELISM, len(chunks))) as pool:
            outcomes = [outcome for chunk in pool.map(self._retag, chunks) for outcome in chunk]
        by_outcome: dict[str, list[str]] = {_WRITTEN: [], _STALE: [], _HELD_OFF: []}
        for contact_id, outcome in outcomes:
            by_outcome[outcome].append(contact_id)
        written, stale, held_off = by_outcome[_WRITTEN], by_outcome[_STALE], by_outcome[_HELD_OFF]
        org_id = pairs[0][0].org_id
        current = self._consistent_many(org_id, stale)
        retry_after = self._import_wait(org_id, pairs[0][1].updated_at) if held_off else 0
        return TagWrites(
            written, current, [i for i in stale if i not in current], held_off, retry_after
        )

    def _retag(self, pairs: Sequence[tuple[Contact, Contact]]) -> list[tuple[str, str]]:
        """``(contact id, outcome)`` of each pair, written in one transaction (those
        failing their condition left out); all held off while an import holds the lease."""
        outcomes: list[tuple[str, str]] = []
        remaining = list(pairs)
        conflicts = 0
        while remaining:
            transaction = Transaction()
            for old, new in remaining:
                transaction.update(
                    ContactModel(old.org_id, old.id),
                    [
                        ContactModel.tags.set(list(new.tags)),
                        ContactModel.updated_at.set(new.updated_at),
                    ],
                    condition=ContactModel.updated_at == old.updated_at,
                    label=old.id,  # an id is alphanumeric: never "import-lease"
                )
                for tag in set(old.tags) - set(new.tags):
                    transaction.delete(ContactTagModel(tag_key(old.org_id, tag), old.id))
                for tag in set(new.tags) - set(old.tags):
                    transaction.save(
                        ContactTagModel(tag_key(new.org_id, tag), new.id, phone=old.phone)
                    )
            self._check_no_import(transaction, remaining[0][1].org_id, remaining[0][1].updated_at)
            try:
                transaction.commit()
            except ConditionsFailed as failed:
                if "import-lease" in failed.labels:
                    return outcomes + [(old.id, _HELD_OFF) for old, _new in remaining]
                left = [(old, new) for old, new in remaining if old.id not in failed.labels]
                if len(left) == len(remaining):  # no contact named: do not loop
                    raise
                outcomes += [(old.id, _STALE) for old, _new in remaining if old.id in failed.labels]
                remaining = left
                continue
            except TransactWriteError as error:
                # Another transaction (a PATCH) held one of the items: wait and send
                # again; after a few tries, the caller reads the contacts again.
                if not _transaction_conflict(error):
                    raise
                conflicts += 1
                if conflicts >= RETAG_CONFLICT_ATTEMPTS:
                    return outcomes + [(old.id, _STALE) for old, _new in remaining]
                time.sleep(RETAG_CONFLICT_PAUSE * conflicts)
                continue
            return outcomes + [(old.id, _WRITTEN) for old, _new in remaining]
        return outcomes

    @staticmethod
    def _consistent_many(org_id: str, contact_ids: Sequence[str]) -> dict[str, Contact]:
        keys = [(org_id, contact_id) for contact_id in contact_ids]
        return {
            item.contact_id: _contact(item)
            for item in ContactModel.batch_get(keys, consistent_read=True)
        }

    @staticmethod
    def _import_wait(org_id: str, now: datetime) -> int:
        """Seconds (at least 1) until the organization's import lease ends."""
        try:
            lease = ContactPhoneModel.get(org_id, IMPORT_LEASE_KEY, consistent_read=True)
            until = lease.lease_until or now
        except DoesNotExist:
            until = now
        return max(1, int((until - now).total_seconds()) + 1)


def _opt_out(item: OptOutModel) -> OptOut:
    return OptOut(phone=item.phone, source=OptOutSource(item.source), created_at=item.created_at)


class OptOutRepository:
    """The organization's opt-out list (an :class:`~outreach.contacts.ports.OptOutList`;
    the policy is :mod:`outreach.contacts.opt_outs`). Every read is consistent."""

    def add(
        self, org_id: str, phone: str, source: OptOutSource, now: datetime
    ) -> tuple[OptOut, bool]:
        """Put the number on the list; ``(entry, False)`` if it already was (unchanged)."""
        item = OptOutModel(org_id, phone, source=source.value, created_at=now)
        try:
            item.save(condition=OptOutModel.phone.does_not_exist())
        except PutError as error:
            if not condition_failed(error):
                raise
            existing = self.get(org_id, phone)
            if existing is None:  # removed in between: try once more
                return self.add(org_id, phone, source, now)
            return existing, False
        return _opt_out(item), True

    def get(self, org_id: str, phone: str) -> OptOut | None:
        """The entry for ``phone``, or ``None``."""
        try:
            return _opt_out(OptOutModel.get(org_id, phone, consistent_read=True))
        except DoesNotExist:
            return None

    def remove(self, org_id: str, phone: str) -> bool:
        """Take the number off the list; ``False`` if it was not on it."""
        return delete_if_present(OptOutModel(org_id, phone))

    def all_phones(self, org_id: str) -> set[str]:
        """Every number on the organization's list (a Query of the keys)."""
        return set(self._phones(org_id, page_size=None))

    def whole_list(self, org_id: str, *, at_most: int) -> set[str] | None:
        """Every number on the list, or ``None`` once more than ``at_most`` are seen (the
        pages are sized so a list over the bound costs one page)."""
        phones: set[str] = set()
        for phone in self._phones(org_id, page_size=at_most + 1):
            phones.add(phone)
            if len(phones) > at_most:
                return None
        return phones

    @staticmethod
    def _phones(org_id: str, *, page_size: int | None) -> Iterator[str]:
        for item in OptOutModel.query(
            org_id, consistent_read=True, attributes_to_get=["phone"], page_size=page_size
        ):
            yield item.phone

    def opted_out_among(self, org_id: str, phones: Iterable[str]) -> set[str]:
        """Which of ``phones`` are on the list (a batch of consistent reads by key)."""
        keys = [(org_id, phone) for phone in dict.fromkeys(phones)]
        return {
            item.phone
            for item in OptOutModel.batch_get(
                keys, consistent_read=True, attributes_to_get=["phone"]
            )
        }

    def list_entries(self, org_id: str, *, limit: int, cursor: str | None) -> Page[OptOut]:
        """The entries in phone order, from ``cursor``."""
        result = OptOutModel.query(
            org_id,
            limit=limit,
            consistent_read=True,
            last_evaluated_key=decode_cursor(cursor, org_id=org_id, listing=OPT_OUTS_LISTING),
        )
        return sealed_page(result, _opt_out, org_id=org_id, listing=OPT_OUTS_LISTING)
