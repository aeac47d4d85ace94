"""Contact rules: one contact per phone, tags, inferred zones, imports, the opt-out list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from outreach.clock import Clock, SystemClock
from outreach.contacts import opt_outs as policy
from outreach.contacts.csv_import import ImportRow, parse_csv
from outreach.contacts.domain import (
    MAX_TAG_LENGTH,
    MAX_TAGS,
    PROFILE_FIELDS,
    Contact,
    ContactChanges,
    ImportResult,
    OptOut,
    OptOutSource,
    keyed_attributes,
    normalize_tag,
)
from outreach.contacts.ports import ContactStore, OptOutList
from outreach.contacts.repository import ContactRepository, OptOutRepository
from outreach.data.binding import ensure_models_bound
from outreach.data.pages import Page
from outreach.destinations import allowed_regions, not_textable_reason
from outreach.errors import Conflict, NotFound, ValidationFailed
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
    attribute_labels: Mapping[str, str] | None = None,
) -> ContactChanges:
    """Changes that set the given profile fields (by :data:`PROFILE_FIELDS` name, values
    already checked: a ``state`` is a USPS code), tags and attributes (``None``: untouched).

    ``attributes`` are keyed by :func:`~outreach.contacts.domain.attribute_key` here
    (:func:`~outreach.contacts.domain.keyed_attributes`: a name is its key's label unless
    ``attribute_labels``, key -> name as an import row gives them, names it; of two names
    with one key the first wins), so a row read with its headers as they are is stored as
    one read with normalised keys (issue 17, point 4).
    """
    labels: dict[str, str] | None = None
    if attributes is not None:
        attributes, labels = keyed_attributes(attributes, attribute_labels)
    return ContactChanges(
        first_name=fields.get("first_name"),
        last_name=fields.get("last_name"),
        email=fields.get("email"),
        company=fields.get("company"),
        timezone=fields.get("timezone"),
        state=fields.get("state"),
        tags=tags,
        attributes=attributes,
        attribute_labels=labels,
    )


def apply_changes(contact: Contact, changes: ContactChanges, *, erase: bool) -> Contact:
    """``contact`` with ``changes``; with ``erase`` false (imports) nothing is removed.

    Attributes are replaced whole with ``erase`` (a PATCH), added to without (an import).
    Their labels follow them: a key given with a label takes it, a key given as it is
    keeps the label it had (a client writing back the keys it read loses no header), and
    a key that is gone loses its label.
    """
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
        attributes = (
            dict(changes.attributes) if erase else {**contact.attributes, **changes.attributes}
        )
        labels = {**contact.attribute_labels, **(changes.attribute_labels or {})}
        values["attributes"] = attributes
        values["attribute_labels"] = {k: v for k, v in labels.items() if k in attributes}
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


@dataclass
class ImportPlan:
    """What importing a run of CSV rows will do (:meth:`ContactService.plan_import`):
    ``result`` counts each row; ``new`` contacts to create, ``changed`` ``(stored, new)``
    pairs to store, ``unchanged`` contacts the rows name but do not change, and the
    ``opted_out`` phones of rows that mark the number opted out."""

    result: ImportResult = field(default_factory=ImportResult)
    new: list[Contact] = field(default_factory=list)
    changed: list[tuple[Contact, Contact]] = field(default_factory=list)
    unchanged: list[Contact] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)


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
        organization may not text is stored too, answered ``textable: false``.
        ``changes.attributes`` are keyed by
        :func:`~outreach.contacts.domain.attribute_key` (the request body's checks), with
        the labels of those keys in ``changes.attribute_labels``."""
        assert changes.phone is not None
        attributes = dict(changes.attributes or {})
        labels = changes.attribute_labels or {}
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
            attributes=attributes,
            timezone=contact_zone(changes.timezone, changes.phone),
            state=changes.state,
            created_at=now,
            updated_at=now,
            attribute_labels={k: v for k, v in labels.items() if k in attributes},
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
        """Apply a PATCH: set fields are replaced (tags and attributes whole, attribute
        labels as :func:`apply_changes` says), cleared ones
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

    def import_csv(
        self,
        org_id: str,
        body: bytes,
        extra_tags: tuple[str, ...],
        phone_column: str | None = None,
    ) -> ImportResult:
        """Create or update a contact per row of the CSV ``body`` (any encoding and export
        :func:`~outreach.contacts.csv_import.open_csv` reads; ``phone_column`` names the
        column numbers are read from); report bad rows (``errors``) and the cells left out
        of imported ones (``warnings``), and the ``encoding`` read; never erase stored
        values. :class:`~outreach.errors.BadRequest` for a file that cannot be used.

        Writes are batched, which DynamoDB cannot make conditional; the import
        lease keeps single creates, phone changes and deletes out meanwhile, so
        one contact per phone still holds.
        """
        parsed = parse_csv(body, extra_tags, phone_column)
        now = self._clock.now()
        token = self._contacts.acquire_import_lease(org_id, now=now, until=now + IMPORT_LEASE)
        try:
            result = self._import_rows(org_id, parsed.rows, now)
        finally:
            self._contacts.release_import_lease(org_id, token)
        result.errors = sorted([*parsed.errors, *result.errors], key=lambda error: error.row)
        result.warnings = parsed.warnings
        result.encoding = parsed.encoding
        return result

    def _import_rows(self, org_id: str, rows: list[ImportRow], now: datetime) -> ImportResult:
        plan = self.plan_import(org_id, rows, now)
        self.write_import(org_id, plan, now)
        return plan.result

    def plan_import(self, org_id: str, rows: Sequence[ImportRow], now: datetime) -> ImportPlan:
        """What importing ``rows`` (in file order) changes, read from what is stored now
        (two consistent batch reads): every row counted once as created, updated or
        skipped, and the contacts to write. Writes nothing; the caller holds the
        organization's import lease (:meth:`hold_import_lease`)."""
        plan = ImportPlan()
        existing_ids = self._contacts.ids_for_phones(org_id, (row.phone for row in rows))
        stored = {
            c.phone: c for c in self._contacts.get_many(org_id, existing_ids.values()).values()
        }
        current: dict[str, Contact] = {}
        for row in rows:
            changes = profile_changes(
                row.fields, row.tags or None, row.attributes or None, row.attribute_labels
            )
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
                plan.result.created += 1
            else:
                after = apply_changes(before, changes, erase=False)
                if after == before:
                    plan.result.skipped += 1
                else:
                    after = replace(after, updated_at=now)
                    plan.result.updated += 1
            current[row.phone] = after
            if row.opted_out:
                plan.opted_out.append(row.phone)
        for phone, contact in current.items():
            if phone not in stored:
                plan.new.append(contact)
            elif contact != stored[phone]:
                plan.changed.append((stored[phone], contact))
            else:
                plan.unchanged.append(contact)
        return plan

    def write_import(
        self, org_id: str, plan: ImportPlan, now: datetime, *, again: bool = False
    ) -> None:
        """Write ``plan``: new contacts with their phone guards and tags, changed ones with
        their new tags, then the rows that asked for it onto the opt-out list.

        ``again`` is for a plan of rows whose writes may have stopped halfway (an import
        job resumed after a crash): every contact of the plan is then written whole, its
        tag memberships included, so what the first attempt wrote in part is completed.
        Every write is idempotent: writing a plan twice leaves what writing it once does.
        """
        self._contacts.write_new_many(plan.new)
        if again:
            whole = [*(new for _old, new in plan.changed), *plan.unchanged]
            self._contacts.put_many([(replace(c, tags=()), c) for c in whole])
        else:
            self._contacts.put_many(plan.changed)
        policy.add_imported(self._opt_outs, org_id, plan.opted_out, now)

    def hold_import_lease(self, org_id: str, now: datetime) -> str:
        """Take the organization's import lease for :data:`IMPORT_LEASE` (its token);
        :class:`~outreach.errors.Conflict` while another import holds it."""
        return self._contacts.acquire_import_lease(org_id, now=now, until=now + IMPORT_LEASE)

    def renew_import_lease(self, org_id: str, token: str, now: datetime) -> bool:
        """Keep the lease for :data:`IMPORT_LEASE` from ``now``; ``False`` if it was lost."""
        return self._contacts.renew_import_lease(org_id, token, until=now + IMPORT_LEASE)

    def release_import_lease(self, org_id: str, token: str) -> None:
        """Give the organization's import lease back (if ``token`` still holds it)."""
        self._contacts.release_import_lease(org_id, token)

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

    # --- Bulk tags -------------------------------------------------------------------

    def change_tags(
        self,
        org_id: str,
        *,
        add: tuple[str, ...],
        remove: tuple[str, ...],
        contact_ids: tuple[str, ...] | None = None,
        tag: str | None = None,
    ) -> TagChangeResult:
        """``POST /v1/contacts/tags`` (issue 17, point 7): add ``add`` then remove ``remove``
        on the selected contacts: ``contact_ids`` (at most :data:`MAX_TAG_CHANGE_IDS`;
        unknown or malformed ids, another organization's included, match nothing) or
        those carrying ``tag`` (at most :data:`MAX_TAG_SELECTION`). Exactly one selector.

        Tags are normalised as stored (:func:`normalize_tag`). A contact already as asked
        is left as it is (not counted in ``changed``, not rewritten); one that would end
        with more than ``MAX_TAGS`` tags is left as it is and reported in ``skipped``. The
        selection is read whole before anything is written, so removing the selector
        tag itself is safe.

        Concurrency. Each contact is written on its own, on condition that it is still as
        read (``updated_at``): a PATCH or another bulk change that lands meanwhile makes
        the write fail, the contact is read again (consistently) and the change applied to
        what is stored now, up to :data:`TAG_CHANGE_ATTEMPTS` times; none is lost. An
        import writes its batches unconditionally from what it read, so bulk tags wait
        for it as creates and deletes do: every write also checks the organization's
        import lease, and a contact held off by it ends the request in a 409 with
        ``Retry-After`` (and the ``matched``/``changed`` counts so far). The request only
        states the tags a contact should (not) carry, so repeating it is safe: contacts
        already changed count as unchanged.

        Errors: :class:`ValidationFailed` (422) for no tag to add or remove, a tag both
        added and removed, a tag over ``MAX_TAG_LENGTH`` characters, or a ``tag`` selecting
        more than :data:`MAX_TAG_SELECTION` contacts (nothing is changed; the problem says
        how many); :class:`Conflict` (409) while an import runs, or for contacts still
        changing after every attempt.
        """
        adding = _tag_list(add, "add")
        removing = _tag_list(remove, "remove")
        if not adding and not removing:
            raise ValidationFailed(
                "Give a tag to add or to remove.",
                [{"loc": ["body", "add"], "msg": "give a tag to add or to remove"}],
            )
        both = [t for t in adding if t in removing]
        if both:
            raise ValidationFailed(
                "A tag cannot be both added and removed: " + ", ".join(both) + ".",
                [{"loc": ["body", "remove"], "msg": f"{t!r} is also added"} for t in both],
            )
        ids = self._tag_change_selection(org_id, contact_ids, tag)
        pending = list(self._contacts.get_many(org_id, ids).values())
        result = TagChangeResult(matched=len(pending))
        for _attempt in range(TAG_CHANGE_ATTEMPTS):
            now = self._clock.now()
            pairs: list[tuple[Contact, Contact]] = []
            for contact in pending:
                kept = [t for t in dict.fromkeys([*contact.tags, *adding]) if t not in removing]
                tags = tuple(kept)
                if tags == contact.tags:
                    continue
                if len(tags) > MAX_TAGS:
                    result.skipped.append(contact.id)
                    continue
                # Strictly later than what was read, so a PATCH that read the same
                # version finds it changed (its condition compares updated_at).
                updated_at = max(now, contact.updated_at + timedelta(microseconds=1))
                pairs.append((contact, replace(contact, tags=tags, updated_at=updated_at)))
            writes = self._contacts.retag_many(pairs)
            result.changed += len(writes.written)
            if writes.held_off:
                raise Conflict(
                    "A CSV import is running for this organization; "
                    f"{result.changed} of the {result.matched} contacts were changed. Repeat "
                    "the request after Retry-After seconds (contacts already as asked are "
                    "left as they are).",
                    extra={"matched": result.matched, "changed": result.changed},
                    headers={"Retry-After": str(writes.retry_after)},
                )
            pending = list(writes.current.values())
            if not pending:
                return result
        raise Conflict(
            f"{len(pending)} contacts kept changing while their tags were changed; "
            f"{result.changed} of the {result.matched} were changed. Repeat the request "
            "(contacts already as asked are left as they are).",
            extra={"matched": result.matched, "changed": result.changed},
        )

    def _tag_change_selection(
        self, org_id: str, contact_ids: tuple[str, ...] | None, tag: str | None
    ) -> list[str]:
        """The ids a bulk tag change selects, each once: well-formed ``contact_ids``, or
        every contact carrying ``tag`` (422 beyond :data:`MAX_TAG_SELECTION`)."""
        if (contact_ids is None) == (tag is None):
            raise ValidationFailed(
                "Give exactly one of contact_ids or tag.",
                [{"loc": ["body"], "msg": "give exactly one of contact_ids or tag"}],
            )
        if tag is None:
            assert contact_ids is not None
            if len(contact_ids) > MAX_TAG_CHANGE_IDS:
                raise ValidationFailed(
                    f"At most {MAX_TAG_CHANGE_IDS} contact_ids a request.",
                    [{"loc": ["body", "contact_ids"], "msg": "too many ids"}],
                )
            return [i for i in dict.fromkeys(contact_ids) if is_id(i)]
        selected = _tag_list((tag,), "tag")
        if not selected:  # a blank tag: carried by no contact
            return []
        selector = selected[0]
        ids = [contact_id for contact_id, _phone in self._contacts.tag_members(org_id, [selector])]
        if len(ids) > MAX_TAG_SELECTION:
            raise ValidationFailed(
                f"The tag {selector!r} selects {len(ids)} contacts; one request changes at "
                f"most {MAX_TAG_SELECTION}. Nothing was changed: split the work (page "
                f"through GET /v1/contacts?tag=... and send their contact_ids, at most "
                f"{MAX_TAG_CHANGE_IDS} a request).",
                [{"loc": ["body", "tag"], "msg": f"selects {len(ids)} contacts"}],
            )
        return ids


MAX_TAG_CHANGE_IDS = 1_000
"""The most ``contact_ids`` one bulk tag change takes."""
MAX_TAG_SELECTION = 5_000
"""The most contacts a ``tag`` selector may match: at the cost measured on moto (see the
integration test) one request stays well inside API Gateway's 29 s."""
TAG_CHANGE_ATTEMPTS = 4
"""How many times a bulk tag change writes a contact that keeps changing meanwhile."""


@dataclass
class TagChangeResult:
    """What a bulk tag change did: ``matched`` selected contacts found, ``changed`` of them
    written, ``skipped`` (ids) left as they are because they would carry more than
    ``MAX_TAGS`` tags. The others were already as asked."""

    matched: int = 0
    changed: int = 0
    skipped: list[str] = field(default_factory=list)


def _tag_list(tags: tuple[str, ...], name: str) -> tuple[str, ...]:
    """``tags`` normalised as stored, each once, blank ones dropped; a 422 at ``name`` for
    one over ``MAX_TAG_LENGTH`` characters."""
    normalised = tuple(dict.fromkeys(t for t in (normalize_tag(t) for t in tags) if t))
    if any(len(t) > MAX_TAG_LENGTH for t in normalised):
        raise ValidationFailed(
            f"A tag is at most {MAX_TAG_LENGTH} characters.",
            [{"loc": ["body", name], "msg": f"a tag is at most {MAX_TAG_LENGTH} characters"}],
        )
    return normalised


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
