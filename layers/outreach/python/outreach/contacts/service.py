"""Contact rules: one contact per phone, tags, inferred zones, imports, the opt-out list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from outreach.clock import Clock, SystemClock
from outreach.contacts import opt_outs as policy
from outreach.contacts.csv_import import ImportRow, parse_csv
from outreach.contacts.domain import (
    PROFILE_FIELDS,
    Contact,
    ContactChanges,
    ImportResult,
    OptOut,
    OptOutSource,
    normalize_tag,
)
from outreach.contacts.ports import ContactStore, OptOutList
from outreach.contacts.repository import ContactRepository, OptOutRepository
from outreach.data.binding import ensure_models_bound
from outreach.data.pages import Page
from outreach.destinations import allowed_regions, not_textable_reason
from outreach.errors import NotFound
from outreach.identity.ports import OrganizationReader
from outreach.identity.repository import IdentityRepository
from outreach.ids import is_id, new_id
from outreach.phone_zones import contact_zone

# Longer than an import can run (the API's 29 s); a crashed import's lease lapses.
IMPORT_LEASE = timedelta(seconds=120)


def profile_changes(
    fields: Mapping[str, str | None],
    tags: tuple[str, ...] | None,
    attributes: dict[str, str] | None,
) -> ContactChanges:
    """Changes that set the given profile fields (by :data:`PROFILE_FIELDS` name, values
    already checked: a ``state`` is a USPS code), tags and attributes (``None``: untouched)."""
    return ContactChanges(
        first_name=fields.get("first_name"),
        last_name=fields.get("last_name"),
        email=fields.get("email"),
        company=fields.get("company"),
        timezone=fields.get("timezone"),
        state=fields.get("state"),
        tags=tags,
        attributes=attributes,
    )


def apply_changes(contact: Contact, changes: ContactChanges, *, erase: bool) -> Contact:
    """``contact`` with ``changes``; with ``erase`` false (imports) nothing is removed."""
    values: dict[str, Any] = {}
    for name in PROFILE_FIELDS:
        value = getattr(changes, name)
        if value is not None:
            values[name] = value
        elif erase and name in changes.cleared:
            values[name] = None
    if changes.phone is not None:
        values["phone"] = changes.phone
    if changes.tags is not None:
        values["tags"] = (
            changes.tags if erase else tuple(dict.fromkeys([*contact.tags, *changes.tags]))
        )
    if changes.attributes is not None:
        values["attributes"] = (
            dict(changes.attributes) if erase else {**contact.attributes, **changes.attributes}
        )
    updated = replace(contact, **values)
    if changes.timezone is None:
        if erase and "timezone" in changes.cleared:
            # Cleared: fall back to the number's zone, as on create.
            updated = replace(updated, timezone=contact_zone(None, updated.phone))
        elif updated.phone != contact.phone and contact.timezone == contact_zone(
            None, contact.phone
        ):
            # The zone was inferred from the old number: infer it from the new one.
            updated = replace(updated, timezone=contact_zone(None, updated.phone))
    return updated


class ContactService:
    """Every contact and opt-out rule; routes only parse and map.

    Each contact it answers carries ``opted_out`` (the opt-out list) and
    ``not_textable_reason`` (the organization's settings as they are now, read once
    per call: ``api-contract.md``, Addendum 1; issue 14, point 1). A number the
    organization may not text is still stored; campaigns leave it out.
    """

    def __init__(
        self,
        *,
        contacts: ContactStore,
        opt_outs: OptOutList,
        organizations: OrganizationReader,
        clock: Clock,
    ) -> None:
        self._contacts = contacts
        self._opt_outs = opt_outs
        self._organizations = organizations
        self._clock = clock

    def _views(self, org_id: str, contacts: list[Contact]) -> list[Contact]:
        """``contacts`` as answered: with ``opted_out`` and ``not_textable_reason``."""
        opted = self._opt_outs.opted_out_among(org_id, (c.phone for c in contacts))
        organization = self._organizations.get_organization(org_id)
        allowed = allowed_regions(organization.allowed_countries, organization.sender_number)
        return [
            replace(
                c,
                opted_out=c.phone in opted,
                not_textable_reason=not_textable_reason(c.phone, allowed),
            )
            for c in contacts
        ]

    def create(self, org_id: str, changes: ContactChanges) -> Contact:
        """A new contact; 409 naming the existing one if the phone is taken. A number the
        organization may not text is stored too, answered ``textable: false``."""
        assert changes.phone is not None
        now = self._clock.now()
        contact = Contact(
            id=new_id(now),
            org_id=org_id,
            phone=changes.phone,
            first_name=changes.first_name,
            last_name=changes.last_name,
            email=changes.email,
            company=changes.company,
            tags=changes.tags or (),
            attributes=dict(changes.attributes or {}),
            timezone=contact_zone(changes.timezone, changes.phone),
            state=changes.state,
            created_at=now,
            updated_at=now,
        )
        self._contacts.create(contact)
        return self._views(org_id, [contact])[0]

    def get(self, org_id: str, contact_id: str) -> Contact:
        """The contact with its ``opted_out`` and ``not_textable_reason``; 404 for an unknown
        or malformed id."""
        return self._views(org_id, [self._stored(org_id, contact_id)])[0]

    def _stored(self, org_id: str, contact_id: str) -> Contact:
        if not is_id(contact_id):
            raise NotFound("Contact not found.")
        return self._contacts.get(org_id, contact_id)

    def list_contacts(
        self, org_id: str, *, tag: str | None, limit: int, cursor: str | None
    ) -> Page[Contact]:
        """Newest first, ``limit`` a page, from ``cursor``; with ``tag`` (compared as tags
        are stored: trimmed, any case), only contacts carrying it."""
        if tag is not None:
            page = self._contacts.list_by_tag(
                org_id, normalize_tag(tag), limit=limit, cursor=cursor
            )
        else:
            page = self._contacts.list_newest(org_id, limit=limit, cursor=cursor)
        return Page(self._views(org_id, page.items), page.next_cursor)

    def update(self, org_id: str, contact_id: str, changes: ContactChanges) -> Contact:
        """Apply a PATCH: set fields are replaced (tags and attributes whole), cleared ones
        erased (a cleared ``state`` is unset: it is never inferred); a zone inferred from
        the old phone follows a new phone. 409 if the new phone is another contact's or
        the contact changed meanwhile."""
        current = self._stored(org_id, contact_id)
        updated = apply_changes(current, changes, erase=True)
        if updated != current:
            updated = replace(updated, updated_at=self._clock.now())
            self._contacts.replace(current, updated)
        return self._views(org_id, [updated])[0]

    def delete(self, org_id: str, contact_id: str) -> None:
        """Remove the contact (its phone is free again); 404 if it does not exist."""
        self._contacts.delete(self._stored(org_id, contact_id), now=self._clock.now())

    # --- Import ----------------------------------------------------------------------

    def import_csv(self, org_id: str, body: bytes, extra_tags: tuple[str, ...]) -> ImportResult:
        """Create or update a contact per row; report bad rows; never erase stored values.

        Writes are batched, which DynamoDB cannot make conditional; the import
        lease keeps single creates, phone changes and deletes out meanwhile, so
        one contact per phone still holds.
        """
        parsed = parse_csv(body, extra_tags)
        now = self._clock.now()
        token = self._contacts.acquire_import_lease(org_id, now=now, until=now + IMPORT_LEASE)
        try:
            result = self._import_rows(org_id, parsed.rows, now)
            policy.add_imported(
                self._opt_outs, org_id, (row.phone for row in parsed.rows if row.opted_out), now
            )
        finally:
            self._contacts.release_import_lease(org_id, token)
        result.errors = sorted([*parsed.errors, *result.errors], key=lambda error: error.row)
        return result

    def _import_rows(self, org_id: str, rows: list[ImportRow], now: datetime) -> ImportResult:
        result = ImportResult()
        existing_ids = self._contacts.ids_for_phones(org_id, (row.phone for row in rows))
        stored = {
            c.phone: c for c in self._contacts.get_many(org_id, existing_ids.values()).values()
        }
        current: dict[str, Contact] = {}
        for row in rows:
            changes = profile_changes(row.fields, row.tags or None, row.attributes or None)
            before = current.get(row.phone) or stored.get(row.phone)
            if before is None:
                blank = Contact(
                    id=new_id(now),
                    org_id=org_id,
                    phone=row.phone,
                    first_name=None,
                    last_name=None,
                    email=None,
                    company=None,
                    tags=(),
                    attributes={},
                    timezone=None,
                    state=None,
                    created_at=now,
                    updated_at=now,
                )
                after = apply_changes(blank, changes, erase=False)
                after = replace(after, timezone=contact_zone(after.timezone, row.phone))
                result.created += 1
            else:
                after = apply_changes(before, changes, erase=False)
                if after == before:
                    result.skipped += 1
                else:
                    after = replace(after, updated_at=now)
                    result.updated += 1
            current[row.phone] = after
        self._contacts.write_new_many([c for p, c in current.items() if p not in stored])
        self._contacts.put_many(
            [(stored[p], c) for p, c in current.items() if p in stored and c != stored[p]]
        )
        return result

    # --- Opt-outs --------------------------------------------------------------------

    def add_opt_out(self, org_id: str, phone: str) -> tuple[OptOut, bool]:
        """Suppress the E.164 ``phone`` at the organization's request: ``(entry, True)`` if
        added, ``(existing entry, False)`` if it already was on the list."""
        return self._opt_outs.add(org_id, phone, OptOutSource.MANUAL, self._clock.now())

    def remove_opt_out(self, org_id: str, raw_phone: str) -> None:
        """Opt the number (any common format) back in; 404 if it is not on the list."""
        policy.opt_back_in(self._opt_outs, org_id, raw_phone)

    def list_opt_outs(self, org_id: str, *, limit: int, cursor: str | None) -> Page[OptOut]:
        """The list in phone order, ``limit`` a page, from ``cursor``."""
        return self._opt_outs.list_entries(org_id, limit=limit, cursor=cursor)


def build_contact_service(clock: Clock) -> ContactService:
    """The service on DynamoDB, with ``clock`` (the local stack gives each organization its own)."""
    ensure_models_bound()
    return ContactService(
        contacts=ContactRepository(),
        opt_outs=OptOutRepository(),
        organizations=IdentityRepository(),
        clock=clock,
    )


@lru_cache(maxsize=1)
def get_contact_service() -> ContactService:
    """The process-wide service on the real clock, built on first use."""
    return build_contact_service(SystemClock())
