"""Bulk tags (issue 17, point 7): :meth:`ContactService.change_tags` on the in-memory fakes,
and its request body, whose rules the OpenAPI document states as the server applies them.

The same paths on DynamoDB (moto), through the handler, with concurrent PATCHes and the
import lease, are ``tests/integration/test_contacts_bulk_tags.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from outreach.api.openapi import deployed_document
from outreach.clock import SimulatedClock
from outreach.contacts import service as service_module
from outreach.contacts.domain import MAX_TAGS, Contact, ContactChanges
from outreach.contacts.repository import _transaction_chunks
from outreach.contacts.schemas import TagChange, TagChangePublic
from outreach.contacts.service import ContactService, TagChangeResult
from outreach.errors import Conflict, ValidationFailed
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
def service(store: InMemoryContactStore, clock: SimulatedClock) -> ContactService:
    organizations = InMemoryIdentityStore()
    for org_id in (ORG, OTHER_ORG):
        organizations.organizations[org_id] = builders.organization(at=NOW, id=org_id)
    return ContactService(
        contacts=store, opt_outs=InMemoryOptOutList(), organizations=organizations, clock=clock
    )


def _create(
    service: ContactService, clock: SimulatedClock, phone: str, *tags: str, org: str = ORG
) -> Contact:
    clock.advance(timedelta(seconds=1))
    return service.create(org, ContactChanges(phone=phone, tags=tags))


def _tags(service: ContactService, contact: Contact, org: str = ORG) -> tuple[str, ...]:
    return service.get(org, contact.id).tags


def _tagged(service: ContactService, tag: str, org: str = ORG) -> set[str]:
    return {c.id for c in service.list_contacts(org, tag=tag, limit=200, cursor=None).items}


def test_adds_then_removes_and_counts_only_the_contacts_that_change(
    service: ContactService, clock: SimulatedClock
) -> None:
    plain = _create(service, clock, "+16175550100")
    lead = _create(service, clock, "+16175550101", "lead")
    done = _create(service, clock, "+16175550102", "customer")
    result = service.change_tags(
        ORG,
        add=(" Customer ", "customer"),
        remove=("LEAD",),
        contact_ids=(plain.id, lead.id, done.id, new_id(NOW), plain.id),
    )
    assert result == TagChangeResult(matched=3, changed=2, skipped=[])
    assert _tags(service, plain) == ("customer",)
    assert _tags(service, lead) == ("customer",)
    assert _tags(service, done) == ("customer",)  # already as asked: unchanged
    # The memberships follow: the listing by tag shows exactly the result.
    assert _tagged(service, "customer") == {plain.id, lead.id, done.id}
    assert _tagged(service, "lead") == set()
    # Repeating the request is safe: nothing changes.
    again = service.change_tags(
        ORG, add=("customer",), remove=("lead",), contact_ids=(plain.id, lead.id, done.id)
    )
    assert (again.matched, again.changed) == (3, 0)


def test_a_change_leaves_updated_at_alone_for_unchanged_contacts(
    service: ContactService, clock: SimulatedClock
) -> None:
    tagged = _create(service, clock, "+16175550100", "vip")
    clock.advance(timedelta(minutes=1))
    service.change_tags(ORG, add=("vip",), remove=(), contact_ids=(tagged.id,))
    assert service.get(ORG, tagged.id).updated_at == tagged.updated_at
    service.change_tags(ORG, add=("new",), remove=(), contact_ids=(tagged.id,))
    assert service.get(ORG, tagged.id).updated_at == clock.now()


def test_the_tag_selector_is_read_whole_so_it_can_be_removed(
    service: ContactService, clock: SimulatedClock
) -> None:
    leads = [_create(service, clock, f"+1617555{i:04d}", "leads") for i in range(5)]
    other = _create(service, clock, "+16175559999", "other")
    result = service.change_tags(ORG, add=("customers",), remove=("leads",), tag=" LEADS ")
    assert (result.matched, result.changed) == (5, 5)
    assert _tagged(service, "leads") == set()
    assert _tagged(service, "customers") == {c.id for c in leads}
    assert _tags(service, other) == ("other",)


def test_a_contact_that_would_carry_too_many_tags_is_skipped_and_reported(
    service: ContactService, clock: SimulatedClock
) -> None:
    full = _create(service, clock, "+16175550100", *(f"t{i}" for i in range(MAX_TAGS)))
    almost = _create(service, clock, "+16175550101", *(f"t{i}" for i in range(MAX_TAGS - 1)))
    result = service.change_tags(ORG, add=("new",), remove=(), contact_ids=(full.id, almost.id))
    assert result == TagChangeResult(matched=2, changed=1, skipped=[full.id])
    assert _tags(service, full) == full.tags
    assert _tags(service, almost)[-1] == "new"
    # The bound is on the result: adding one while removing one fits.
    swapped = service.change_tags(ORG, add=("new",), remove=("t0",), contact_ids=(full.id,))
    assert (swapped.changed, swapped.skipped) == (1, [])
    assert len(_tags(service, full)) == MAX_TAGS


def test_another_organization_s_contacts_match_nothing(
    service: ContactService, clock: SimulatedClock
) -> None:
    theirs = _create(service, clock, "+16175550100", "vip", org=OTHER_ORG)
    ours = _create(service, clock, "+16175550100", "vip")
    by_id = service.change_tags(ORG, add=("x",), remove=(), contact_ids=(theirs.id,))
    assert (by_id.matched, by_id.changed) == (0, 0)
    by_tag = service.change_tags(ORG, add=("x",), remove=("vip",), tag="vip")
    assert (by_tag.matched, by_tag.changed) == (1, 1)
    assert _tags(service, theirs, OTHER_ORG) == ("vip",)
    assert _tags(service, ours) == ("x",)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"add": (), "remove": (), "tag": "vip"}, "Give a tag to add or to remove."),
        ({"add": ("  ",), "remove": (), "tag": "vip"}, "Give a tag to add or to remove."),
        ({"add": ("VIP",), "remove": ("vip ",), "tag": "x"}, "both added and removed: vip."),
        ({"add": ("vip",), "remove": ()}, "Give exactly one of contact_ids or tag."),
        (
            {"add": ("vip",), "remove": (), "tag": "x", "contact_ids": ()},
            "Give exactly one of contact_ids or tag.",
        ),
        ({"add": ("v" * 51,), "remove": (), "tag": "x"}, "at most 50 characters"),
        ({"add": ("vip",), "remove": (), "tag": "x" * 51}, "at most 50 characters"),
        (
            {"add": ("vip",), "remove": (), "contact_ids": ("a",) * 1001},
            "At most 1000 contact_ids",
        ),
    ],
)
def test_a_request_breaking_a_rule_is_a_422(
    service: ContactService, request_: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        service.change_tags(ORG, **request_)
    assert message in raised.value.detail


def test_a_tag_selecting_too_many_is_a_422_naming_how_many_and_changes_nothing(
    service: ContactService, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "MAX_TAG_SELECTION", 3)
    leads = [_create(service, clock, f"+1617555{i:04d}", "leads") for i in range(4)]
    with pytest.raises(ValidationFailed) as raised:
        service.change_tags(ORG, add=("x",), remove=(), tag="leads")
    assert "selects 4 contacts" in raised.value.detail
    assert "split the work" in raised.value.detail
    assert raised.value.errors == [{"loc": ["body", "tag"], "msg": "selects 4 contacts"}]
    assert all(_tags(service, c) == ("leads",) for c in leads)
    # At the bound it goes through.
    service.delete(ORG, leads[0].id)
    assert service.change_tags(ORG, add=("x",), remove=(), tag="leads").changed == 3


class _PatchingStore(InMemoryContactStore):
    """Before each of its first ``patches`` bulk writes, a PATCH of the same contacts lands
    (the service's own update, as a concurrent request would make it; the last one names
    the contact ``Pat0``)."""

    def __init__(self, patches: int, clock: SimulatedClock) -> None:
        super().__init__()
        self.service: ContactService | None = None
        self.patches = patches
        self.clock = clock

    def retag_many(self, pairs: Any) -> Any:
        if self.patches and self.service is not None:
            self.patches -= 1
            for old, _new in pairs:
                name = f"Pat{self.patches}"
                self.clock.advance(timedelta(milliseconds=5))
                self.service.update(old.org_id, old.id, ContactChanges(first_name=name))
        return super().retag_many(pairs)


def _patching_service(store: _PatchingStore, clock: SimulatedClock) -> ContactService:
    organizations = InMemoryIdentityStore()
    organizations.organizations[ORG] = builders.organization(at=NOW, id=ORG)
    service = ContactService(
        contacts=store, opt_outs=InMemoryOptOutList(), organizations=organizations, clock=clock
    )
    store.service = service
    return service


def test_a_patch_landing_meanwhile_is_kept_and_the_change_applied_on_top(
    clock: SimulatedClock,
) -> None:
    store = _PatchingStore(patches=1, clock=clock)
    service = _patching_service(store, clock)
    contact = _create(service, clock, "+16175550100", "lead")
    result = service.change_tags(ORG, add=("vip",), remove=(), contact_ids=(contact.id,))
    assert (result.matched, result.changed) == (1, 1)
    stored = service.get(ORG, contact.id)
    assert (stored.first_name, stored.tags) == ("Pat0", ("lead", "vip"))


def test_a_contact_that_keeps_changing_ends_in_a_409_with_the_counts(
    clock: SimulatedClock,
) -> None:
    store = _PatchingStore(patches=service_module.TAG_CHANGE_ATTEMPTS, clock=clock)
    service = _patching_service(store, clock)
    contact = _create(service, clock, "+16175550100")
    with pytest.raises(Conflict) as raised:
        service.change_tags(ORG, add=("vip",), remove=(), contact_ids=(contact.id,))
    assert raised.value.extra == {"matched": 1, "changed": 0}
    assert "Repeat the request" in raised.value.detail
    assert service.get(ORG, contact.id).first_name == "Pat0"  # every PATCH landed


def test_an_import_lease_holds_the_change_off_with_retry_after(
    service: ContactService, store: InMemoryContactStore, clock: SimulatedClock
) -> None:
    contact = _create(service, clock, "+16175550100")
    now = clock.now()
    token = store.acquire_import_lease(ORG, now=now, until=now + timedelta(seconds=30))
    with pytest.raises(Conflict) as raised:
        service.change_tags(ORG, add=("vip",), remove=(), contact_ids=(contact.id,))
    assert 1 <= int(raised.value.headers["Retry-After"]) <= 31
    assert raised.value.extra == {"matched": 1, "changed": 0}
    assert _tags(service, contact) == ()
    store.release_import_lease(ORG, token)
    assert service.change_tags(ORG, add=("vip",), remove=(), contact_ids=(contact.id,)).changed


# --- The request body and the answer --------------------------------------------------------

ID = "01JDQ8Z5C9W4K2M7N3P6R8T0V1"
BODIES: list[dict[str, Any]] = [
    {"add": ["vip"], "tag": "leads"},
    {"remove": [" Leads "], "contact_ids": [ID]},
    {"add": ["vip"], "remove": [], "contact_ids": [ID], "tag": None},
    {"add": ["vip"]},  # no selector
    {"add": ["vip"], "tag": "leads", "contact_ids": [ID]},  # both
    {"add": [], "remove": [], "tag": "leads"},  # nothing to change
    {"tag": "leads"},
    {"add": ["  "], "tag": "leads"},  # a blank tag
    {"add": ["v" * 51], "tag": "leads"},
    {"add": [" " + "v" * 50 + " "], "tag": "leads"},
    {"add": ["vip"], "tag": " "},
    {"add": ["vip"], "contact_ids": []},
    {"add": ["vip"], "contact_ids": [ID] * 1001},
    {"add": ["vip"], "contact_ids": ["not-an-id"]},
    {"add": None, "remove": ["x"], "tag": "leads"},
    {"add": [f"t{i}" for i in range(MAX_TAGS + 1)], "tag": "leads"},
    {"add": ["vip"], "tag": "leads", "extra": 1},
]


def _accepts(body: dict[str, Any]) -> bool:
    try:
        TagChange.model_validate(body)
    except ValidationError:
        return False
    return True


@pytest.fixture(scope="module")
def body_schema() -> Draft202012Validator:
    """The request body's schema in the deployed API's document."""
    document = deployed_document()
    operation = document["paths"]["/v1/contacts/tags"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return Draft202012Validator({**document, "$ref": ref})


@pytest.mark.parametrize("body", BODIES)
def test_the_document_gives_the_server_s_verdict_on_a_body(
    body_schema: Draft202012Validator, body: dict[str, Any]
) -> None:
    assert body_schema.is_valid(body) == _accepts(body), body


def test_the_body_normalises_tags_and_the_answer_lists_at_most_100_skipped() -> None:
    body = TagChange.model_validate({"add": [" VIP "], "remove": ["Cold"], "tag": " Leads "})
    assert (body.add, body.remove, body.tag) == (["vip"], ["cold"], "leads")
    skipped = [new_id(NOW) + str(i) for i in range(150)]
    answer = TagChangePublic.of(TagChangeResult(matched=200, changed=50, skipped=skipped))
    assert answer.model_dump() == {
        "matched": 200,
        "changed": 50,
        "skipped": skipped[:100],
        "skipped_count": 150,
    }


def test_contacts_are_packed_into_transactions_dynamodb_takes() -> None:
    """At most 100 items a transaction: each contact's update and membership changes, and
    the transaction's one import-lease check."""
    many = tuple(f"t{i}" for i in range(MAX_TAGS))
    contacts = [builders.contact(ORG, f"+1617555{i:04d}", at=NOW) for i in range(120)]
    one_tag = [(c, replace(c, tags=("vip",))) for c in contacts]
    chunks = _transaction_chunks(one_tag)
    assert [len(chunk) for chunk in chunks] == [49, 49, 22]  # 2 items each, 1 check
    swapped = [
        (replace(c, tags=many), replace(c, tags=tuple(t + "x" for t in many)))
        for c in contacts[:10]
    ]
    chunks = _transaction_chunks(swapped)  # 41 items each
    assert [len(chunk) for chunk in chunks] == [2, 2, 2, 2, 2]
    assert [pair for chunk in chunks for pair in chunk] == swapped
