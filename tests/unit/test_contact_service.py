"""The contact and opt-out rules, through :class:`ContactService` on the in-memory fakes.

``api-contract.md`` ("Contacts and opt-outs") is the source of each rule; the fakes
are held to DynamoDB by ``tests/integration/test_contacts_contract.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from outreach.clock import SimulatedClock
from outreach.contacts.csv_import import canonical_header
from outreach.contacts.domain import (
    NOT_A_US_STATE,
    Contact,
    ContactChanges,
    OptOut,
    OptOutSource,
    RowError,
    RowWarning,
    template_values_from,
)
from outreach.contacts.opt_outs import marks_opted_out, with_footer
from outreach.contacts.schemas import ContactCreate, ContactUpdate
from outreach.contacts.service import IMPORT_LEASE, ContactService
from outreach.errors import BadRequest, Conflict, NotFound
from outreach.ids import new_id
from tests.support import builders
from tests.support.fakes.contacts import InMemoryContactStore, InMemoryOptOutList
from tests.support.fakes.identity import InMemoryIdentityStore

NOW = datetime(2026, 3, 2, 15, 0, 0, 123000, tzinfo=UTC)
ORG = new_id(NOW)
OTHER_ORG = new_id(NOW + timedelta(milliseconds=1))


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(NOW)


@pytest.fixture
def store() -> InMemoryContactStore:
    return InMemoryContactStore()


@pytest.fixture
def opt_outs() -> InMemoryOptOutList:
    return InMemoryOptOutList()


@pytest.fixture
def organizations() -> InMemoryIdentityStore:
    """Both organizations, as registered (no sender number: they may text the US)."""
    store = InMemoryIdentityStore()
    for org_id in (ORG, OTHER_ORG):
        store.organizations[org_id] = builders.organization(at=NOW, id=org_id)
    return store


@pytest.fixture
def service(
    store: InMemoryContactStore,
    opt_outs: InMemoryOptOutList,
    organizations: InMemoryIdentityStore,
    clock: SimulatedClock,
) -> ContactService:
    return ContactService(
        contacts=store, opt_outs=opt_outs, organizations=organizations, clock=clock
    )


def _create(service: ContactService, clock: SimulatedClock, phone: str, **fields: Any) -> Contact:
    """A contact created a second after the previous one (ids sort by creation time)."""
    clock.advance(timedelta(seconds=1))
    return service.create(ORG, ContactChanges(phone=phone, **fields))


def _import(service: ContactService, text: str, tags: tuple[str, ...] = ()) -> tuple[int, ...]:
    result = service.import_csv(ORG, text.encode(), tags)
    return result.created, result.updated, result.skipped


# --- Create, read, update, delete ---------------------------------------------------------


def test_a_missing_zone_is_inferred_from_the_number(
    service: ContactService, clock: SimulatedClock
) -> None:
    # Given numbers of Boston, and one with no region; when created without a zone
    boston = _create(service, clock, "+16175550123", first_name="Dana")
    given = _create(service, clock, "+16175550124", timezone="America/Chicago")
    toll_free = _create(service, clock, "+18005550199")
    # Then the number's zone is used, a given zone wins, and a regionless number has none
    assert boston.timezone == "America/New_York"
    assert given.timezone == "America/Chicago"
    assert toll_free.timezone is None
    assert boston.opted_out is False
    assert service.get(ORG, boston.id) == boston


def test_a_phone_is_one_contact_per_organization(
    service: ContactService, clock: SimulatedClock
) -> None:
    first = _create(service, clock, "+16175550123")
    with pytest.raises(Conflict) as refused:
        _create(service, clock, "+16175550123")
    assert refused.value.extra == {"existing_id": first.id}
    # Another organization may have the same number.
    other = service.create(OTHER_ORG, ContactChanges(phone="+16175550123"))
    assert other.id != first.id


def test_update_sets_clears_and_replaces_tags_and_attributes(
    service: ContactService, clock: SimulatedClock
) -> None:
    contact = _create(
        service,
        clock,
        "+16175550123",
        first_name="Dana",
        company="Acme",
        tags=("a", "b"),
        attributes={"crack": "north wall", "floor": "2"},
    )
    clock.advance(timedelta(minutes=1))
    # When the company is cleared and tags and attributes are given
    updated = service.update(
        ORG,
        contact.id,
        ContactChanges(tags=("b", "c"), attributes={"floor": "3"}, cleared={"company"}),
    )
    # Then tags and attributes are replaced whole, the cleared field is gone, the rest kept
    assert updated.tags == ("b", "c")
    assert updated.attributes == {"floor": "3"}
    assert updated.company is None
    assert updated.first_name == "Dana"
    assert updated.updated_at == clock.now()
    assert service.get(ORG, contact.id) == updated
    assert [c.id for c in service.list_contacts(ORG, tag="a", limit=10, cursor=None).items] == []
    assert [c.id for c in service.list_contacts(ORG, tag="c", limit=10, cursor=None).items] == [
        contact.id
    ]


def test_an_update_that_changes_nothing_keeps_the_contact(
    service: ContactService, clock: SimulatedClock
) -> None:
    contact = _create(service, clock, "+16175550123", first_name="Dana")
    clock.advance(timedelta(minutes=1))
    assert service.update(ORG, contact.id, ContactChanges(first_name="Dana")) == contact


def test_a_zone_inferred_from_the_old_number_follows_the_new_one(
    service: ContactService, clock: SimulatedClock
) -> None:
    inferred = _create(service, clock, "+16175550123")
    chosen = _create(service, clock, "+16175550124", timezone="America/Chicago")
    # When both move to a Los Angeles number
    moved = service.update(ORG, inferred.id, ContactChanges(phone="+13105550123"))
    kept = service.update(ORG, chosen.id, ContactChanges(phone="+13105550124"))
    # Then only the inferred zone follows; clearing a zone infers it again
    assert moved.timezone == "America/Los_Angeles"
    assert kept.timezone == "America/Chicago"
    cleared = service.update(ORG, chosen.id, ContactChanges(cleared={"timezone"}))
    assert cleared.timezone == "America/Los_Angeles"


# A contact's state (api-contract.md, Addendum 1; issue 15, point 1).


@pytest.mark.parametrize(
    ("given", "stored"),
    [("fl", "FL"), ("FL", "FL"), (" Florida ", "FL"), ("new  york", "NY"), ("Texas", "TX")],
)
def test_a_state_is_taken_as_a_code_or_a_name_and_stored_as_the_code(
    given: str, stored: str
) -> None:
    assert ContactCreate(phone="+16175550123", state=given).to_domain().state == stored
    assert ContactUpdate(state=given).to_domain().state == stored


@pytest.mark.parametrize("given", ["Ontario", "ON", "XX", "ZZZ", "Bavaria", "Fla.", ""])
def test_a_state_that_is_not_a_us_state_is_refused_naming_the_field(given: str) -> None:
    for make in (
        lambda: ContactCreate(phone="+16175550123", state=given),
        lambda: ContactUpdate(state=given),
    ):
        with pytest.raises(ValidationError) as refused:
            make()
        [error] = refused.value.errors()
        assert error["loc"] == ("state",)
        assert "two-letter US state code" in error["msg"]


def test_a_null_state_in_a_patch_clears_it_and_an_absent_one_keeps_it() -> None:
    assert ContactUpdate.model_validate({"state": None}).to_domain().cleared == {"state"}
    kept = ContactUpdate.model_validate({"first_name": "Dana"}).to_domain()
    assert (kept.state, kept.cleared) == (None, set())
    assert ContactCreate(phone="+16175550123").to_domain().state is None


def test_a_state_is_stored_kept_replaced_and_cleared(
    service: ContactService, clock: SimulatedClock
) -> None:
    # Given a contact in Florida, and one created without a state
    florida = _create(service, clock, "+16175550123", state="FL")
    unset = _create(service, clock, "+16175550124")
    assert (florida.state, unset.state) == ("FL", None)
    assert service.get(ORG, florida.id) == florida
    # When other fields and the phone change, the state stays (it is never inferred)
    renamed = service.update(ORG, florida.id, ContactChanges(first_name="Dana"))
    moved = service.update(ORG, florida.id, ContactChanges(phone="+13105550123"))
    assert (renamed.state, moved.state) == ("FL", "FL")
    # Then a new state replaces it, and a cleared one is unset
    assert service.update(ORG, florida.id, ContactChanges(state="TX")).state == "TX"
    cleared = service.update(ORG, florida.id, ContactChanges(cleared={"state"}))
    assert cleared.state is None
    assert service.get(ORG, florida.id).state is None


def test_a_new_phone_must_be_free_and_the_old_one_is_freed(
    service: ContactService, clock: SimulatedClock
) -> None:
    contact = _create(service, clock, "+16175550123")
    other = _create(service, clock, "+16175550125")
    service.update(ORG, contact.id, ContactChanges(phone="+13105550123"))
    _create(service, clock, "+16175550123")
    with pytest.raises(Conflict) as taken:
        service.update(ORG, other.id, ContactChanges(phone="+13105550123"))
    assert taken.value.extra == {"existing_id": contact.id}


@pytest.mark.parametrize(
    "contact_id", ["nope", "0" * 26 + "x", "a" * 3000, "01ARZ3NDEKTSV4RRFFQ69G5FAV"]
)
def test_unknown_ids_are_not_found(service: ContactService, contact_id: str) -> None:
    with pytest.raises(NotFound):
        service.get(ORG, contact_id)
    with pytest.raises(NotFound):
        service.update(ORG, contact_id, ContactChanges(first_name="X"))
    with pytest.raises(NotFound):
        service.delete(ORG, contact_id)


def test_delete_frees_the_phone(service: ContactService, clock: SimulatedClock) -> None:
    contact = _create(service, clock, "+16175550123", tags=("x",))
    service.delete(ORG, contact.id)
    with pytest.raises(NotFound):
        service.get(ORG, contact.id)
    with pytest.raises(NotFound):
        service.delete(ORG, contact.id)
    assert service.list_contacts(ORG, tag="x", limit=10, cursor=None).items == []
    _create(service, clock, "+16175550123")


def test_lists_are_newest_first_and_a_tag_is_matched_as_stored(
    service: ContactService, clock: SimulatedClock
) -> None:
    ids = [
        _create(service, clock, f"+1617555{i:04d}", tags=("t",) if i % 2 else ()).id
        for i in range(5)
    ]
    first = service.list_contacts(ORG, tag=None, limit=3, cursor=None)
    rest = service.list_contacts(ORG, tag=None, limit=3, cursor=first.next_cursor)
    assert [c.id for c in [*first.items, *rest.items]] == list(reversed(ids))
    assert rest.next_cursor is None
    tagged = service.list_contacts(ORG, tag=" T ", limit=10, cursor=None)
    assert [c.id for c in tagged.items] == [ids[3], ids[1]]
    with pytest.raises(BadRequest):  # a cursor of the whole listing is no good for a tag
        service.list_contacts(ORG, tag="t", limit=3, cursor=first.next_cursor)


# --- Opt-outs -----------------------------------------------------------------------------


def test_opt_outs_are_added_once_and_flag_contacts(
    service: ContactService, clock: SimulatedClock
) -> None:
    contact = _create(service, clock, "+16175550123")
    entry, added = service.add_opt_out(ORG, "+16175550123")
    assert (entry, added) == (OptOut("+16175550123", OptOutSource.MANUAL, clock.now()), True)
    clock.advance(timedelta(minutes=1))
    assert service.add_opt_out(ORG, "+16175550123") == (entry, False)
    service.add_opt_out(ORG, "+13105550199")  # a number that is not a contact
    assert [e.phone for e in service.list_opt_outs(ORG, limit=10, cursor=None).items] == [
        "+13105550199",
        "+16175550123",
    ]
    assert service.get(ORG, contact.id).opted_out is True
    assert service.list_contacts(ORG, tag=None, limit=10, cursor=None).items[0].opted_out is True


@pytest.mark.parametrize("written", ["+16175550123", "617-555-0123", "(617) 555-0123"])
def test_opting_back_in_takes_any_format(
    service: ContactService, clock: SimulatedClock, written: str
) -> None:
    contact = _create(service, clock, "+16175550123")
    service.add_opt_out(ORG, "+16175550123")
    service.remove_opt_out(ORG, written)
    assert service.get(ORG, contact.id).opted_out is False
    with pytest.raises(NotFound):
        service.remove_opt_out(ORG, written)


def test_removing_an_unknown_or_unreadable_number_is_not_found(service: ContactService) -> None:
    with pytest.raises(NotFound, match="not on the opt-out list"):
        service.remove_opt_out(ORG, "+16175550123")
    with pytest.raises(NotFound, match="not on the opt-out list"):
        service.remove_opt_out(ORG, "garbage")


def test_opt_out_pages(service: ContactService) -> None:
    for i in range(3):
        service.add_opt_out(ORG, f"+1617555{i:04d}")
    first = service.list_opt_outs(ORG, limit=2, cursor=None)
    rest = service.list_opt_outs(ORG, limit=2, cursor=first.next_cursor)
    assert [e.phone for e in [*first.items, *rest.items]] == [
        "+16175550000",
        "+16175550001",
        "+16175550002",
    ]
    assert rest.next_cursor is None
    with pytest.raises(BadRequest):
        service.list_opt_outs(OTHER_ORG, limit=2, cursor=first.next_cursor)


# --- Import -------------------------------------------------------------------------------


def test_an_import_creates_updates_skips_and_never_erases(
    service: ContactService, clock: SimulatedClock
) -> None:
    # Given a stored contact with a company and tags
    existing = _create(service, clock, "+16175550100", first_name="Old", company="Keep Co")
    clock.advance(timedelta(minutes=1))
    text = (
        "Phone;First Name;Tags;Crack Location\n"
        "(617) 555-0100;Dana;vip;north wall\n"  # updates the stored contact
        "617.555.0101;Eli;leads|spring;\n"  # creates
        '+1 617 555 0101;;;"basement; east"\n'  # merges into the row above
        "617-555-0100;;;\n"  # changes nothing
    )
    # When it is imported with an extra tag
    assert _import(service, text, ("imported",)) == (1, 2, 1)
    # Then empty cells kept the stored values, tags and attributes were added
    updated = service.get(ORG, existing.id)
    assert (updated.first_name, updated.company) == ("Dana", "Keep Co")
    assert updated.tags == ("vip", "imported")
    assert updated.attributes == {"crack_location": "north wall"}  # keyed (issue 17)
    assert updated.updated_at == clock.now()
    eli = service.list_contacts(ORG, tag="spring", limit=10, cursor=None).items[0]
    assert (eli.phone, eli.first_name, eli.timezone) == ("+16175550101", "Eli", "America/New_York")
    assert eli.tags == ("leads", "spring", "imported")
    assert eli.attributes == {"crack_location": "basement; east"}


def test_an_import_adds_tags_and_attributes_where_a_patch_replaces_them(
    service: ContactService, clock: SimulatedClock
) -> None:
    contact = _create(service, clock, "+16175550100", tags=("a",), attributes={"k": "1"})
    _import(service, "phone,tags,j\n6175550100,b,2\n")
    merged = service.get(ORG, contact.id)
    assert (merged.tags, merged.attributes) == (("a", "b"), {"k": "1", "j": "2"})
    replaced = service.update(ORG, contact.id, ContactChanges(tags=("c",), attributes={}))
    assert (replaced.tags, replaced.attributes) == (("c",), {})


def test_bad_rows_are_reported_in_row_order_and_skipped(service: ContactService) -> None:
    result = service.import_csv(
        ORG,
        (
            b"phone,email,timezone\n"
            b"not a phone,,\n"
            b"6175550101,bad-email,\n"
            b",,\n"
            b"6175550102,,Nowhere/Land\n"
            b"6175550103,ok@example.com,\n"
        ),
        (),
    )
    # Only the row without a number is refused; a bad email or zone is left out of its
    # row, which is imported (issue 17, point 3)
    assert (result.created, result.updated, result.skipped) == (3, 0, 0)
    assert result.errors == [RowError(1, "invalid phone number 'not a phone'")]
    assert result.warnings == [
        RowWarning(2, "invalid email 'bad-email'; the row was imported without it"),
        RowWarning(4, "unknown time zone 'Nowhere/Land'; the row was imported without it"),
    ]
    assert result.encoding == "utf-8"


def _states(service: ContactService) -> dict[str, str | None]:
    return {
        c.phone: c.state for c in service.list_contacts(ORG, tag=None, limit=50, cursor=None).items
    }


def test_an_import_reads_states_as_codes_or_names(service: ContactService) -> None:
    result = service.import_csv(
        ORG, b"Phone,State\n6175550101,Texas\n6175550102,fl\n6175550103,\n6175550104,NY\n", ()
    )
    assert (result.created, result.errors) == (4, [])
    assert _states(service) == {
        "+16175550101": "TX",
        "+16175550102": "FL",
        "+16175550103": None,
        "+16175550104": "NY",
    }


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("State", "state"),
        ("STATE", "state"),
        ("State/Province", "state"),
        ("state/region", "state"),
        ("Province", "province"),
        (" region ", "region"),
    ],
)
def test_state_headers_are_matched_like_the_others(header: str, field: str) -> None:
    assert canonical_header(header) == field


def _attributes(service: ContactService) -> dict[str, dict[str, str]]:
    return {
        c.phone: dict(c.attributes)
        for c in service.list_contacts(ORG, tag=None, limit=50, cursor=None).items
    }


def test_a_cell_that_is_no_us_state_keeps_its_row_and_its_value(
    service: ContactService, clock: SimulatedClock
) -> None:
    # Given a contact stored in Florida
    stored = _create(service, clock, "+16175550100", state="FL")
    # When a Province column holds a Canadian province, or a region that is not a state
    result = service.import_csv(
        ORG,
        b"phone,first_name,Province\n"
        b"6175550100,Dana,ON\n"
        b"6175550101,Eli,Bavaria\n"
        b"not a phone,Bad,ON\n"
        b"6175550102,Fay,\n",
        (),
    )
    # Then each such row is imported (its other cells too) without a state, the cell kept
    # as an attribute under its header (a province abroad is no mistake: not reported);
    # a row refused for another reason is reported once
    assert (result.created, result.updated, result.skipped) == (2, 1, 0)
    assert result.errors == [RowError(3, "invalid phone number 'not a phone'")]
    assert _states(service) == {"+16175550100": "FL", "+16175550101": None, "+16175550102": None}
    assert _attributes(service) == {
        "+16175550100": {"province": "ON"},  # under its header's key (issue 17)
        "+16175550101": {"province": "Bavaria"},
        "+16175550102": {},
    }
    assert service.get(ORG, stored.id).first_name == "Dana"  # an import never erases


def test_a_state_cell_that_names_no_us_state_is_reported_and_kept(
    service: ContactService,
) -> None:
    result = service.import_csv(ORG, b"phone,State\n6175550101,Flordia\n6175550102,fl\n", ())
    assert (result.created, result.errors) == (2, [])
    assert result.warnings == [
        RowWarning(
            1,
            f"state 'Flordia' {NOT_A_US_STATE}; the row was imported without it "
            "(the cell is kept as an attribute)",
        )
    ]
    assert _states(service) == {"+16175550101": None, "+16175550102": "FL"}
    assert _attributes(service)["+16175550101"] == {"state": "Flordia"}


def test_the_first_state_column_naming_a_us_state_wins(service: ContactService) -> None:
    result = service.import_csv(
        ORG,
        b"region,phone,province,state\n"
        b"Texas,6175550101,ON,FL\n"  # the state column first
        b"Texas,6175550102,ON,\n"  # no state; the province names none, the region does
        b"Utah,6175550103,Nevada,Ontario\n"  # "Ontario" names none: the province wins
        b",6175550104,Quebec,\n",  # none, and no state column cell: nothing to report
        (),
    )
    assert result.errors == []
    assert _states(service) == {
        "+16175550101": "FL",
        "+16175550102": "TX",
        "+16175550103": "NV",
        "+16175550104": None,
    }
    # The cells not taken are kept, a US state's too (issue 17: nothing is dropped)
    assert _attributes(service)["+16175550101"] == {"region": "Texas", "province": "ON"}
    assert _attributes(service)["+16175550103"] == {"state": "Ontario", "region": "Utah"}
    assert _attributes(service)["+16175550104"] == {"province": "Quebec"}


def test_rows_marked_opted_out_go_on_the_list(
    service: ContactService, clock: SimulatedClock
) -> None:
    service.add_opt_out(ORG, "+16175550102")
    _import(service, "phone,unsubscribed\n6175550101,Yes\n6175550102,\n6175550103,no\n")
    entries = service.list_opt_outs(ORG, limit=10, cursor=None).items
    assert [(e.phone, e.source) for e in entries] == [
        ("+16175550101", OptOutSource.IMPORT),
        ("+16175550102", OptOutSource.MANUAL),  # an import never takes a number off
    ]
    opted = {
        c.phone: c.opted_out
        for c in service.list_contacts(ORG, tag=None, limit=10, cursor=None).items
    }
    assert opted == {"+16175550101": True, "+16175550102": True, "+16175550103": False}


def test_an_import_waits_for_a_running_one_and_releases_its_lease(
    service: ContactService, store: InMemoryContactStore, clock: SimulatedClock
) -> None:
    token = store.acquire_import_lease(ORG, now=clock.now(), until=clock.now() + IMPORT_LEASE)
    with pytest.raises(Conflict, match="Another CSV import"):
        _import(service, "phone\n6175550101\n")
    store.release_import_lease(ORG, token)
    assert _import(service, "phone\n6175550101\n") == (1, 0, 0)
    # The import gave its lease back: a create goes through at once.
    _create(service, clock, "+16175550102")


def test_an_unusable_file_takes_no_lease(service: ContactService, clock: SimulatedClock) -> None:
    with pytest.raises(BadRequest):
        _import(service, "first_name\nAnn\n")
    _create(service, clock, "+16175550102")


# --- Organizations are isolated -----------------------------------------------------------


def test_another_organization_sees_and_changes_nothing(
    service: ContactService, clock: SimulatedClock
) -> None:
    contact = _create(service, clock, "+16175550100", tags=("vip",))
    service.add_opt_out(ORG, "+16175550100")
    with pytest.raises(NotFound):
        service.get(OTHER_ORG, contact.id)
    with pytest.raises(NotFound):
        service.update(OTHER_ORG, contact.id, ContactChanges(first_name="Pwned"))
    with pytest.raises(NotFound):
        service.delete(OTHER_ORG, contact.id)
    with pytest.raises(NotFound):
        service.remove_opt_out(OTHER_ORG, "+16175550100")
    assert service.list_contacts(OTHER_ORG, tag=None, limit=10, cursor=None).items == []
    assert service.list_contacts(OTHER_ORG, tag="vip", limit=10, cursor=None).items == []
    assert service.list_opt_outs(OTHER_ORG, limit=10, cursor=None).items == []
    theirs = service.create(OTHER_ORG, ContactChanges(phone="+16175550100"))
    assert theirs.opted_out is False  # A's opt-out is A's alone
    assert service.get(ORG, contact.id) == replace(contact, opted_out=True)


# --- The opt-out policy and the template values -------------------------------------------


@pytest.mark.parametrize(
    ("cell", "marked"),
    [
        ("yes", True),
        ("Y", True),
        ("TRUE", True),
        ("1", True),
        ("x", True),
        (" t ", True),
        ("", False),
        ("no", False),
        ("0", False),
        ("unsubscribed", False),
    ],
)
def test_an_import_cell_marks_an_opt_out(cell: str, marked: bool) -> None:
    assert marks_opted_out(cell) is marked


def test_the_footer_goes_on_a_first_text_only_when_set() -> None:
    assert with_footer("Hi", "Reply STOP to opt out", first_text=True) == (
        "Hi\nReply STOP to opt out"
    )
    assert with_footer("Hi", "Reply STOP to opt out", first_text=False) == "Hi"
    assert with_footer("Hi", "", first_text=True) == "Hi"
    assert with_footer("Hi", None, first_text=True) == "Hi"


def test_template_values_of_a_contact(service: ContactService, clock: SimulatedClock) -> None:
    contact = _create(
        service, clock, "+16175550100", first_name="Dana", email="D@x.test", attributes={"k": "v"}
    )
    values = contact.template_values()
    assert values == {
        "first_name": "Dana",
        "last_name": None,
        "company": None,
        "email": "D@x.test",
        "phone": "+16175550100",
        "attributes": {"k": "v"},
    }
    assert values == template_values_from(
        phone="+16175550100",
        first_name="Dana",
        last_name=None,
        company=None,
        email="D@x.test",
        attributes={"k": "v"},
    )
    values["attributes"]["k"] = "changed"
    assert contact.attributes == {"k": "v"}
