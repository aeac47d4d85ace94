"""The contacts fakes and the DynamoDB repositories answer the same calls the same way.

Every test runs once on ``tests/support/fakes/contacts.py`` and once on the real
repository over moto, so a rule tested with the fakes holds on DynamoDB.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.contacts.domain import Contact, OptOut, OptOutSource
from outreach.contacts.ports import ContactPlace, ContactStore, OptOutList
from outreach.contacts.repository import ContactRepository, OptOutRepository
from outreach.errors import BadRequest, Conflict, NotFound
from outreach.ids import new_id
from tests.support import builders
from tests.support.contract import IMPLEMENTATIONS, use_dynamodb
from tests.support.fakes.contacts import InMemoryContactStore, InMemoryOptOutList

NOW = datetime(2026, 3, 2, 15, 0, 0, 123000, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
ORG = new_id(NOW)
OTHER_ORG = new_id(NOW + timedelta(milliseconds=1))


@pytest.fixture(params=IMPLEMENTATIONS)
def contacts(request: pytest.FixtureRequest) -> ContactStore:
    return ContactRepository() if use_dynamodb(request) else InMemoryContactStore()


@pytest.fixture(params=IMPLEMENTATIONS)
def opt_outs(request: pytest.FixtureRequest) -> OptOutList:
    return OptOutRepository() if use_dynamodb(request) else InMemoryOptOutList()


def _contact(
    phone: str,
    *,
    at: datetime = NOW,
    org_id: str = ORG,
    tags: tuple[str, ...] = (),
    **fields: str | None,
) -> Contact:
    return builders.contact(
        org_id,
        phone,
        at=at,
        tags=tags,
        attributes={"crack": "north wall"},
        timezone="America/New_York",
        **fields,
    )


def _tagged(store: ContactStore, tag: str, org_id: str = ORG) -> list[str]:
    return [c.id for c in store.list_by_tag(org_id, tag, limit=50, cursor=None).items]


# --- ContactStore -------------------------------------------------------------------------


def test_a_contact_reads_back_as_written(contacts: ContactStore) -> None:
    dana = _contact("+16175550100", tags=("vip", "leads"), first_name="Dana", email="D@x.test")
    contacts.create(dana)
    assert contacts.get(ORG, dana.id) == dana
    assert contacts.get_many(ORG, [dana.id, new_id(NOW), dana.id]) == {dana.id: dana}
    assert contacts.ids_for_phones(ORG, ["+16175550100", "+16175550199"]) == {
        "+16175550100": dana.id
    }
    with pytest.raises(NotFound):
        contacts.get(ORG, new_id(NOW))
    with pytest.raises(NotFound):  # organizations never see each other's contacts
        contacts.get(OTHER_ORG, dana.id)
    assert contacts.get_many(OTHER_ORG, [dana.id]) == {}
    assert contacts.ids_for_phones(OTHER_ORG, ["+16175550100"]) == {}


def test_a_state_reads_back_through_every_write(contacts: ContactStore) -> None:
    """Issue 15, point 1: a contact's ``state`` is stored by a create, a replace and the
    import's writes, and read back by every read (``None`` where unset)."""
    dana = _contact("+16175550100", state="FL")
    contacts.create(dana)
    assert contacts.get(ORG, dana.id).state == "FL"
    cleared = replace(dana, state=None, updated_at=LATER)
    contacts.replace(dana, cleared)
    assert contacts.get(ORG, dana.id) == cleared
    imported = _contact("+16175550101", at=NOW + timedelta(seconds=1), state="TX")
    contacts.write_new_many([imported])
    merged = replace(cleared, state="NY", updated_at=LATER + timedelta(seconds=1))
    contacts.put_many([(cleared, merged)])
    assert {c.id: c.state for c in contacts.list_newest(ORG, limit=10, cursor=None).items} == {
        dana.id: "NY",
        imported.id: "TX",
    }
    assert contacts.get_many(ORG, [imported.id]) == {imported.id: imported}


def test_one_contact_per_phone_in_an_organization(contacts: ContactStore) -> None:
    first = _contact("+16175550100")
    contacts.create(first)
    with pytest.raises(Conflict) as refused:
        contacts.create(_contact("+16175550100", at=LATER))
    assert refused.value.extra == {"existing_id": first.id}
    assert [c.id for c in contacts.list_newest(ORG, limit=10, cursor=None).items] == [first.id]
    elsewhere = _contact("+16175550100", org_id=OTHER_ORG)  # the same phone in another org
    contacts.create(elsewhere)
    assert contacts.get(OTHER_ORG, elsewhere.id) == elsewhere


def test_newest_first_pages_with_sealed_cursors(contacts: ContactStore) -> None:
    made = [
        _contact(f"+1617555{i:04d}", at=NOW + timedelta(seconds=i), tags=("t",) if i % 2 else ())
        for i in range(5)
    ]
    for contact in made:
        contacts.create(contact)
    contacts.create(_contact("+16175559999", org_id=OTHER_ORG, tags=("t",)))
    seen: list[str] = []
    cursor = None
    while True:
        page = contacts.list_newest(ORG, limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [c.id for c in reversed(made)]
    tagged = contacts.list_by_tag(ORG, "t", limit=1, cursor=None)
    assert [c.id for c in tagged.items] == [made[3].id]
    assert tagged.next_cursor is not None
    rest = contacts.list_by_tag(ORG, "t", limit=5, cursor=tagged.next_cursor)
    assert [c.id for c in rest.items] == [made[1].id]
    assert rest.next_cursor is None
    assert rest.items[0] == made[1]
    # A cursor is good only for its own listing and organization.
    with pytest.raises(BadRequest):
        contacts.list_newest(ORG, limit=2, cursor=tagged.next_cursor)
    with pytest.raises(BadRequest):
        contacts.list_by_tag(ORG, "other", limit=2, cursor=tagged.next_cursor)
    with pytest.raises(BadRequest):
        contacts.list_by_tag(OTHER_ORG, "t", limit=2, cursor=tagged.next_cursor)
    with pytest.raises(BadRequest):
        contacts.list_newest(ORG, limit=2, cursor="tampered.cursor")


def test_replace_moves_fields_tags_and_the_phone_guard(contacts: ContactStore) -> None:
    dana = _contact("+16175550100", tags=("a", "b"), first_name="Dana")
    contacts.create(dana)
    moved = replace(dana, phone="+13105550100", tags=("b", "c"), company="Acme", updated_at=LATER)
    contacts.replace(dana, moved)
    assert contacts.get(ORG, dana.id) == moved
    assert (_tagged(contacts, "a"), _tagged(contacts, "b"), _tagged(contacts, "c")) == (
        [],
        [dana.id],
        [dana.id],
    )
    assert contacts.ids_for_phones(ORG, ["+16175550100", "+13105550100"]) == {
        "+13105550100": dana.id
    }
    assert list(contacts.tag_members(ORG, ["b"])) == [(dana.id, "+13105550100")]
    contacts.create(_contact("+16175550100", at=LATER))  # the old phone is free


def test_replace_refuses_a_taken_phone_and_a_stale_read(contacts: ContactStore) -> None:
    dana = _contact("+16175550100")
    eli = _contact("+16175550101", at=NOW + timedelta(seconds=1))
    contacts.create(dana)
    contacts.create(eli)
    with pytest.raises(Conflict) as taken:
        contacts.replace(eli, replace(eli, phone=dana.phone, updated_at=LATER))
    assert taken.value.extra == {"existing_id": dana.id}
    assert contacts.get(ORG, eli.id) == eli
    renamed = replace(dana, first_name="Dana", updated_at=LATER)
    contacts.replace(dana, renamed)
    with pytest.raises(Conflict, match="changed meanwhile"):
        contacts.replace(dana, replace(dana, first_name="Stale", updated_at=LATER))
    with pytest.raises(Conflict, match="changed meanwhile"):
        contacts.replace(dana, replace(dana, phone="+16175550102", updated_at=LATER))
    assert contacts.get(ORG, dana.id) == renamed


def test_delete_frees_the_phone_and_the_tags(contacts: ContactStore) -> None:
    dana = _contact("+16175550100", tags=("x",))
    contacts.create(dana)
    contacts.delete(dana, now=LATER)
    with pytest.raises(NotFound):
        contacts.get(ORG, dana.id)
    with pytest.raises(NotFound):
        contacts.delete(dana, now=LATER)
    assert _tagged(contacts, "x") == []
    assert contacts.ids_for_phones(ORG, [dana.phone]) == {}
    contacts.create(_contact("+16175550100", at=LATER))


def test_the_import_lease_holds_off_guard_moving_writes(contacts: ContactStore) -> None:
    dana = _contact("+16175550100")
    contacts.create(dana)
    token = contacts.acquire_import_lease(ORG, now=NOW, until=NOW + timedelta(seconds=60))
    with pytest.raises(Conflict) as second:
        contacts.acquire_import_lease(ORG, now=NOW, until=NOW + timedelta(seconds=60))
    assert second.value.headers == {"Retry-After": "10"}
    with pytest.raises(Conflict) as blocked:
        contacts.create(_contact("+16175550101", at=NOW + timedelta(seconds=20)))
    assert blocked.value.headers == {"Retry-After": "41"}
    later = NOW + timedelta(seconds=30)
    with pytest.raises(Conflict, match="import is running"):
        contacts.replace(dana, replace(dana, phone="+16175550102", updated_at=later))
    with pytest.raises(Conflict, match="import is running"):
        contacts.delete(dana, now=later)
    renamed = replace(dana, first_name="Ok", updated_at=later)
    contacts.replace(dana, renamed)  # no guard moves: allowed
    # Another organization imports meanwhile; a wrong token releases nothing.
    contacts.release_import_lease(
        OTHER_ORG, contacts.acquire_import_lease(OTHER_ORG, now=NOW, until=LATER)
    )
    contacts.release_import_lease(ORG, "not-the-token")
    with pytest.raises(Conflict):
        contacts.create(_contact("+16175550101", at=later))
    contacts.release_import_lease(ORG, token)
    contacts.create(_contact("+16175550101", at=later))
    # A lease that has lapsed holds nothing back and can be taken over.
    contacts.acquire_import_lease(ORG, now=NOW, until=NOW + timedelta(seconds=60))
    after = NOW + timedelta(seconds=61)
    contacts.create(_contact("+16175550103", at=after))
    contacts.acquire_import_lease(ORG, now=after, until=after + timedelta(seconds=60))


def test_a_renewed_import_lease_holds_until_its_new_end(contacts: ContactStore) -> None:
    token = contacts.acquire_import_lease(ORG, now=NOW, until=NOW + timedelta(seconds=60))
    assert contacts.renew_import_lease(ORG, token, until=NOW + timedelta(seconds=200))
    assert not contacts.renew_import_lease(ORG, "not-the-token", until=LATER)
    with pytest.raises(Conflict):  # past the first end, before the renewed one
        contacts.create(_contact("+16175550101", at=NOW + timedelta(seconds=100)))
    contacts.create(_contact("+16175550101", at=NOW + timedelta(seconds=201)))
    # Lapsed and taken by another import: the old token renews nothing.
    taken_at = NOW + timedelta(seconds=201)
    contacts.acquire_import_lease(ORG, now=taken_at, until=taken_at + timedelta(seconds=60))
    assert not contacts.renew_import_lease(ORG, token, until=LATER)


def test_import_writes_create_and_merge(contacts: ContactStore) -> None:
    dana = _contact("+16175550100", tags=("old",))
    contacts.create(dana)
    new = [
        _contact(f"+1617555{i:04d}", at=NOW + timedelta(seconds=i), tags=("new",)) for i in (1, 2)
    ]
    contacts.write_new_many(new)
    merged = replace(dana, tags=("old", "imported"), company="Keep Co", updated_at=LATER)
    contacts.put_many([(dana, merged)])
    assert contacts.get(ORG, dana.id) == merged
    assert contacts.get_many(ORG, [c.id for c in new]) == {c.id: c for c in new}
    assert contacts.ids_for_phones(ORG, [c.phone for c in new]) == {c.phone: c.id for c in new}
    assert set(_tagged(contacts, "new")) == {c.id for c in new}
    assert _tagged(contacts, "imported") == _tagged(contacts, "old") == [dana.id]
    with pytest.raises(Conflict):  # the guards were written too
        contacts.create(_contact(new[0].phone, at=LATER))


def test_audience_members(contacts: ContactStore) -> None:
    made = [
        _contact(f"+1617555{i:04d}", at=NOW + timedelta(seconds=i), tags=tags)
        for i, tags in enumerate([("a",), ("a", "b"), ("b",), ()])
    ]
    for contact in made:
        contacts.create(contact)
    contacts.create(_contact("+16175559999", org_id=OTHER_ORG, tags=("a",)))
    pairs = [(c.id, c.phone) for c in made]
    assert list(contacts.all_members(ORG)) == pairs
    assert sorted(contacts.tag_members(ORG, ["a", "b", "a"])) == pairs[:3]
    assert list(contacts.tag_members(ORG, ["nobody"])) == []
    wanted = [made[3].id, made[0].id, made[0].id, "nope", new_id(LATER)]
    assert sorted(contacts.members_by_ids(ORG, wanted)) == [pairs[0], pairs[3]]
    assert list(contacts.members_by_ids(OTHER_ORG, [made[0].id])) == []


# --- OptOutList ---------------------------------------------------------------------------


def test_add_is_idempotent_and_keeps_the_first_entry(opt_outs: OptOutList) -> None:
    entry, added = opt_outs.add(ORG, "+16175550100", OptOutSource.KEYWORD, NOW)
    assert (entry, added) == (OptOut("+16175550100", OptOutSource.KEYWORD, NOW), True)
    again, added_again = opt_outs.add(ORG, "+16175550100", OptOutSource.MANUAL, LATER)
    assert (again, added_again) == (entry, False)
    assert opt_outs.get(ORG, "+16175550100") == entry
    assert opt_outs.get(ORG, "+16175550101") is None
    assert opt_outs.get(OTHER_ORG, "+16175550100") is None


def test_remove(opt_outs: OptOutList) -> None:
    opt_outs.add(ORG, "+16175550100", OptOutSource.MANUAL, NOW)
    assert opt_outs.remove(OTHER_ORG, "+16175550100") is False
    assert opt_outs.remove(ORG, "+16175550100") is True
    assert opt_outs.remove(ORG, "+16175550100") is False
    assert opt_outs.get(ORG, "+16175550100") is None


def test_reads_of_the_list(opt_outs: OptOutList) -> None:
    phones = [f"+1617555{i:04d}" for i in (3, 1, 2)]
    for phone in phones:
        opt_outs.add(ORG, phone, OptOutSource.IMPORT, NOW)
    opt_outs.add(OTHER_ORG, "+16175559999", OptOutSource.MANUAL, NOW)
    assert opt_outs.opted_out_among(ORG, ["+16175550001", "+16175550009", "+16175559999"]) == {
        "+16175550001"
    }
    assert opt_outs.all_phones(ORG) == set(phones)
    assert opt_outs.whole_list(ORG, at_most=3) == set(phones)
    assert opt_outs.whole_list(ORG, at_most=2) is None
    assert opt_outs.whole_list(OTHER_ORG, at_most=1) == {"+16175559999"}
    assert opt_outs.all_phones(new_id(LATER)) == set()


def test_entries_page_in_phone_order(opt_outs: OptOutList) -> None:
    for i in (4, 2, 0, 3, 1):
        opt_outs.add(ORG, f"+1617555{i:04d}", OptOutSource.MANUAL, NOW + timedelta(seconds=i))
    opt_outs.add(OTHER_ORG, "+16175550000", OptOutSource.MANUAL, NOW)
    first = opt_outs.list_entries(ORG, limit=2, cursor=None)
    assert [e.phone for e in first.items] == ["+16175550000", "+16175550001"]
    assert first.items[1] == OptOut("+16175550001", OptOutSource.MANUAL, NOW + timedelta(seconds=1))
    assert first.next_cursor is not None
    rest = opt_outs.list_entries(ORG, limit=10, cursor=first.next_cursor)
    assert [e.phone for e in rest.items] == ["+16175550002", "+16175550003", "+16175550004"]
    assert rest.next_cursor is None
    with pytest.raises(BadRequest):
        opt_outs.list_entries(OTHER_ORG, limit=2, cursor=first.next_cursor)
    with pytest.raises(BadRequest):
        opt_outs.list_entries(ORG, limit=2, cursor="tampered.cursor")


def test_places_of_listed_contacts(contacts: ContactStore) -> None:
    """A start reads the zones and states of its audience's members (issue 14: the reach
    check; issue 15, point 1: the states' rules), and so does a page of pending sends."""
    zoned = _contact("+16175550201")
    unzoned = builders.contact(ORG, "+18005550199", at=NOW + timedelta(seconds=1))
    in_florida = builders.contact(ORG, "+16175550203", at=NOW + timedelta(seconds=2), state="FL")
    other = _contact("+16175550202", org_id=OTHER_ORG)
    for contact in (zoned, unzoned, in_florida, other):
        contacts.create(contact)
    wanted = [unzoned.id, zoned.id, zoned.id, in_florida.id, other.id, "nope", new_id(LATER)]
    assert contacts.places(ORG, wanted) == {
        zoned.id: ContactPlace("America/New_York", None),
        unzoned.id: ContactPlace(None, None),
        in_florida.id: ContactPlace(None, "FL"),
    }
    assert contacts.places(ORG, []) == {}
