"""Contacts and opt-outs through the contacts Lambda handler.

Most tests run the real handler (routes, validation, problem details) with the
contact service built on the in-memory fakes and a fixed caller (``memory``):
what they check needs no DynamoDB, and the fakes are held to it by
``test_contacts_contract.py``; the rules themselves are in
``tests/unit/test_contact_service.py``. The tests on moto (``api``, with real
logins) keep the full paths: create and read, the import, organization
isolation, the concurrent double create and the import lease.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outreach.api.deps import get_caller
from outreach.clock import SimulatedClock
from outreach.contacts.repository import ContactRepository
from outreach.contacts.service import ContactService, get_contact_service
from outreach.identity.domain import Caller, Role
from outreach.ids import new_id
from outreach_local.runtime import LocalLambdaContext
from tests.integration.identity_support import Account, register
from tests.support import builders
from tests.support.api import ApiClient
from tests.support.fakes.contacts import InMemoryContactStore, InMemoryOptOutList
from tests.support.fakes.identity import InMemoryIdentityStore
from tests.support.in_memory_api import api_with


@pytest.fixture
def api(aws: None, lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("contacts", lambda_context)


class _TickingClock(SimulatedClock):
    """Moves a millisecond at every reading, so contacts created one after another get
    ids in creation order (on DynamoDB each request takes longer than that)."""

    def now(self) -> datetime:
        self.advance(timedelta(milliseconds=1))
        return super().now()


# The organization of the in-memory service's caller.
MEMORY_ORG = new_id(datetime.now(UTC))


@pytest.fixture
def contact_service() -> ContactService:
    organizations = InMemoryIdentityStore()
    organizations.organizations[MEMORY_ORG] = builders.organization(
        at=datetime.now(UTC), id=MEMORY_ORG
    )
    return ContactService(
        contacts=InMemoryContactStore(),
        opt_outs=InMemoryOptOutList(),
        organizations=organizations,
        clock=_TickingClock(datetime.now(UTC)),
    )


@pytest.fixture
def memory(contact_service: ContactService) -> Iterator[ApiClient]:
    """The contacts handler on the in-memory service, called by an owner of one organization."""
    caller = Caller(
        user_id=new_id(datetime.now(UTC)),
        org_id=MEMORY_ORG,
        role=Role.OWNER,
        session_id="session",
    )
    with api_with(
        "contacts", {get_contact_service: lambda: contact_service, get_caller: lambda: caller}
    ) as client:
        yield client


# The caller is fixed by ``memory``: its requests need no token.
NO_TOKEN: dict[str, str] = {}


def create(api: ApiClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = api.call("POST", "/v1/contacts", headers=auth, body=body)
    assert response.status == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def csv_import(
    api: ApiClient,
    auth: dict[str, str],
    text: str | bytes,
    *,
    tags: str | None = None,
    content_type: str = "text/csv",
) -> Any:
    raw = text if isinstance(text, bytes) else text.encode()
    return api.call(
        "POST",
        "/v1/contacts/import",
        headers={**auth, "content-type": content_type},
        raw_body=raw,
        query={"tags": tags} if tags else None,
    )


# --- On moto, with real logins: full paths, isolation, concurrency, the lease -------------


def test_create_normalizes_and_infers(api: ApiClient, owner: Account) -> None:
    contact = create(
        api,
        owner.auth,
        phone="(617) 555-0123",
        first_name="Dana",
        tags=["Leads", " leads", "Spring"],
        attributes={"crack": "north wall"},
    )
    assert contact["phone"] == "+16175550123"
    assert contact["tags"] == ["leads", "spring"]
    assert contact["timezone"] == "America/New_York"
    assert contact["opted_out"] is False
    assert contact["attributes"] == {"crack": "north wall"}
    assert api.call("GET", f"/v1/contacts/{contact['id']}", headers=owner.auth).json() == contact


def test_concurrent_double_create_makes_one_contact(api: ApiClient, owner: Account) -> None:
    results: list[int] = []
    barrier = threading.Barrier(2)

    def attempt() -> None:
        # Each thread stands for a Lambda container, whose handler runs with an event loop.
        asyncio.set_event_loop(asyncio.new_event_loop())
        barrier.wait()
        results.append(
            api.call(
                "POST", "/v1/contacts", headers=owner.auth, body={"phone": "+16175550123"}
            ).status
        )

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409]
    assert len(api.call("GET", "/v1/contacts", headers=owner.auth).json()["items"]) == 1


def test_import_creates_updates_and_reports(api: ApiClient, owner: Account) -> None:
    existing = create(api, owner.auth, phone="+16175550100", first_name="Old", company="Keep Co")
    text = (
        "\ufeffPhone Number;First Name;LAST_NAME;Email;Tags;Crack Location;Unsubscribed\r\n"
        "(617) 555-0100;Dana;;;vip;north wall;\r\n"
        "617.555.0101;Eli;Stone;eli@example.com;leads|spring;;\r\n"
        "not a phone;Bad;;;;;\r\n"
        ";;;;;;\r\n"
        '+1 617 555 0101;;;;;"basement; east";\r\n'
        "617-555-0102;Fay;;bad-email;;;\r\n"
        "617-555-0103;Gus;;;;;yes\r\n"
        "617-555-0100;;;;;;\r\n"
    )
    response = csv_import(api, owner.auth, text.encode("utf-8"), tags="Imported")
    assert response.status == 200, response.text
    result = response.json()
    assert result["created"] == 3
    assert result["updated"] == 2
    assert result["skipped"] == 1
    assert result["errors"] == [{"row": 3, "error": "invalid phone number 'not a phone'"}]
    # A bad email is left out and its row imported (issue 17, point 3)
    assert result["warnings"] == [
        {"row": 6, "warning": "invalid email 'bad-email'; the row was imported without it"}
    ]
    assert result["encoding"] == "utf-8"
    updated = api.call("GET", f"/v1/contacts/{existing['id']}", headers=owner.auth).json()
    assert updated["first_name"] == "Dana"
    assert updated["company"] == "Keep Co"  # an empty cell never erases
    # Stored under its key, the header kept as its label (issue 17, point 4).
    assert updated["attributes"] == {"crack_location": "north wall"}
    assert updated["attribute_labels"] == {"crack_location": "Crack Location"}
    assert set(updated["tags"]) == {"vip", "imported"}
    listed = {
        c["phone"]: c for c in api.call("GET", "/v1/contacts", headers=owner.auth).json()["items"]
    }
    eli = listed["+16175550101"]
    assert eli["last_name"] == "Stone"
    assert eli["email"] == "eli@example.com"
    assert eli["attributes"] == {"crack_location": "basement; east"}
    assert set(eli["tags"]) == {"leads", "spring", "imported"}
    assert listed["+16175550103"]["opted_out"] is True
    opt_outs = api.call("GET", "/v1/opt-outs", headers=owner.auth).json()["items"]
    assert [(o["phone"], o["source"]) for o in opt_outs] == [("+16175550103", "import")]


def test_a_state_on_dynamodb_from_create_patch_and_import(api: ApiClient, owner: Account) -> None:
    """Issue 15, point 1: a contact's ``state`` is stored, answered, cleared and imported."""
    # A create takes any case or a name and answers the code; without one it is null
    florida = create(api, owner.auth, phone="+16175550150", state="fl")
    assert florida["state"] == "FL"
    unset = create(api, owner.auth, phone="+16175550151")
    assert "state" in unset
    assert unset["state"] is None
    path = f"/v1/contacts/{florida['id']}"
    assert api.call("GET", path, headers=owner.auth).json() == florida
    # A PATCH sets it, keeps it when absent, and a null clears it
    texas = api.call("PATCH", path, headers=owner.auth, body={"state": "Texas"}).json()
    assert texas["state"] == "TX"
    renamed = api.call("PATCH", path, headers=owner.auth, body={"first_name": "Dana"}).json()
    assert renamed["state"] == "TX"
    cleared = api.call("PATCH", path, headers=owner.auth, body={"state": None})
    assert cleared.status == 200, cleared.text
    assert cleared.json()["state"] is None
    assert api.call("GET", path, headers=owner.auth).json()["state"] is None
    # An import's State column of names and codes; a Province of "ON" keeps its row
    result = csv_import(
        api,
        owner.auth,
        "Phone,First Name,State,Province\n"
        "6175550152,Ann,Texas,\n"
        "6175550153,Bo,ny,\n"
        "6175550154,Cy,,ON\n"
        "6175550155,Di,,British Columbia\n",
    ).json()
    assert (result["created"], result["updated"], result["skipped"]) == (4, 0, 0)
    # A province abroad is no mistake, and its value is kept under its header
    assert (result["errors"], result["error_count"]) == ([], 0)
    listed = {
        c["phone"]: (c["first_name"], c["state"], c["attributes"])
        for c in api.call("GET", "/v1/contacts", headers=owner.auth).json()["items"]
    }
    assert listed == {
        "+16175550150": ("Dana", None, {}),
        "+16175550151": (None, None, {}),
        "+16175550152": ("Ann", "TX", {}),
        "+16175550153": ("Bo", "NY", {}),
        "+16175550154": ("Cy", None, {"province": "ON"}),
        "+16175550155": ("Di", None, {"province": "British Columbia"}),
    }


def test_cross_organization_matrix(api: ApiClient, identity: ApiClient, owner: Account) -> None:
    """Organization B with A's ids, phones and cursors: 404 or 400, and nothing of A's changes."""
    for index in range(3):
        create(api, owner.auth, phone=f"+1617555{index:04d}", tags=["vip"])
    a_contact = api.call("GET", "/v1/contacts", headers=owner.auth).json()["items"][0]
    api.call("POST", "/v1/opt-outs", headers=owner.auth, body={"phone": "+16175559999"})
    a_page = api.call("GET", "/v1/contacts", headers=owner.auth, query={"limit": "1"}).json()
    a_tag_page = api.call(
        "GET", "/v1/contacts", headers=owner.auth, query={"limit": "1", "tag": "vip"}
    ).json()
    a_opt_page = api.call(
        "POST", "/v1/opt-outs", headers=owner.auth, body={"phone": "+16175559998"}
    )
    a_opt_cursor = api.call("GET", "/v1/opt-outs", headers=owner.auth, query={"limit": "1"}).json()[
        "next_cursor"
    ]
    assert a_opt_page.status == 201
    assert a_opt_cursor
    before = {
        "contacts": api.call("GET", "/v1/contacts", headers=owner.auth).json(),
        "opt_outs": api.call("GET", "/v1/opt-outs", headers=owner.auth).json(),
    }

    bob = register(identity, "bob@b.test", "B Corp")
    contact_path = f"/v1/contacts/{a_contact['id']}"
    api.call("GET", contact_path, headers=bob.auth).assert_problem(404)
    api.call("PATCH", contact_path, headers=bob.auth, body={"first_name": "Pwned"}).assert_problem(
        404
    )
    api.call("DELETE", contact_path, headers=bob.auth).assert_problem(404)
    api.call("DELETE", "/v1/opt-outs/%2B16175559999", headers=bob.auth).assert_problem(404)
    for cursor, query in (
        (a_page["next_cursor"], {}),
        (a_tag_page["next_cursor"], {"tag": "vip"}),
    ):
        api.call(
            "GET", "/v1/contacts", headers=bob.auth, query={**query, "cursor": cursor}
        ).assert_problem(400)
    api.call(
        "GET", "/v1/opt-outs", headers=bob.auth, query={"cursor": a_opt_cursor}
    ).assert_problem(400)
    # Bulk tags with A's ids or A's tag match nothing of A's (no 404: unknown ids are ignored).
    for selector in ({"contact_ids": [a_contact["id"]]}, {"tag": "vip"}):
        bulk = api.call(
            "POST",
            "/v1/contacts/tags",
            headers=bob.auth,
            body={"add": ["pwned"], "remove": ["vip"], **selector},
        )
        assert bulk.status == 200, bulk.text
        assert (bulk.json()["matched"], bulk.json()["changed"]) == (0, 0)
    # B sees none of A's data, by listing or by tag, and B's writes stay in B.
    assert api.call("GET", "/v1/contacts", headers=bob.auth).json()["items"] == []
    assert (
        api.call("GET", "/v1/contacts", headers=bob.auth, query={"tag": "vip"}).json()["items"]
        == []
    )
    assert api.call("GET", "/v1/opt-outs", headers=bob.auth).json()["items"] == []
    bobs = create(api, bob.auth, phone=a_contact["phone"])  # the same phone is fine in another org
    assert bobs["id"] != a_contact["id"]
    assert (
        csv_import(api, bob.auth, f"phone,first_name\n{a_contact['phone']},Bee\n").json()["updated"]
        == 1
    )

    after = {
        "contacts": api.call("GET", "/v1/contacts", headers=owner.auth).json(),
        "opt_outs": api.call("GET", "/v1/opt-outs", headers=owner.auth).json(),
    }
    assert after == before


def test_an_import_lease_holds_off_creates_and_expires(api: ApiClient, owner: Account) -> None:
    """While an import holds the lease, guard-moving writes answer 409 with Retry-After."""
    contact = create(api, owner.auth, phone="+16175550100")
    repository = ContactRepository()
    org_id = owner.organization["id"]
    now = datetime.now(UTC)
    token = repository.acquire_import_lease(org_id, now=now, until=now + timedelta(seconds=60))
    blocked = api.call("POST", "/v1/contacts", headers=owner.auth, body={"phone": "+16175550101"})
    blocked.assert_problem(409)
    assert 1 <= int(blocked.headers["retry-after"]) <= 61
    api.call(
        "PATCH", f"/v1/contacts/{contact['id']}", headers=owner.auth, body={"phone": "+16175550102"}
    ).assert_problem(409)
    api.call("DELETE", f"/v1/contacts/{contact['id']}", headers=owner.auth).assert_problem(409)
    # A second import waits too; a field-only PATCH does not touch guards and goes through.
    csv_import(api, owner.auth, "phone\n6175550103\n").assert_problem(409)
    assert (
        api.call(
            "PATCH", f"/v1/contacts/{contact['id']}", headers=owner.auth, body={"first_name": "Ok"}
        ).status
        == 200
    )
    repository.release_import_lease(org_id, token)
    assert (
        api.call("POST", "/v1/contacts", headers=owner.auth, body={"phone": "+16175550101"}).status
        == 201
    )
    # A crashed import's lease lapses by itself.
    repository.acquire_import_lease(
        org_id, now=now - timedelta(minutes=5), until=now - timedelta(minutes=3)
    )
    assert (
        api.call("POST", "/v1/contacts", headers=owner.auth, body={"phone": "+16175550104"}).status
        == 201
    )


# --- The handler on the in-memory service: routes, validation, problem details ----------


def test_given_timezone_wins_and_an_ambiguous_number_has_none(memory: ApiClient) -> None:
    assert (
        create(memory, NO_TOKEN, phone="617.555.0124", timezone="America/Chicago")["timezone"]
        == "America/Chicago"
    )
    assert create(memory, NO_TOKEN, phone="+1 800 555 0199")["timezone"] is None


@pytest.mark.parametrize("phone", ["12", "not a phone", "+1 555 0123", ""])
def test_invalid_phone_is_422(memory: ApiClient, phone: str) -> None:
    problem = memory.call("POST", "/v1/contacts", body={"phone": phone}).assert_problem(422)
    assert ["body", "phone"] in [e["loc"] for e in problem["errors"]]


@pytest.mark.parametrize(
    "body",
    [
        {"attributes": {f"k{i}": "v" for i in range(51)}},
        {"attributes": {"k": "v" * 501}},
        {"attributes": {"k" * 65: "v"}},
        {"attributes": {"k": 5}},
        {"tags": ["t"] * 21},
        {"tags": ["x" * 51]},
        {"email": "nope"},
        {"timezone": "Nowhere/Land"},
        {"first_name": "x" * 201},
        {"unknown": "field"},
    ],
)
def test_bounds_are_422(memory: ApiClient, body: dict[str, Any]) -> None:
    memory.call("POST", "/v1/contacts", body={"phone": "+16175550123", **body}).assert_problem(422)


@pytest.mark.parametrize("state", ["Ontario", "XX", "ZZZ", "ON", "Bavaria", "", "x" * 100])
def test_a_state_that_is_not_a_us_state_is_422_naming_it(memory: ApiClient, state: str) -> None:
    contact = create(memory, NO_TOKEN, phone="+16175550123", state="FL")
    for method, path, body in (
        ("POST", "/v1/contacts", {"phone": "+16175550124", "state": state}),
        ("PATCH", f"/v1/contacts/{contact['id']}", {"state": state}),
    ):
        problem = memory.call(method, path, body=body).assert_problem(422)
        [error] = problem["errors"]
        assert error["loc"] == ["body", "state"]
        if len(state) <= 64:  # a longer one is refused by its length before it is read
            assert "must be a two-letter US state code" in error["msg"]
    assert memory.call("GET", f"/v1/contacts/{contact['id']}").json()["state"] == "FL"
    assert len(memory.call("GET", "/v1/contacts").json()["items"]) == 1


def test_a_state_is_answered_as_its_code_and_null_clears_it(memory: ApiClient) -> None:
    contact = create(memory, NO_TOKEN, phone="+16175550123", state="new york")
    assert contact["state"] == "NY"
    assert create(memory, NO_TOKEN, phone="+16175550124")["state"] is None
    path = f"/v1/contacts/{contact['id']}"
    assert memory.call("PATCH", path, body={"state": "fl"}).json()["state"] == "FL"
    assert memory.call("PATCH", path, body={"company": "Acme"}).json()["state"] == "FL"
    assert memory.call("PATCH", path, body={"state": None}).json()["state"] is None
    listed = memory.call("GET", "/v1/contacts").json()["items"]
    assert [c["state"] for c in listed] == [None, None]


def test_duplicate_phone_is_409_naming_the_existing_contact(memory: ApiClient) -> None:
    first = create(memory, NO_TOKEN, phone="+16175550123")
    problem = memory.call("POST", "/v1/contacts", body={"phone": "(617) 555-0123"}).assert_problem(
        409
    )
    assert problem["existing_id"] == first["id"]


def test_patch_changes_fields_tags_and_phone(memory: ApiClient) -> None:
    contact = create(
        memory, NO_TOKEN, phone="+16175550123", first_name="Dana", company="Acme", tags=["a", "b"]
    )
    response = memory.call(
        "PATCH",
        f"/v1/contacts/{contact['id']}",
        body={"phone": "+13105550123", "company": None, "tags": ["b", "c"]},
    )
    assert response.status == 200, response.text
    updated = response.json()
    assert updated["phone"] == "+13105550123"
    assert updated["company"] is None
    assert updated["first_name"] == "Dana"
    assert updated["timezone"] == "America/Los_Angeles"
    assert updated["tags"] == ["b", "c"]

    def by_tag(tag: str) -> list[str]:
        page = memory.call("GET", "/v1/contacts", query={"tag": tag}).json()
        return [c["id"] for c in page["items"]]

    assert by_tag("a") == []
    assert by_tag("b") == [contact["id"]]
    assert by_tag("c") == [contact["id"]]
    # The old phone is free, the new one taken.
    create(memory, NO_TOKEN, phone="+16175550123")
    other = create(memory, NO_TOKEN, phone="+16175550125")
    memory.call(
        "PATCH", f"/v1/contacts/{other['id']}", body={"phone": "+13105550123"}
    ).assert_problem(409)


def test_patch_rejects_null_phone(memory: ApiClient) -> None:
    contact = create(memory, NO_TOKEN, phone="+16175550123")
    memory.call("PATCH", f"/v1/contacts/{contact['id']}", body={"phone": None}).assert_problem(422)


def test_delete_frees_the_phone(memory: ApiClient) -> None:
    contact = create(memory, NO_TOKEN, phone="+16175550123", tags=["x"])
    assert memory.call("DELETE", f"/v1/contacts/{contact['id']}").status == 204
    memory.call("GET", f"/v1/contacts/{contact['id']}").assert_problem(404)
    memory.call("DELETE", f"/v1/contacts/{contact['id']}").assert_problem(404)
    assert memory.call("GET", "/v1/contacts", query={"tag": "x"}).json()["items"] == []
    create(memory, NO_TOKEN, phone="+16175550123")


@pytest.mark.parametrize(
    "contact_id", ["nope", "0" * 26 + "x", "a" * 3000, "01ARZ3NDEKTSV4RRFFQ69G5FAV"]
)
def test_unknown_ids_are_404(memory: ApiClient, contact_id: str) -> None:
    memory.call("GET", f"/v1/contacts/{contact_id}").assert_problem(404)


def test_list_is_newest_first_with_cursor_pages(memory: ApiClient) -> None:
    ids = [
        create(memory, NO_TOKEN, phone=f"+1617555{index:04d}", tags=["t"] if index % 2 else [])[
            "id"
        ]
        for index in range(7)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = memory.call("GET", "/v1/contacts", query=query).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    tagged = memory.call("GET", "/v1/contacts", query={"tag": "T", "limit": "2"}).json()
    assert [c["id"] for c in tagged["items"]] == [ids[5], ids[3]]
    # A cursor from one listing is no good for another.
    memory.call("GET", "/v1/contacts", query={"cursor": tagged["next_cursor"]}).assert_problem(400)
    memory.call("GET", "/v1/contacts", query={"cursor": "tampered.cursor"}).assert_problem(400)


def test_routes_need_a_token(contact_service: ContactService) -> None:
    # The real caller dependency: no token, no access (nothing is read to refuse it).
    with api_with("contacts", {get_contact_service: lambda: contact_service}) as api:
        api.call("GET", "/v1/contacts").assert_problem(401)
        api.call("POST", "/v1/opt-outs", body={"phone": "+16175550123"}).assert_problem(401)


def test_opt_out_list(memory: ApiClient) -> None:
    contact = create(memory, NO_TOKEN, phone="+16175550123")
    added = memory.call("POST", "/v1/opt-outs", body={"phone": "617-555-0123"})
    assert added.status == 201
    assert added.json()["source"] == "manual"
    assert added.json()["phone"] == "+16175550123"
    again = memory.call("POST", "/v1/opt-outs", body={"phone": "+16175550123"})
    assert again.status == 200
    assert again.json() == added.json()
    # A number that is not a contact can be suppressed too.
    memory.call("POST", "/v1/opt-outs", body={"phone": "+13105550199"})
    listed = memory.call("GET", "/v1/opt-outs").json()
    assert {e["phone"] for e in listed["items"]} == {"+16175550123", "+13105550199"}
    assert memory.call("GET", f"/v1/contacts/{contact['id']}").json()["opted_out"] is True
    assert memory.call("GET", "/v1/contacts").json()["items"][0]["opted_out"] is True
    assert memory.call("DELETE", "/v1/opt-outs/%2B16175550123").status == 204
    assert memory.call("GET", f"/v1/contacts/{contact['id']}").json()["opted_out"] is False
    memory.call("DELETE", "/v1/opt-outs/%2B16175550123").assert_problem(404)
    memory.call("DELETE", "/v1/opt-outs/garbage").assert_problem(404)
    memory.call("POST", "/v1/opt-outs", body={"phone": "bad"}).assert_problem(422)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_import_detects_the_delimiter(memory: ApiClient, delimiter: str) -> None:
    text = (
        delimiter.join(["mobile", "FirstName", "company"])
        + "\n"
        + delimiter.join(["6175550111", "Ann", "A, Inc."])
        + "\n"
    )
    if delimiter == ",":
        text = 'mobile,FirstName,company\n6175550111,Ann,"A, Inc."\n'
    result = csv_import(memory, NO_TOKEN, text).json()
    assert result["created"] == 1, result
    contact = memory.call("GET", "/v1/contacts").json()["items"][0]
    assert contact["first_name"] == "Ann"
    assert contact["company"] == "A, Inc."


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("application/json", 415), ("text/plain", 415), ("text/csv; charset=utf-8", 200)],
)
def test_import_content_types(memory: ApiClient, content_type: str, status: int) -> None:
    response = csv_import(memory, NO_TOKEN, "phone\n6175550111\n", content_type=content_type)
    assert response.status == status, response.text


def test_import_over_10_mb_is_413(memory: ApiClient) -> None:
    big = b"phone,note\n" + b"6175550111," + b"x" * (10 * 1024 * 1024) + b"\n"
    csv_import(memory, NO_TOKEN, big).assert_problem(413)


@pytest.mark.parametrize(
    "body",
    [b"", b"sep=,\n", b"first_name,last_name\nA,B\n", b"\xff\xfe\x00bad", b"\x00\x81\xfe" * 9],
)
def test_import_unusable_files_are_400(memory: ApiClient, body: bytes) -> None:
    csv_import(memory, NO_TOKEN, body).assert_problem(400)


def test_import_of_a_file_naming_the_phone_twice_reads_each_row(memory: ApiClient) -> None:
    """Two phone columns are no 400 (issue 17, point 1): each row takes a valid number."""
    result = csv_import(memory, NO_TOKEN, "phone,phone\n1,2\n6175550111,\n").json()
    assert result["created"] == 1
    assert result["errors"] == [
        {"row": 1, "error": "no valid phone number: '1' ('phone'), '2' ('phone')"}
    ]
