"""Contact rules: one contact per phone, tags, inferred zones, imports, the opt-out list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from outreach.clock import Clock, SystemClock
from outreach.contacts.csv_import import ImportRow, RowError, parse_csv
from outreach.contacts.domain import (
    PROFILE_FIELDS,
    Contact,
    ContactChanges,
    OptOut,
    OptOutSource,
)
from outreach.contacts.repository import ContactRepository, OptOutRepository
from outreach.errors import NotFound
from outreach.ids import is_id, new_id
from outreach.phone_zones import contact_zone
from outreach.phones import InvalidPhoneNumber, to_e164

# Longer than an import can run (the API's 29 s); a crashed import's lease lapses.
IMPORT_LEASE = timedelta(seconds=120)


@dataclass
class ImportResult:
    """What an import did; every data row is counted once (blank rows are ignored)."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)


def profile_changes(
    fields: Mapping[str, str | None],
    tags: tuple[str, ...] | None,
    attributes: dict[str, str] | None,
) -> ContactChanges:
    """Changes that set the given profile fields, tags and attributes (``None``: untouched)."""
    return ContactChanges(
        first_name=fields.get("first_name"),
        last_name=fields.get("last_name"),
        email=fields.get("email"),
        company=fields.get("company"),
        timezone=fields.get("timezone"),
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
    """Every contact and opt-out rule; routes only parse and map."""

    def __init__(
        self, *, contacts: ContactRepository, opt_outs: OptOutRepository, clock: Clock
    ) -> None:
        self._contacts = contacts
        self._opt_outs = opt_outs
        self._clock = clock

    def _with_opt_out(self, org_id: str, contacts: list[Contact]) -> list[Contact]:
        opted = self._opt_outs.opted_out_among(org_id, (c.phone for c in contacts))
        return [replace(c, opted_out=c.phone in opted) for c in contacts]

    def create(self, org_id: str, changes: ContactChanges) -> Contact:
        """A new contact; 409 naming the existing one if the phone is taken."""
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
            created_at=now,
            updated_at=now,
        )
        self._contacts.create(contact)
        return self._with_opt_out(org_id, [contact])[0]

    def get(self, org_id: str, contact_id: str) -> Contact:
        if not is_id(contact_id):
            raise NotFound("Contact not found.")
        return self._with_opt_out(org_id, [self._contacts.get(org_id, contact_id)])[0]

    def list_contacts(
        self, org_id: str, *, tag: str | None, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[Contact], dict[str, Any] | None]:
        """Newest first; with ``tag``, only contacts carrying it."""
        if tag is not None:
            contacts, last = self._contacts.list_by_tag(
                org_id, tag, limit=limit, start_key=start_key
            )
        else:
            contacts, last = self._contacts.list_newest(org_id, limit=limit, start_key=start_key)
        return self._with_opt_out(org_id, contacts), last

    def update(self, org_id: str, contact_id: str, changes: ContactChanges) -> Contact:
        current = self.get(org_id, contact_id)
        updated = apply_changes(current, changes, erase=True)
        if updated == current:
            return current
        updated = replace(updated, updated_at=self._clock.now())
        self._contacts.replace(current, updated)
        return self._with_opt_out(org_id, [updated])[0]

    def delete(self, org_id: str, contact_id: str) -> None:
        self._contacts.delete(self.get(org_id, contact_id), now=self._clock.now())

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
            for row in parsed.rows:
                if row.opted_out:
                    self._opt_outs.add(org_id, row.phone, OptOutSource.IMPORT, now)
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
        return self._opt_outs.add(org_id, phone, OptOutSource.MANUAL, self._clock.now())

    def remove_opt_out(self, org_id: str, raw_phone: str) -> None:
        try:
            phone = to_e164(raw_phone)
        except InvalidPhoneNumber as error:
            raise NotFound("This number is not on the opt-out list.") from error
        if not self._opt_outs.remove(org_id, phone):
            raise NotFound("This number is not on the opt-out list.")

    def list_opt_outs(
        self, org_id: str, *, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[OptOut], dict[str, Any] | None]:
        return self._opt_outs.list(org_id, limit=limit, start_key=start_key)


def build_contact_service(clock: Clock) -> ContactService:
    """The service on DynamoDB, with ``clock`` (the local stack gives each organization its own)."""
    return ContactService(contacts=ContactRepository(), opt_outs=OptOutRepository(), clock=clock)


@lru_cache(maxsize=1)
def get_contact_service() -> ContactService:
    """The process-wide service on the real clock, built on first use."""
    return build_contact_service(SystemClock())
