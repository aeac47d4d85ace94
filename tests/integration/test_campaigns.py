"""Campaigns through the campaigns Lambda handler: authoring, validation, defaults,
the lifecycle, the audience snapshot, preview, statistics, sends and tenancy."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pytest

from outreach.campaigns.variants import assign_variant
from outreach.data.models import CampaignModel
from outreach_local.runtime import LocalLambdaContext
from outreach_local.streams import StatsPump
from tests.conftest import ApiClient, ApiResponse
from tests.integration.identity_support import Account, add_user, register

SENDER = "+16175550100"
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
# The members the contract gives each object.
CAMPAIGN_FIELDS = {
    *("id", "name", "status", "variants", "audience", "daily_limit", "timezone"),
    *("send_window", "start_at", "end_at", "recipients", "created_at", "updated_at"),
    *("started_at", "completed_at"),
    "paused_reason",  # an extension: why the engine paused it (issue 12)
}
STATS_FIELDS = {
    *("status", "recipients", "pending", "sent", "delivered", "failed", "skipped"),
    *("replies", "opt_outs", "sends_today", "daily_limit", "variants", "winner"),
}
VARIANT_STATS_FIELDS = {
    *("name", "recipients", "sent", "delivered", "failed", "replies", "opt_outs", "reply_rate"),
}
SEND_FIELDS = {
    *("contact_id", "phone", "variant", "status", "attempts", "provider_message_id"),
    *("error", "sent_at", "updated_at"),
}
# A well-formed id (a ULID) that names no campaign.
MISSING_ID = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
OMIT = object()


# --- Fixtures and helpers ---------------------------------------------------------------


@pytest.fixture
def identity(aws: None, lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("identity", lambda_context)


@pytest.fixture
def contacts(aws: None, lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("contacts", lambda_context)


@pytest.fixture
def api(aws: None, lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("campaigns", lambda_context)


@pytest.fixture
def owner(identity: ApiClient) -> Account:
    """Organization A, with a sender number."""
    account = register(identity, "owner@acme.test", "Acme Foundations")
    set_organization(identity, account, sender_number=SENDER)
    return account


@pytest.fixture
def rival(identity: ApiClient) -> Account:
    """Organization B, with a sender number of its own."""
    account = register(identity, "owner@rival.test", "Rival Basements")
    set_organization(identity, account, sender_number="+16175550199")
    return account


def set_organization(identity: ApiClient, who: Account, **changes: Any) -> None:
    response = identity.call("PATCH", "/v1/organization", headers=who.auth, body=changes)
    assert response.status == 200, response.text


def campaign_body(**changes: Any) -> dict[str, Any]:
    """A valid create body with ``changes`` applied (``OMIT`` drops a field)."""
    body: dict[str, Any] = {
        "name": "Spring foundation check",
        "variants": [
            {"name": "A", "body": "Hi {first_name|there}, time for a check?", "weight": 50},
            {"name": "B", "body": "Hey {first_name|there}! Spring check?", "weight": 50},
        ],
        "audience": {"all": True},
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not OMIT}


def create_campaign(api: ApiClient, who: Account, **changes: Any) -> dict[str, Any]:
    response = api.call("POST", "/v1/campaigns", headers=who.auth, body=campaign_body(**changes))
    assert response.status == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def get_campaign(api: ApiClient, who: Account, campaign_id: str) -> dict[str, Any]:
    response = api.call("GET", f"/v1/campaigns/{campaign_id}", headers=who.auth)
    assert response.status == 200, response.text
    campaign: dict[str, Any] = response.json()
    return campaign


def act(api: ApiClient, who: Account, campaign_id: str, action: str) -> ApiResponse:
    """POST a lifecycle action (start, pause, resume, cancel)."""
    return api.call("POST", f"/v1/campaigns/{campaign_id}/{action}", headers=who.auth)


def stats(api: ApiClient, who: Account, campaign_id: str) -> dict[str, Any]:
    StatsPump().drain()  # the recipients' stream, counted as the stats function would
    response = api.call("GET", f"/v1/campaigns/{campaign_id}/stats", headers=who.auth)
    assert response.status == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def all_pages(
    api: ApiClient, who: Account, path: str, *, limit: int = 2, **query: str
) -> list[dict[str, Any]]:
    """Every item of a list, following ``next_cursor`` with pages of ``limit``."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page_query = {**query, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        response = api.call("GET", path, headers=who.auth, query=page_query)
        assert response.status == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def sends(
    api: ApiClient, who: Account, campaign_id: str, *, limit: int = 2, **query: str
) -> list[dict[str, Any]]:
    return all_pages(api, who, f"/v1/campaigns/{campaign_id}/sends", limit=limit, **query)


def add_contact(contacts: ApiClient, who: Account, phone: str, **fields: Any) -> dict[str, Any]:
    response = contacts.call(
        "POST", "/v1/contacts", headers=who.auth, body={"phone": phone, **fields}
    )
    assert response.status == 201, response.text
    contact: dict[str, Any] = response.json()
    return contact


def opt_out(contacts: ApiClient, who: Account, phone: str) -> None:
    response = contacts.call("POST", "/v1/opt-outs", headers=who.auth, body={"phone": phone})
    assert response.status == 201, response.text


def mark_completed(who: Account, campaign_id: str) -> None:
    """Complete a campaign as the engine does when no recipient is left pending."""
    org_id = who.organization["id"]
    CampaignModel(org_id, campaign_id).update(
        actions=[
            CampaignModel.status.set("completed"),
            CampaignModel.org_status.set(f"{org_id}#completed"),
            CampaignModel.dispatch_shard.remove(),
            CampaignModel.completed_at.set(datetime.now(UTC)),
        ]
    )


# The actions that reach each status from a new draft.
PATH_TO = {
    "draft": [],
    "active": ["start"],
    "paused": ["start", "pause"],
    "cancelled": ["cancel"],
    "completed": ["start"],
}


def campaign_in(api: ApiClient, who: Account, status: str, **changes: Any) -> dict[str, Any]:
    """A new campaign moved to ``status``."""
    campaign = create_campaign(api, who, **changes)
    for action in PATH_TO[status]:
        response = act(api, who, campaign["id"], action)
        assert response.status == 200, response.text
    if status == "completed":
        mark_completed(who, campaign["id"])
    campaign = get_campaign(api, who, campaign["id"])
    assert campaign["status"] == status
    return campaign


@pytest.fixture
def people(contacts: ApiClient, owner: Account) -> dict[str, dict[str, Any]]:
    """Five contacts of organization A; Hal is on the opt-out list."""
    made = {
        "dana": add_contact(contacts, owner, "+16175550101", first_name="Dana", tags=["leads"]),
        "eli": add_contact(contacts, owner, "+16175550102", first_name="Eli", tags=["customers"]),
        "fay": add_contact(
            contacts, owner, "+16175550103", first_name="Fay", tags=["leads", "customers"]
        ),
        "gus": add_contact(contacts, owner, "+16175550104", first_name="Gus"),
        "hal": add_contact(contacts, owner, "+16175550105", first_name="Hal", tags=["leads"]),
    }
    opt_out(contacts, owner, "(617) 555-0105")
    return made


def variant(name: str, body: str = "Hello {first_name|there}", weight: Any = 1) -> dict[str, Any]:
    return {"name": name, "body": body, "weight": weight}


WINDOW = {"start": "09:00", "end": "18:00", "days": ["mon"]}


# --- Create, read, list, edit, delete ---------------------------------------------------


def test_create_answers_a_draft_in_the_contract_shape(api: ApiClient, owner: Account) -> None:
    campaign = create_campaign(
        api,
        owner,
        daily_limit=40,
        timezone="America/Chicago",
        send_window={"start": "10:00", "end": "16:30", "days": ["sat", "mon"]},
        start_at="2026-12-01T09:00:00-05:00",
        end_at="2026-12-20T00:00:00Z",
    )
    assert campaign.keys() == CAMPAIGN_FIELDS
    assert campaign["status"] == "draft"
    assert campaign["name"] == "Spring foundation check"
    assert campaign["variants"] == campaign_body()["variants"]
    assert campaign["audience"] == {"all": True}
    assert campaign["daily_limit"] == 40
    assert campaign["timezone"] == "America/Chicago"
    assert campaign["send_window"] == {"start": "10:00", "end": "16:30", "days": ["mon", "sat"]}
    assert campaign["start_at"] == "2026-12-01T14:00:00.000Z"
    assert campaign["end_at"] == "2026-12-20T00:00:00.000Z"
    assert campaign["recipients"] == 0
    assert ISO_UTC.match(campaign["created_at"]) and ISO_UTC.match(campaign["updated_at"])
    assert campaign["started_at"] is None and campaign["completed_at"] is None
    assert get_campaign(api, owner, campaign["id"]) == campaign


def test_lists_newest_first_in_pages(api: ApiClient, owner: Account) -> None:
    made = []
    for index in range(5):
        made.append(create_campaign(api, owner, name=f"Campaign {index}")["id"])
        time.sleep(0.002)  # ids order by the millisecond
    listed = all_pages(api, owner, "/v1/campaigns", limit=2)
    assert [c["id"] for c in listed] == made[::-1]
    assert all(c.keys() == CAMPAIGN_FIELDS for c in listed)


def test_lists_by_status_in_pages(api: ApiClient, owner: Account) -> None:
    drafts = []
    for _ in range(3):
        drafts.append(create_campaign(api, owner)["id"])
        time.sleep(0.002)
    active = campaign_in(api, owner, "active")["id"]
    cancelled = campaign_in(api, owner, "cancelled")["id"]

    def ids(status: str) -> list[str]:
        return [c["id"] for c in all_pages(api, owner, "/v1/campaigns", limit=2, status=status)]

    assert ids("draft") == drafts[::-1]
    assert ids("active") == [active]
    assert ids("cancelled") == [cancelled]
    assert ids("paused") == []
    api.call(
        "GET", "/v1/campaigns", headers=owner.auth, query={"status": "sleeping"}
    ).assert_problem(422)


def test_a_list_cursor_is_bound_to_its_filter(api: ApiClient, owner: Account) -> None:
    for _ in range(3):
        create_campaign(api, owner)
    cursor = api.call("GET", "/v1/campaigns", headers=owner.auth, query={"limit": "1"}).json()[
        "next_cursor"
    ]
    assert cursor
    api.call(
        "GET", "/v1/campaigns", headers=owner.auth, query={"status": "draft", "cursor": cursor}
    ).assert_problem(400)
    tampered = ("B" if cursor[0] != "B" else "C") + cursor[1:]
    api.call("GET", "/v1/campaigns", headers=owner.auth, query={"cursor": tampered}).assert_problem(
        400
    )


def test_patch_changes_fields_of_a_draft(api: ApiClient, owner: Account) -> None:
    campaign = create_campaign(api, owner, start_at="2026-12-01T00:00:00Z")
    response = api.call(
        "PATCH",
        f"/v1/campaigns/{campaign['id']}",
        headers=owner.auth,
        body={
            "name": "Autumn check",
            "variants": [{"name": "Only", "body": "Hello {company|friend}", "weight": 3}],
            "audience": {"tags": ["Leads", "leads ", "VIP"]},
            "daily_limit": 10,
            "send_window": {"start": "08:30", "end": "12:00", "days": ["tue"]},
            "start_at": None,
            "end_at": "2027-01-01T00:00:00Z",
        },
    )
    assert response.status == 200, response.text
    edited = response.json()
    assert edited["name"] == "Autumn check"
    assert edited["variants"] == [{"name": "Only", "body": "Hello {company|friend}", "weight": 3}]
    assert edited["audience"] == {"tags": ["leads", "vip"]}
    assert edited["daily_limit"] == 10
    assert edited["send_window"] == {"start": "08:30", "end": "12:00", "days": ["tue"]}
    assert edited["start_at"] is None
    assert edited["end_at"] == "2027-01-01T00:00:00.000Z"
    assert edited["timezone"] == campaign["timezone"]
    assert edited["created_at"] == campaign["created_at"]
    assert ISO_UTC.match(edited["updated_at"])
    assert get_campaign(api, owner, campaign["id"]) == edited


def test_patch_that_puts_start_after_the_stored_end_is_422(api: ApiClient, owner: Account) -> None:
    campaign = create_campaign(api, owner, end_at="2026-12-01T00:00:00Z")
    problem = api.call(
        "PATCH",
        f"/v1/campaigns/{campaign['id']}",
        headers=owner.auth,
        body={"start_at": "2026-12-02T00:00:00Z"},
    ).assert_problem(422)
    assert ["body", "end_at"] in [e["loc"] for e in problem["errors"]]
    assert get_campaign(api, owner, campaign["id"]) == campaign


def test_patch_with_template_shorthand_replaces_the_variants(
    api: ApiClient, owner: Account
) -> None:
    campaign = create_campaign(api, owner, variants=[{"name": "X", "body": "x", "weight": 1}])
    response = api.call(
        "PATCH",
        f"/v1/campaigns/{campaign['id']}",
        headers=owner.auth,
        body={"template_a": "one", "template_b": "two"},
    )
    assert response.status == 200, response.text
    assert response.json()["variants"] == [
        {"name": "A", "body": "one", "weight": 50},
        {"name": "B", "body": "two", "weight": 50},
    ]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"name": None}, ["body", "name"], id="null name"),
        pytest.param({"daily_limit": 0}, ["body", "daily_limit"], id="daily_limit 0"),
        pytest.param({"template_a": "only a"}, ["body", "template_b"], id="only template_a"),
        pytest.param(
            {"template_a": "a", "template_b": "b", "variants": [variant("A")]},
            ["body", "template_a"],
            id="variants and templates",
        ),
        pytest.param(
            {"start_at": "2026-12-01T00:00:00Z", "end_at": "2026-11-01T00:00:00Z"},
            ["body", "end_at"],
            id="start_at after end_at",
        ),
        pytest.param(
            {"variants": [{"name": "A", "body": "Hi {nope}"}]},
            ["body", "variants", 0, "body"],
            id="unknown placeholder",
        ),
    ],
)
def test_invalid_patch_is_422_and_changes_nothing(
    api: ApiClient, owner: Account, body: dict[str, Any], loc: list[Any]
) -> None:
    campaign = create_campaign(api, owner)
    problem = api.call(
        "PATCH", f"/v1/campaigns/{campaign['id']}", headers=owner.auth, body=body
    ).assert_problem(422)
    assert loc in [e["loc"] for e in problem["errors"]]
    assert get_campaign(api, owner, campaign["id"]) == campaign


def test_delete_removes_a_draft(api: ApiClient, owner: Account) -> None:
    campaign = create_campaign(api, owner)
    response = api.call("DELETE", f"/v1/campaigns/{campaign['id']}", headers=owner.auth)
    assert response.status == 204
    api.call("GET", f"/v1/campaigns/{campaign['id']}", headers=owner.auth).assert_problem(404)
    assert api.call("GET", "/v1/campaigns", headers=owner.auth).json()["items"] == []


def test_campaign_routes_need_a_login(api: ApiClient, owner: Account) -> None:
    campaign = create_campaign(api, owner)
    api.call("GET", "/v1/campaigns").assert_problem(401)
    api.call("GET", f"/v1/campaigns/{campaign['id']}").assert_problem(401)
    api.call("POST", "/v1/campaigns", body=campaign_body()).assert_problem(401)
    act(api, Account("", "", {}, {}, "forged", ""), campaign["id"], "start").assert_problem(401)


# --- Validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        pytest.param({"variants": []}, ["body", "variants"], id="no variants"),
        pytest.param(
            {"variants": [variant(n) for n in "ABCDEF"]}, ["body", "variants"], id="6 variants"
        ),
        pytest.param(
            {"variants": [variant("A", weight=0)]}, ["body", "variants", 0, "weight"], id="weight 0"
        ),
        pytest.param(
            {"variants": [variant("A"), variant("B", weight=-5)]},
            ["body", "variants", 1, "weight"],
            id="negative weight",
        ),
        pytest.param(
            {"variants": [variant("A", weight=1.5)]},
            ["body", "variants", 0, "weight"],
            id="fractional weight",
        ),
        pytest.param(
            {"variants": [variant("A", weight="5")]},
            ["body", "variants", 0, "weight"],
            id="weight as text",
        ),
        pytest.param(
            {"variants": [variant("A", weight=True)]},
            ["body", "variants", 0, "weight"],
            id="weight true",
        ),
        pytest.param(
            {"variants": [variant("A", weight=10_001)]},
            ["body", "variants", 0, "weight"],
            id="weight above 10000",
        ),
        pytest.param(
            {"variants": [variant("A"), variant("A")]}, ["body", "variants"], id="duplicate names"
        ),
        pytest.param({"template_a": "Hi"}, ["body", "template_a"], id="variants and template_a"),
        pytest.param(
            {"variants": OMIT, "template_a": "Hi"}, ["body", "template_b"], id="only template_a"
        ),
        pytest.param(
            {"variants": OMIT, "template_b": "Hi"}, ["body", "template_a"], id="only template_b"
        ),
        pytest.param({"variants": OMIT}, ["body", "variants"], id="no variants nor templates"),
        pytest.param({"daily_limit": 0}, ["body", "daily_limit"], id="daily_limit 0"),
        pytest.param({"daily_limit": 126}, ["body", "daily_limit"], id="daily_limit 126"),
        pytest.param({"timezone": "Mars/Olympus"}, ["body", "timezone"], id="bad timezone"),
        pytest.param(
            {"send_window": {**WINDOW, "start": "18:00"}},
            ["body", "send_window", "end"],
            id="window start equals end",
        ),
        pytest.param(
            {"send_window": {**WINDOW, "end": "25:00"}},
            ["body", "send_window", "end"],
            id="window end not a time",
        ),
        pytest.param(
            {"send_window": {**WINDOW, "days": ["mon", "funday"]}},
            ["body", "send_window", "days", 1],
            id="bad day name",
        ),
        pytest.param(
            {"send_window": {**WINDOW, "days": []}}, ["body", "send_window", "days"], id="no days"
        ),
        pytest.param(
            {"start_at": "2026-12-02T00:00:00Z", "end_at": "2026-12-01T00:00:00Z"},
            ["body", "end_at"],
            id="start_at after end_at",
        ),
        pytest.param(
            {"start_at": "2026-12-01T05:00:00Z", "end_at": "2026-12-01T00:00:00-05:00"},
            ["body", "end_at"],
            id="start_at equals end_at",
        ),
        pytest.param(
            {"start_at": "2026-12-01T09:00:00"}, ["body", "start_at"], id="naive start_at"
        ),
        pytest.param({"audience": {}}, ["body", "audience"], id="audience of none"),
        pytest.param(
            {"audience": {"all": True, "tags": ["leads"]}},
            ["body", "audience"],
            id="audience of two",
        ),
        pytest.param({"audience": {"all": False}}, ["body", "audience", "all"], id="all false"),
        pytest.param({"audience": {"tags": []}}, ["body", "audience", "tags"], id="no tags"),
        pytest.param(
            {"audience": {"tags": ["leads", "  "]}},
            ["body", "audience", "tags", 1],
            id="blank tag",
        ),
        pytest.param(
            {"audience": {"contact_ids": []}},
            ["body", "audience", "contact_ids"],
            id="no contact ids",
        ),
        pytest.param(
            {"variants": [variant("A", body="")]}, ["body", "variants", 0, "body"], id="empty body"
        ),
        pytest.param(
            {"variants": [variant("A", body="a" * 1601)]},
            ["body", "variants", 0, "body"],
            id="body over 1600",
        ),
        pytest.param({"name": ""}, ["body", "name"], id="empty name"),
        pytest.param({"colour": "red"}, ["body", "colour"], id="unknown field"),
    ],
)
def test_invalid_create_is_422_naming_the_field(
    api: ApiClient, owner: Account, changes: dict[str, Any], loc: list[Any]
) -> None:
    response = api.call("POST", "/v1/campaigns", headers=owner.auth, body=campaign_body(**changes))
    problem = response.assert_problem(422)
    assert loc in [e["loc"] for e in problem["errors"]], problem["errors"]
    assert all(e["msg"] for e in problem["errors"])
    assert api.call("GET", "/v1/campaigns", headers=owner.auth).json()["items"] == []


def test_a_body_of_exactly_1600_characters_is_accepted(api: ApiClient, owner: Account) -> None:
    create_campaign(api, owner, variants=[variant("A", body="a" * 1600)])


@pytest.mark.parametrize(
    ("bad_body", "message"),
    [
        pytest.param(
            "Hi {foo}, spring check?", "unknown placeholder {foo} at position 3", id="foo"
        ),
        pytest.param("Hi {first_name}} there", "stray '}' at position 15", id="stray close"),
        pytest.param("Hi {first_name there", "unclosed '{' at position 3", id="unclosed"),
    ],
)
def test_a_bad_placeholder_names_the_variant_and_position(
    api: ApiClient, owner: Account, bad_body: str, message: str
) -> None:
    body = campaign_body(variants=[variant("Short"), variant("Long", body=bad_body)])
    problem = api.call("POST", "/v1/campaigns", headers=owner.auth, body=body).assert_problem(422)
    [error] = problem["errors"]
    assert error["loc"] == ["body", "variants", 1, "body"]
    assert "variant 'Long'" in error["msg"]
    assert message in error["msg"]


def test_a_bad_placeholder_in_template_b_names_variant_b(api: ApiClient, owner: Account) -> None:
    body = campaign_body(variants=OMIT, template_a="Hi {first_name}", template_b="Hey {nick}")
    problem = api.call("POST", "/v1/campaigns", headers=owner.auth, body=body).assert_problem(422)
    [error] = problem["errors"]
    assert "variant 'B'" in error["msg"]
    assert "unknown placeholder {nick} at position 4" in error["msg"]


# --- Defaults ---------------------------------------------------------------------------


def test_defaults(api: ApiClient, owner: Account) -> None:
    campaign = create_campaign(api, owner)
    assert campaign["daily_limit"] == 125
    assert campaign["timezone"] == "America/New_York"
    assert campaign["send_window"] == {
        "start": "09:00",
        "end": "18:00",
        "days": ["mon", "tue", "wed", "thu", "fri"],
    }
    assert campaign["start_at"] is None and campaign["end_at"] is None


def test_timezone_defaults_to_the_organizations(
    api: ApiClient, identity: ApiClient, owner: Account
) -> None:
    set_organization(identity, owner, timezone="America/Denver")
    assert create_campaign(api, owner)["timezone"] == "America/Denver"
    assert create_campaign(api, owner, timezone="Europe/Paris")["timezone"] == "Europe/Paris"


def test_template_shorthand_makes_variants_a_and_b_half_and_half(
    api: ApiClient, owner: Account
) -> None:
    campaign = create_campaign(
        api, owner, variants=OMIT, template_a="Hi {first_name|there}", template_b="Hey!"
    )
    assert campaign["variants"] == [
        {"name": "A", "body": "Hi {first_name|there}", "weight": 50},
        {"name": "B", "body": "Hey!", "weight": 50},
    ]


def test_a_variant_weight_defaults_to_1(api: ApiClient, owner: Account) -> None:
    campaign = create_campaign(api, owner, variants=[{"name": "Solo", "body": "Hello"}])
    assert campaign["variants"] == [{"name": "Solo", "body": "Hello", "weight": 1}]


# --- Lifecycle --------------------------------------------------------------------------

LEGAL_MOVES = {
    ("draft", "start"): "active",
    ("draft", "cancel"): "cancelled",
    ("active", "pause"): "paused",
    ("active", "cancel"): "cancelled",
    ("paused", "resume"): "active",
    ("paused", "cancel"): "cancelled",
}
STATUSES = ["draft", "active", "paused", "cancelled", "completed"]
ACTIONS = ["start", "pause", "resume", "cancel"]


@pytest.mark.parametrize(("status", "action"), list(LEGAL_MOVES))
def test_legal_move(api: ApiClient, owner: Account, status: str, action: str) -> None:
    campaign = campaign_in(api, owner, status)
    response = act(api, owner, campaign["id"], action)
    assert response.status == 200, response.text
    moved = response.json()
    assert moved["status"] == LEGAL_MOVES[status, action]
    assert moved.keys() == CAMPAIGN_FIELDS
    assert moved["updated_at"] >= campaign["updated_at"]
    assert get_campaign(api, owner, campaign["id"]) == moved
    if moved["status"] == "cancelled":
        assert ISO_UTC.match(moved["completed_at"])
    if action == "start":
        assert ISO_UTC.match(moved["started_at"])


@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for s in STATUSES for a in ACTIONS if (s, a) not in LEGAL_MOVES],
)
def test_illegal_move_is_409_and_changes_nothing(
    api: ApiClient, owner: Account, status: str, action: str
) -> None:
    campaign = campaign_in(api, owner, status)
    act(api, owner, campaign["id"], action).assert_problem(409)
    assert get_campaign(api, owner, campaign["id"]) == campaign


@pytest.mark.parametrize("status", STATUSES)
def test_patch_only_while_draft_or_paused(api: ApiClient, owner: Account, status: str) -> None:
    campaign = campaign_in(api, owner, status)
    response = api.call(
        "PATCH", f"/v1/campaigns/{campaign['id']}", headers=owner.auth, body={"name": "Renamed"}
    )
    if status in ("draft", "paused"):
        assert response.status == 200, response.text
        assert get_campaign(api, owner, campaign["id"])["name"] == "Renamed"
    else:
        response.assert_problem(409)
        assert get_campaign(api, owner, campaign["id"]) == campaign


@pytest.mark.parametrize("status", STATUSES)
def test_delete_only_while_draft(api: ApiClient, owner: Account, status: str) -> None:
    campaign = campaign_in(api, owner, status)
    response = api.call("DELETE", f"/v1/campaigns/{campaign['id']}", headers=owner.auth)
    if status == "draft":
        assert response.status == 204
        api.call("GET", f"/v1/campaigns/{campaign['id']}", headers=owner.auth).assert_problem(404)
    else:
        response.assert_problem(409)
        assert get_campaign(api, owner, campaign["id"]) == campaign


def test_start_without_a_sender_number_is_409(
    api: ApiClient, identity: ApiClient, contacts: ApiClient
) -> None:
    lone = register(identity, "solo@lone.test", "Lone Masonry")
    add_contact(contacts, lone, "+16175550101")
    campaign = create_campaign(api, lone)
    problem = act(api, lone, campaign["id"], "start").assert_problem(409)
    assert "sender_number" in problem["detail"]
    assert get_campaign(api, lone, campaign["id"]) == campaign
    assert stats(api, lone, campaign["id"])["recipients"] == 0
    assert sends(api, lone, campaign["id"]) == []

    set_organization(identity, lone, sender_number=SENDER)
    assert act(api, lone, campaign["id"], "start").json()["recipients"] == 1


def test_a_member_may_run_a_campaign(
    api: ApiClient, identity: ApiClient, owner: Account, people: dict[str, Any]
) -> None:
    member = add_user(identity, owner, "staff@acme.test")
    campaign = create_campaign(api, member)
    assert act(api, member, campaign["id"], "start").json()["recipients"] == 4
    assert act(api, member, campaign["id"], "pause").json()["status"] == "paused"
    assert get_campaign(api, owner, campaign["id"])["status"] == "paused"


def test_starting_twice_is_409_and_keeps_the_snapshot(
    api: ApiClient, contacts: ApiClient, owner: Account, people: dict[str, Any]
) -> None:
    campaign = create_campaign(api, owner)
    started = act(api, owner, campaign["id"], "start").json()
    add_contact(contacts, owner, "+16175550106")
    act(api, owner, campaign["id"], "start").assert_problem(409)
    assert get_campaign(api, owner, campaign["id"]) == started
    assert stats(api, owner, campaign["id"])["recipients"] == 4
    assert len(sends(api, owner, campaign["id"])) == 4


def test_a_paused_campaign_keeps_its_audience(
    api: ApiClient, owner: Account, people: dict[str, Any]
) -> None:
    campaign = campaign_in(api, owner, "paused")
    path = f"/v1/campaigns/{campaign['id']}"
    api.call(
        "PATCH", path, headers=owner.auth, body={"audience": {"tags": ["leads"]}}
    ).assert_problem(409)
    assert get_campaign(api, owner, campaign["id"]) == campaign


def test_a_paused_campaign_may_restate_its_audience(
    api: ApiClient, owner: Account, people: dict[str, Any]
) -> None:
    campaign = campaign_in(api, owner, "paused", audience={"tags": ["leads", "customers"]})
    response = api.call(
        "PATCH",
        f"/v1/campaigns/{campaign['id']}",
        headers=owner.auth,
        body={"audience": {"tags": ["Customers", "leads"]}, "name": "Renamed"},
    )
    assert response.status == 200, response.text
    assert response.json()["name"] == "Renamed"


def test_a_paused_campaign_keeps_its_variant_names(
    api: ApiClient, owner: Account, people: dict[str, Any]
) -> None:
    campaign = campaign_in(api, owner, "paused")
    path = f"/v1/campaigns/{campaign['id']}"
    for variants in (
        [variant("A"), variant("C")],
        [variant("A")],
        [variant("A"), variant("B"), variant("C")],
    ):
        api.call("PATCH", path, headers=owner.auth, body={"variants": variants}).assert_problem(409)
    assert get_campaign(api, owner, campaign["id"]) == campaign


def test_a_paused_campaign_may_change_a_body(
    api: ApiClient, owner: Account, people: dict[str, Any]
) -> None:
    campaign = campaign_in(api, owner, "paused")
    before = sends(api, owner, campaign["id"])
    new_variants = [variant("A", "Hi {first_name|there}, new text"), variant("B", "Hey again")]
    response = api.call(
        "PATCH",
        f"/v1/campaigns/{campaign['id']}",
        headers=owner.auth,
        body={"variants": new_variants, "daily_limit": 20},
    )
    assert response.status == 200, response.text
    edited = response.json()
    assert edited["variants"] == new_variants
    assert edited["daily_limit"] == 20
    assert edited["status"] == "paused"
    assert edited["recipients"] == campaign["recipients"]
    assert sends(api, owner, campaign["id"]) == before
    assert act(api, owner, campaign["id"], "resume").json()["variants"] == new_variants


def test_a_completed_campaign_stays_listed_as_completed(api: ApiClient, owner: Account) -> None:
    campaign = campaign_in(api, owner, "completed")
    listed = all_pages(api, owner, "/v1/campaigns", status="completed")
    assert [c["id"] for c in listed] == [campaign["id"]]
    assert all_pages(api, owner, "/v1/campaigns", status="active") == []


# --- Start: the audience snapshot -------------------------------------------------------

AUDIENCES = [
    pytest.param(lambda p: {"all": True}, {"dana", "eli", "fay", "gus"}, id="all"),
    pytest.param(lambda p: {"tags": ["leads"]}, {"dana", "fay"}, id="one tag"),
    pytest.param(
        lambda p: {"tags": ["LEADS", "customers", "nobody"]}, {"dana", "eli", "fay"}, id="any tag"
    ),
    pytest.param(
        lambda p: {
            "contact_ids": [p["dana"]["id"], p["gus"]["id"], p["hal"]["id"], MISSING_ID, "nope"]
        },
        {"dana", "gus"},
        id="contact ids",
    ),
]


@pytest.mark.parametrize(("audience", "expected"), AUDIENCES)
def test_start_snapshots_the_audience_minus_opt_outs(
    api: ApiClient,
    owner: Account,
    people: dict[str, dict[str, Any]],
    audience: Any,
    expected: set[str],
) -> None:
    campaign = create_campaign(api, owner, audience=audience(people))
    started = act(api, owner, campaign["id"], "start").json()
    assert started["status"] == "active"
    assert started["recipients"] == len(expected)

    listed = sends(api, owner, campaign["id"])
    by_id = {p["id"]: name for name, p in people.items()}
    assert sorted(by_id[s["contact_id"]] for s in listed) == sorted(expected)
    weights = [("A", 50), ("B", 50)]
    for send in listed:
        assert send.keys() == SEND_FIELDS
        assert send["phone"] == people[by_id[send["contact_id"]]]["phone"]
        assert send["status"] == "pending"
        assert send["variant"] == assign_variant(campaign["id"], send["contact_id"], weights)
        assert send["attempts"] == 0
        assert send["provider_message_id"] is None and send["sent_at"] is None
        assert ISO_UTC.match(send["updated_at"])
    assert sends(api, owner, campaign["id"], status="pending") == listed


def test_stats_right_after_start(api: ApiClient, owner: Account, people: dict[str, Any]) -> None:
    campaign = create_campaign(api, owner, daily_limit=3)
    act(api, owner, campaign["id"], "start")
    result = stats(api, owner, campaign["id"])
    assert result.keys() >= STATS_FIELDS
    assert result["status"] == "active"
    assert result["recipients"] == result["pending"] == 4
    for count in ("sent", "delivered", "failed", "skipped", "replies", "opt_outs"):
        assert result[count] == 0, count
    assert result["sends_today"] == 0
    assert result["daily_limit"] == 3
    assert result["winner"] is None
    assert [v["name"] for v in result["variants"]] == ["A", "B"]
    assert all(v.keys() == VARIANT_STATS_FIELDS for v in result["variants"])
    assert sum(v["recipients"] for v in result["variants"]) == 4
    split = {
        name: sum(s["variant"] == name for s in sends(api, owner, campaign["id"]))
        for name in ("A", "B")
    }
    assert {v["name"]: v["recipients"] for v in result["variants"]} == split
    assert all(v["reply_rate"] == 0 for v in result["variants"])


def test_stats_of_a_draft_are_zero(api: ApiClient, owner: Account) -> None:
    campaign = create_campaign(api, owner)
    result = stats(api, owner, campaign["id"])
    assert result["status"] == "draft"
    assert result["recipients"] == result["pending"] == result["sends_today"] == 0
    assert [(v["name"], v["recipients"]) for v in result["variants"]] == [("A", 0), ("B", 0)]
    assert result["winner"] is None


def test_an_opt_out_after_start_keeps_the_snapshot(
    api: ApiClient, contacts: ApiClient, owner: Account, people: dict[str, Any]
) -> None:
    campaign = create_campaign(api, owner)
    act(api, owner, campaign["id"], "start")
    opt_out(contacts, owner, people["dana"]["phone"])
    # Suppression at send time is the engine's job; the snapshot is not rewritten.
    assert stats(api, owner, campaign["id"])["recipients"] == 4


def test_cancel_skips_every_pending_recipient(
    api: ApiClient, owner: Account, people: dict[str, Any]
) -> None:
    campaign = campaign_in(api, owner, "paused")
    cancelled = act(api, owner, campaign["id"], "cancel").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["recipients"] == 4
    result = stats(api, owner, campaign["id"])
    assert result["status"] == "cancelled"
    assert result["pending"] == 0
    assert result["skipped"] == result["recipients"] == 4
    assert sum(v["recipients"] for v in result["variants"]) == 4
    assert sends(api, owner, campaign["id"], status="pending") == []
    skipped = sends(api, owner, campaign["id"], status="skipped")
    assert len(skipped) == 4
    assert all(s["status"] == "skipped" for s in skipped)
    assert {s["contact_id"] for s in skipped} == {
        s["contact_id"] for s in sends(api, owner, campaign["id"])
    }


def test_two_campaigns_with_one_audience_may_split_it_differently(
    api: ApiClient, contacts: ApiClient, owner: Account
) -> None:
    for index in range(8):
        add_contact(contacts, owner, f"+1617555{110 + index:04d}")

    def assignment() -> dict[str, str]:
        campaign = create_campaign(api, owner)
        act(api, owner, campaign["id"], "start")
        return {s["contact_id"]: s["variant"] for s in sends(api, owner, campaign["id"], limit=50)}

    # Campaigns draw independently: 8 fair coins agree with probability 1/256, five in a row
    # with about 1e-12.
    first = assignment()
    assert any(assignment() != first for _ in range(5))


def test_sends_filter_by_status_and_reject_a_cursor_of_another_filter(
    api: ApiClient, owner: Account, people: dict[str, Any]
) -> None:
    campaign = campaign_in(api, owner, "active")
    path = f"/v1/campaigns/{campaign['id']}/sends"
    assert sends(api, owner, campaign["id"], status="sent") == []
    cursor = api.call("GET", path, headers=owner.auth, query={"limit": "1"}).json()["next_cursor"]
    assert cursor
    api.call(
        "GET", path, headers=owner.auth, query={"status": "pending", "cursor": cursor}
    ).assert_problem(400)
    other = campaign_in(api, owner, "active")
    api.call(
        "GET", f"/v1/campaigns/{other['id']}/sends", headers=owner.auth, query={"cursor": cursor}
    ).assert_problem(400)
    api.call("GET", path, headers=owner.auth, query={"status": "lost"}).assert_problem(422)


# --- Preview ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "measured"),
    [
        pytest.param("a" * 160, ("GSM-7", 160, 1), id="gsm 160"),
        pytest.param("a" * 161, ("GSM-7", 161, 2), id="gsm 161"),
        pytest.param("a" * 306, ("GSM-7", 306, 2), id="gsm 306"),
        pytest.param("a" * 307, ("GSM-7", 307, 3), id="gsm 307"),
        pytest.param("ж" * 70, ("UCS-2", 70, 1), id="ucs2 70"),
        pytest.param("ж" * 71, ("UCS-2", 71, 2), id="ucs2 71"),
        pytest.param("a" * 158 + "€", ("GSM-7", 159, 1), id="escape at 160 septets"),
        pytest.param("a" * 159 + "€", ("GSM-7", 160, 2), id="escape at 161 septets"),
        pytest.param("a" * 159 + "^", ("GSM-7", 160, 2), id="caret at 161 septets"),
        pytest.param("é" * 160, ("GSM-7", 160, 1), id="accented gsm 160"),
    ],
)
def test_preview_measures_segments(
    api: ApiClient, owner: Account, text: str, measured: tuple[str, int, int]
) -> None:
    campaign = create_campaign(api, owner, variants=[variant("A", body=text)])
    response = api.call("POST", f"/v1/campaigns/{campaign['id']}/preview", headers=owner.auth)
    assert response.status == 200, response.text
    [preview] = response.json()["variants"]
    assert preview["name"] == "A"
    assert preview["body"] == text
    assert (preview["encoding"], preview["characters"], preview["segments"]) == measured


PREVIEW_VARIANTS = [
    variant("A", "Hi {first_name|there}, {company|your company}: {attributes.crack|a crack}."),
    variant("B", "{last_name}{phone|?} {email|no email}"),
]


def test_preview_renders_a_contact(api: ApiClient, contacts: ApiClient, owner: Account) -> None:
    dana = add_contact(
        contacts,
        owner,
        "(617) 555-0101",
        first_name="Dana",
        last_name="Diaz",
        company="Acme",
        attributes={"crack": "north wall"},
    )
    campaign = create_campaign(api, owner, variants=PREVIEW_VARIANTS)
    response = api.call(
        "POST",
        f"/v1/campaigns/{campaign['id']}/preview",
        headers=owner.auth,
        body={"contact_id": dana["id"]},
    )
    assert response.status == 200, response.text
    assert [v["body"] for v in response.json()["variants"]] == [
        "Hi Dana, Acme: north wall.",
        "Diaz+16175550101 no email",
    ]


@pytest.mark.parametrize("body", [None, {}, {"contact_id": None}])
def test_preview_without_a_contact_uses_fallbacks(
    api: ApiClient, owner: Account, body: dict[str, Any] | None
) -> None:
    campaign = create_campaign(api, owner, variants=PREVIEW_VARIANTS)
    response = api.call(
        "POST", f"/v1/campaigns/{campaign['id']}/preview", headers=owner.auth, body=body
    )
    assert response.status == 200, response.text
    previews = response.json()["variants"]
    assert [(v["name"], v["body"]) for v in previews] == [
        ("A", "Hi there, your company: a crack."),
        ("B", "? no email"),
    ]
    assert previews[0] == {
        "name": "A",
        "body": "Hi there, your company: a crack.",
        "encoding": "GSM-7",
        "characters": 32,
        "segments": 1,
    }


def test_preview_for_an_unknown_contact_is_422(
    api: ApiClient, contacts: ApiClient, owner: Account, rival: Account
) -> None:
    stranger = add_contact(contacts, rival, "+16175550101", first_name="Stranger")
    campaign = create_campaign(api, owner)
    for contact_id in (MISSING_ID, "nope", stranger["id"]):
        problem = api.call(
            "POST",
            f"/v1/campaigns/{campaign['id']}/preview",
            headers=owner.auth,
            body={"contact_id": contact_id},
        ).assert_problem(422)
        assert ["body", "contact_id"] in [e["loc"] for e in problem["errors"]]
        assert "Stranger" not in problem["detail"]


# --- Organizations are walled off ------------------------------------------------------


class Route(NamedTuple):
    """A route on one campaign, and the status in which its owner may call it."""

    method: str
    suffix: str
    body: dict[str, Any] | None
    ready: str

    def call(self, api: ApiClient, who: Account, campaign_id: str) -> ApiResponse:
        path = f"/v1/campaigns/{campaign_id}{self.suffix}"
        return api.call(self.method, path, headers=who.auth, body=self.body)


ROUTES = {
    "get": Route("GET", "", None, "draft"),
    "patch": Route("PATCH", "", {"name": "Hijacked"}, "draft"),
    "delete": Route("DELETE", "", None, "draft"),
    "preview": Route("POST", "/preview", {}, "draft"),
    "start": Route("POST", "/start", None, "draft"),
    "pause": Route("POST", "/pause", None, "active"),
    "resume": Route("POST", "/resume", None, "paused"),
    "cancel": Route("POST", "/cancel", None, "active"),
    "stats": Route("GET", "/stats", None, "active"),
    "sends": Route("GET", "/sends", None, "active"),
}


@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
def test_another_organization_gets_404_and_changes_nothing(
    api: ApiClient, owner: Account, rival: Account, people: dict[str, Any], route: Route
) -> None:
    campaign = campaign_in(api, owner, route.ready)
    before = stats(api, owner, campaign["id"])
    problem = route.call(api, rival, campaign["id"]).assert_problem(404)
    assert campaign["id"] not in problem["detail"]
    assert get_campaign(api, owner, campaign["id"]) == campaign
    assert stats(api, owner, campaign["id"]) == before


def test_another_organizations_list_cursors_are_400(
    api: ApiClient, owner: Account, rival: Account, people: dict[str, Any]
) -> None:
    campaign = campaign_in(api, owner, "active")
    create_campaign(api, owner)
    list_cursor = api.call("GET", "/v1/campaigns", headers=owner.auth, query={"limit": "1"}).json()[
        "next_cursor"
    ]
    sends_path = f"/v1/campaigns/{campaign['id']}/sends"
    sends_cursor = api.call("GET", sends_path, headers=owner.auth, query={"limit": "1"}).json()[
        "next_cursor"
    ]
    assert list_cursor and sends_cursor

    api.call(
        "GET", "/v1/campaigns", headers=rival.auth, query={"cursor": list_cursor}
    ).assert_problem(400)
    api.call("GET", sends_path, headers=rival.auth, query={"cursor": sends_cursor}).assert_problem(
        400
    )
    own = campaign_in(api, rival, "active")
    api.call(
        "GET",
        f"/v1/campaigns/{own['id']}/sends",
        headers=rival.auth,
        query={"cursor": sends_cursor},
    ).assert_problem(400)


def test_another_organizations_campaigns_are_not_listed(
    api: ApiClient, owner: Account, rival: Account, people: dict[str, Any]
) -> None:
    mine = campaign_in(api, owner, "active")
    theirs = create_campaign(api, rival, name="Rival campaign")
    assert [c["id"] for c in all_pages(api, rival, "/v1/campaigns")] == [theirs["id"]]
    assert all_pages(api, rival, "/v1/campaigns", status="active") == []
    assert [c["id"] for c in all_pages(api, owner, "/v1/campaigns")] == [mine["id"]]


def test_another_organizations_contacts_are_not_an_audience(
    api: ApiClient, owner: Account, rival: Account, people: dict[str, dict[str, Any]]
) -> None:
    ids = [p["id"] for p in people.values()]
    for audience in ({"all": True}, {"tags": ["leads"]}, {"contact_ids": ids}):
        campaign = create_campaign(api, rival, audience=audience)
        assert act(api, rival, campaign["id"], "start").json()["recipients"] == 0
        assert sends(api, rival, campaign["id"]) == []


@pytest.mark.parametrize("campaign_id", ["nope", "x" * 3000, MISSING_ID])
def test_an_unknown_id_is_404_on_every_route(
    api: ApiClient, owner: Account, campaign_id: str
) -> None:
    for name, route in ROUTES.items():
        response = route.call(api, owner, campaign_id)
        assert response.status == 404, (name, response.status, response.text)
        response.assert_problem(404)
