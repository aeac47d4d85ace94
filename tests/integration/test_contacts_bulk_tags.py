"""``POST /v1/contacts/tags`` (issue 17, point 7) on DynamoDB (moto), through the contacts
Lambda handler with real logins: bulk tags by ids and by tag, the counts, the limits,
organization isolation, the tag listing kept in step, concurrent PATCHes and the
import lease. The rules in detail, on the fakes: ``tests/unit/test_bulk_tags.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outreach.clock import SystemClock
from outreach.contacts import service as service_module
from outreach.contacts.domain import MAX_TAGS, ContactChanges
from outreach.contacts.ports import TagWrites
from outreach.contacts.repository import ContactRepository, OptOutRepository
from outreach.contacts.service import ContactService
from outreach.identity.repository import IdentityRepository
from outreach.ids import new_id
from outreach_local.runtime import LocalLambdaContext
from tests.integration.identity_support import Account, register
from tests.support.api import ApiClient, ApiResponse

TAGS_PATH = "/v1/contacts/tags"


@pytest.fixture
def api(aws: None, lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("contacts", lambda_context)


def create(api: ApiClient, auth: dict[str, str], phone: str, *tags: str) -> dict[str, Any]:
    response = api.call("POST", "/v1/contacts", headers=auth, body={"phone": phone, "tags": tags})
    assert response.status == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def change(api: ApiClient, auth: dict[str, str], **body: Any) -> ApiResponse:
    return api.call("POST", TAGS_PATH, headers=auth, body=body)


def changed(api: ApiClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = change(api, auth, **body)
    assert response.status == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def tagged(api: ApiClient, auth: dict[str, str], tag: str) -> set[str]:
    """The ids ``GET /v1/contacts?tag=`` lists, every page."""
    ids: set[str] = set()
    cursor: str | None = None
    while True:
        query = {"tag": tag, "limit": "200", **({"cursor": cursor} if cursor else {})}
        page = api.call("GET", "/v1/contacts", headers=auth, query=query).json()
        ids.update(c["id"] for c in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def everyone(api: ApiClient, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every contact of the caller's organization, by id."""
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        query = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        page = api.call("GET", "/v1/contacts", headers=auth, query=query).json()
        found.update((c["id"], c) for c in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return found


def csv_import(api: ApiClient, auth: dict[str, str], text: str) -> dict[str, Any]:
    response = api.call(
        "POST",
        "/v1/contacts/import",
        headers={**auth, "content-type": "text/csv"},
        raw_body=text.encode(),
    )
    assert response.status == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_tag_170_leads_without_a_reimport(api: ApiClient, owner: Account) -> None:
    """Issue 17, "Why": tagging 170 leads took editing the CSV and importing it again;
    the route was missing (today's main answers 404/405 here)."""
    rows = [f"617555{i:04d},Lead {i},leads" for i in range(170)]
    rows += [f"312555{i:04d},Customer {i},customers" for i in range(30)]
    result = csv_import(api, owner.auth, "phone,first_name,tags\n" + "\n".join(rows) + "\n")
    assert result["created"] == 200
    leads = tagged(api, owner.auth, "leads")
    assert len(leads) == 170

    started = time.perf_counter()
    answer = changed(api, owner.auth, add=["Webinar March"], tag="leads")
    elapsed = time.perf_counter() - started
    print(
        f"\nbulk tag of 170 contacts on moto: {elapsed:.2f} s ({elapsed / 170 * 1000:.1f} ms each)"
    )
    assert answer == {"matched": 170, "changed": 170, "skipped": [], "skipped_count": 0}
    assert tagged(api, owner.auth, "webinar march") == leads
    contacts = everyone(api, owner.auth)
    assert {i for i, c in contacts.items() if "webinar march" in c["tags"]} == leads
    assert all(contacts[i]["tags"] == ["leads", "webinar march"] for i in leads)
    # Again: nothing to do, nothing counted.
    assert changed(api, owner.auth, add=["webinar march"], tag="leads")["changed"] == 0
    # By ids, 20 of them: their "leads" becomes "customers".
    some = sorted(leads)[:20]
    answer = changed(api, owner.auth, add=["customers"], remove=["leads"], contact_ids=some)
    assert (answer["matched"], answer["changed"]) == (20, 20)
    assert tagged(api, owner.auth, "leads") == leads - set(some)
    assert len(tagged(api, owner.auth, "customers")) == 50


def test_removing_the_selector_tag_moves_every_contact(api: ApiClient, owner: Account) -> None:
    ids = {create(api, owner.auth, f"+1617555{i:04d}", "trial", "spring")["id"] for i in range(4)}
    other = create(api, owner.auth, "+16175559999", "spring")
    answer = changed(api, owner.auth, add=["Customers"], remove=[" TRIAL "], tag="Trial")
    assert (answer["matched"], answer["changed"]) == (4, 4)
    assert tagged(api, owner.auth, "trial") == set()
    assert tagged(api, owner.auth, "customers") == ids
    assert tagged(api, owner.auth, "spring") == ids | {other["id"]}
    contacts = everyone(api, owner.auth)
    assert all(contacts[i]["tags"] == ["spring", "customers"] for i in ids)


def test_counts_unknown_ids_and_a_contact_already_as_asked(api: ApiClient, owner: Account) -> None:
    plain = create(api, owner.auth, "+16175550100")
    done = create(api, owner.auth, "+16175550101", "vip")
    answer = changed(
        api,
        owner.auth,
        add=["VIP"],
        contact_ids=[plain["id"], done["id"], new_id(datetime.now(UTC))],
    )
    assert answer == {"matched": 2, "changed": 1, "skipped": [], "skipped_count": 0}
    stored = api.call("GET", f"/v1/contacts/{done['id']}", headers=owner.auth).json()
    assert stored == done  # not rewritten: updated_at too
    assert tagged(api, owner.auth, "vip") == {plain["id"], done["id"]}


def test_a_contact_over_the_tag_limit_is_skipped_and_listed(api: ApiClient, owner: Account) -> None:
    full = create(api, owner.auth, "+16175550100", *(f"t{i}" for i in range(MAX_TAGS)))
    room = create(api, owner.auth, "+16175550101", "t0")
    answer = changed(api, owner.auth, add=["new"], tag="t0")
    assert answer == {"matched": 2, "changed": 1, "skipped": [full["id"]], "skipped_count": 1}
    assert tagged(api, owner.auth, "new") == {room["id"]}
    assert api.call("GET", f"/v1/contacts/{full['id']}", headers=owner.auth).json() == full


@pytest.mark.parametrize(
    "body",
    [
        {"add": ["vip"]},
        {"add": ["vip"], "tag": "a", "contact_ids": ["01JDQ8Z5C9W4K2M7N3P6R8T0V1"]},
        {"tag": "a"},
        {"add": [], "remove": [], "tag": "a"},
        {"add": ["VIP"], "remove": ["vip"], "tag": "a"},
        {"add": ["  "], "tag": "a"},
        {"add": ["v" * 51], "tag": "a"},
        {"add": [f"t{i}" for i in range(MAX_TAGS + 1)], "tag": "a"},
        {"add": ["vip"], "contact_ids": ["01JDQ8Z5C9W4K2M7N3P6R8T0V1"] * 1001},
        {"add": ["vip"], "contact_ids": ["../x"]},
        {"add": ["vip"], "tag": "a", "force": True},
    ],
)
def test_a_request_breaking_a_rule_is_a_422_and_changes_nothing(
    api: ApiClient, owner: Account, body: dict[str, Any]
) -> None:
    contact = create(api, owner.auth, "+16175550100", "a")
    change(api, owner.auth, **body).assert_problem(422)
    assert api.call("GET", f"/v1/contacts/{contact['id']}", headers=owner.auth).json() == contact


def test_a_tag_matching_too_many_is_a_422_saying_how_many(
    api: ApiClient, owner: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "MAX_TAG_SELECTION", 3)
    ids = {create(api, owner.auth, f"+1617555{i:04d}", "leads")["id"] for i in range(4)}
    problem = change(api, owner.auth, add=["x"], tag="leads").assert_problem(422)
    assert "selects 4 contacts" in problem["detail"]
    assert "split the work" in problem["detail"]
    assert problem["errors"] == [{"loc": ["body", "tag"], "msg": "selects 4 contacts"}]
    assert tagged(api, owner.auth, "x") == set()  # never a partial change
    assert tagged(api, owner.auth, "leads") == ids


def test_another_organization_s_ids_and_tags_match_nothing(
    api: ApiClient, identity: ApiClient, owner: Account
) -> None:
    theirs = create(api, owner.auth, "+16175550100", "vip")
    bob = register(identity, "bob@b.test", "B Corp")
    bobs = create(api, bob.auth, "+16175550100", "vip")
    answer = changed(api, bob.auth, add=["pwned"], remove=["vip"], contact_ids=[theirs["id"]])
    assert (answer["matched"], answer["changed"]) == (0, 0)
    answer = changed(api, bob.auth, add=["pwned"], remove=["vip"], tag="vip")
    assert (answer["matched"], answer["changed"]) == (1, 1)
    assert api.call("GET", f"/v1/contacts/{theirs['id']}", headers=owner.auth).json() == theirs
    assert tagged(api, owner.auth, "vip") == {theirs["id"]}
    assert tagged(api, owner.auth, "pwned") == set()
    assert tagged(api, bob.auth, "pwned") == {bobs["id"]}


def test_an_import_lease_holds_bulk_tags_off_with_retry_after(
    api: ApiClient, owner: Account
) -> None:
    contact = create(api, owner.auth, "+16175550100")
    repository = ContactRepository()
    org_id = owner.organization["id"]
    now = datetime.now(UTC)
    token = repository.acquire_import_lease(org_id, now=now, until=now + timedelta(seconds=60))
    blocked = change(api, owner.auth, add=["vip"], contact_ids=[contact["id"]])
    problem = blocked.assert_problem(409)
    assert 1 <= int(blocked.headers["retry-after"]) <= 61
    assert (problem["matched"], problem["changed"]) == (1, 0)
    assert tagged(api, owner.auth, "vip") == set()
    repository.release_import_lease(org_id, token)
    assert changed(api, owner.auth, add=["vip"], contact_ids=[contact["id"]])["changed"] == 1
    assert tagged(api, owner.auth, "vip") == {contact["id"]}


def test_concurrent_patches_and_bulk_tags_lose_nothing(api: ApiClient, owner: Account) -> None:
    """Each contact gets a PATCH of its name and a bulk tag at once (threads, as two Lambda
    containers): the bulk change always lands; a PATCH either lands too or is told the
    contact changed meanwhile (409), never silently undone."""
    contacts = [create(api, owner.auth, f"+1617555{i:04d}", "lead") for i in range(8)]
    barrier = threading.Barrier(2 * len(contacts))
    patched: dict[str, int] = {}
    bulk: dict[str, int] = {}

    def patch(contact_id: str) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        barrier.wait()
        body = {"first_name": "Pat"}
        path = f"/v1/contacts/{contact_id}"
        patched[contact_id] = api.call("PATCH", path, headers=owner.auth, body=body).status

    def tag(contact_id: str) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        barrier.wait()
        bulk[contact_id] = change(api, owner.auth, add=["vip"], contact_ids=[contact_id]).status

    threads = [
        threading.Thread(target=target, args=(c["id"],))
        for c in contacts
        for target in (patch, tag)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(bulk.values()) == {200}
    assert set(patched.values()) <= {200, 409}
    stored = everyone(api, owner.auth)
    for contact in contacts:
        final = stored[contact["id"]]
        assert final["tags"] == ["lead", "vip"]
        if patched[contact["id"]] == 200:
            assert final["first_name"] == "Pat"
    assert tagged(api, owner.auth, "vip") == {c["id"] for c in contacts}
    assert tagged(api, owner.auth, "lead") == {c["id"] for c in contacts}


class _PatchingRepository(ContactRepository):
    """Before its first bulk write, a PATCH of each contact lands (a concurrent request)."""

    def __init__(self) -> None:
        self.service: ContactService | None = None
        self.patched = False

    def retag_many(self, pairs: Any) -> TagWrites:
        if not self.patched and self.service is not None:
            self.patched = True
            for old, _new in pairs:
                changes = ContactChanges(first_name="Pat", tags=("customer",))
                self.service.update(old.org_id, old.id, changes)
        return super().retag_many(pairs)


def test_a_patch_between_the_read_and_the_write_is_kept(api: ApiClient, owner: Account) -> None:
    """Deterministic: the PATCH (a name, and tags replaced) lands after the bulk change
    read the contact; its write fails its condition, the contact is read again and the
    change applied to what the PATCH stored."""
    contact = create(api, owner.auth, "+16175550100", "lead")
    repository = _PatchingRepository()
    service = ContactService(
        contacts=repository,
        opt_outs=OptOutRepository(),
        organizations=IdentityRepository(),
        clock=SystemClock(),
    )
    repository.service = service
    org_id = owner.organization["id"]
    result = service.change_tags(
        org_id, add=("vip",), remove=("lead",), contact_ids=(contact["id"],)
    )
    assert (result.matched, result.changed) == (1, 1)
    stored = service.get(org_id, contact["id"])
    assert (stored.first_name, stored.tags) == ("Pat", ("customer", "vip"))
    assert tagged(api, owner.auth, "customer") == {contact["id"]}
    assert tagged(api, owner.auth, "vip") == {contact["id"]}
    assert tagged(api, owner.auth, "lead") == set()


def test_a_contact_deleted_meanwhile_is_not_recreated(api: ApiClient, owner: Account) -> None:
    contact = create(api, owner.auth, "+16175550100", "lead")
    repository = ContactRepository()
    stored = repository.get(owner.organization["id"], contact["id"])
    repository.delete(stored, now=datetime.now(UTC))
    later = stored.updated_at + timedelta(seconds=1)
    writes = repository.retag_many([(stored, replace(stored, tags=("vip",), updated_at=later))])
    assert writes == TagWrites([], {}, [contact["id"]], [], 0)
    api.call("GET", f"/v1/contacts/{contact['id']}", headers=owner.auth).assert_problem(404)
    assert tagged(api, owner.auth, "vip") == set()
