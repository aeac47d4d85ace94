"""Authoring campaigns through the campaigns handler: create, read, list, edit, delete,
validation, defaults and preview (`api-contract.md`, "Campaigns")."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.campaigns.support import (
    CAMPAIGN_FIELDS,
    ISO_UTC,
    MISSING_ID,
    OMIT,
    WINDOW,
    CampaignsApi,
    Organizations,
    campaign_body,
    variant,
)
from tests.integration.identity_support import Account

# --- Create, read, list, edit, delete -----------------------------------------------------


@pytest.mark.dynamodb
def test_create_answers_a_draft_in_the_contract_shape(api: CampaignsApi, owner: Account) -> None:
    campaign = api.create(
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
    assert api.get(owner, campaign["id"]) == campaign


def test_lists_newest_first_in_pages(api: CampaignsApi, owner: Account) -> None:
    made = []
    for index in range(5):
        made.append(api.create(owner, name=f"Campaign {index}")["id"])
        time.sleep(0.002)  # ids order by the millisecond
    listed = api.all_pages(owner, "/v1/campaigns", limit=2)
    assert [c["id"] for c in listed] == made[::-1]
    assert all(c.keys() == CAMPAIGN_FIELDS for c in listed)


def test_lists_by_status_in_pages(api: CampaignsApi, owner: Account) -> None:
    drafts = []
    for _ in range(3):
        drafts.append(api.create(owner)["id"])
        time.sleep(0.002)
    active = api.campaign_in(owner, "active")["id"]
    cancelled = api.campaign_in(owner, "cancelled")["id"]

    def ids(status: str) -> list[str]:
        return [c["id"] for c in api.all_pages(owner, "/v1/campaigns", limit=2, status=status)]

    assert ids("draft") == drafts[::-1]
    assert ids("active") == [active]
    assert ids("cancelled") == [cancelled]
    assert ids("paused") == []
    api.call(
        "GET", "/v1/campaigns", headers=owner.auth, query={"status": "sleeping"}
    ).assert_problem(422)


def test_a_list_cursor_is_bound_to_its_filter(api: CampaignsApi, owner: Account) -> None:
    for _ in range(3):
        api.create(owner)
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


def test_patch_changes_fields_of_a_draft(api: CampaignsApi, owner: Account) -> None:
    campaign = api.create(owner, start_at="2026-12-01T00:00:00Z")
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
    assert api.get(owner, campaign["id"]) == edited


def test_patch_that_puts_start_after_the_stored_end_is_422(
    api: CampaignsApi, owner: Account
) -> None:
    campaign = api.create(owner, end_at="2026-12-01T00:00:00Z")
    problem = api.call(
        "PATCH",
        f"/v1/campaigns/{campaign['id']}",
        headers=owner.auth,
        body={"start_at": "2026-12-02T00:00:00Z"},
    ).assert_problem(422)
    assert ["body", "end_at"] in [e["loc"] for e in problem["errors"]]
    assert api.get(owner, campaign["id"]) == campaign


def test_patch_with_template_shorthand_replaces_the_variants(
    api: CampaignsApi, owner: Account
) -> None:
    campaign = api.create(owner, variants=[{"name": "X", "body": "x", "weight": 1}])
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
    api: CampaignsApi, owner: Account, body: dict[str, Any], loc: list[Any]
) -> None:
    campaign = api.create(owner)
    problem = api.call(
        "PATCH", f"/v1/campaigns/{campaign['id']}", headers=owner.auth, body=body
    ).assert_problem(422)
    assert loc in [e["loc"] for e in problem["errors"]]
    assert api.get(owner, campaign["id"]) == campaign


def test_delete_removes_a_draft(api: CampaignsApi, owner: Account) -> None:
    campaign = api.create(owner)
    response = api.call("DELETE", f"/v1/campaigns/{campaign['id']}", headers=owner.auth)
    assert response.status == 204
    api.call("GET", f"/v1/campaigns/{campaign['id']}", headers=owner.auth).assert_problem(404)
    assert api.call("GET", "/v1/campaigns", headers=owner.auth).json()["items"] == []


@pytest.mark.dynamodb
def test_campaign_routes_need_a_login(api: CampaignsApi, owner: Account) -> None:
    campaign = api.create(owner)
    api.call("GET", "/v1/campaigns").assert_problem(401)
    api.call("GET", f"/v1/campaigns/{campaign['id']}").assert_problem(401)
    api.call("POST", "/v1/campaigns", body=campaign_body()).assert_problem(401)
    api.act(Account("", "", {}, {}, "forged", ""), campaign["id"], "start").assert_problem(401)


# --- Validation ---------------------------------------------------------------------------


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
    api: CampaignsApi, owner: Account, changes: dict[str, Any], loc: list[Any]
) -> None:
    response = api.call("POST", "/v1/campaigns", headers=owner.auth, body=campaign_body(**changes))
    problem = response.assert_problem(422)
    assert loc in [e["loc"] for e in problem["errors"]], problem["errors"]
    assert all(e["msg"] for e in problem["errors"])
    assert api.call("GET", "/v1/campaigns", headers=owner.auth).json()["items"] == []


def test_a_body_of_exactly_1600_characters_is_accepted(api: CampaignsApi, owner: Account) -> None:
    api.create(owner, variants=[variant("A", body="a" * 1600)])


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
    api: CampaignsApi, owner: Account, bad_body: str, message: str
) -> None:
    body = campaign_body(variants=[variant("Short"), variant("Long", body=bad_body)])
    problem = api.call("POST", "/v1/campaigns", headers=owner.auth, body=body).assert_problem(422)
    [error] = problem["errors"]
    assert error["loc"] == ["body", "variants", 1, "body"]
    assert "variant 'Long'" in error["msg"]
    assert message in error["msg"]


def test_a_bad_placeholder_in_template_b_names_variant_b(api: CampaignsApi, owner: Account) -> None:
    body = campaign_body(variants=OMIT, template_a="Hi {first_name}", template_b="Hey {nick}")
    problem = api.call("POST", "/v1/campaigns", headers=owner.auth, body=body).assert_problem(422)
    [error] = problem["errors"]
    assert "variant 'B'" in error["msg"]
    assert "unknown placeholder {nick} at position 4" in error["msg"]


# --- Defaults -----------------------------------------------------------------------------


@pytest.mark.dynamodb
def test_defaults(api: CampaignsApi, owner: Account) -> None:
    campaign = api.create(owner)
    assert campaign["daily_limit"] == 125
    assert campaign["timezone"] == "America/New_York"
    assert campaign["send_window"] == {
        "start": "09:00",
        "end": "18:00",
        "days": ["mon", "tue", "wed", "thu", "fri"],
    }
    assert campaign["start_at"] is None and campaign["end_at"] is None


def test_timezone_defaults_to_the_organizations(
    api: CampaignsApi, orgs: Organizations, owner: Account
) -> None:
    orgs.set_organization(owner, timezone="America/Denver")
    assert api.create(owner)["timezone"] == "America/Denver"
    assert api.create(owner, timezone="Europe/Paris")["timezone"] == "Europe/Paris"


def test_template_shorthand_makes_variants_a_and_b_half_and_half(
    api: CampaignsApi, owner: Account
) -> None:
    campaign = api.create(
        owner, variants=OMIT, template_a="Hi {first_name|there}", template_b="Hey!"
    )
    assert campaign["variants"] == [
        {"name": "A", "body": "Hi {first_name|there}", "weight": 50},
        {"name": "B", "body": "Hey!", "weight": 50},
    ]


def test_a_variant_weight_defaults_to_1(api: CampaignsApi, owner: Account) -> None:
    campaign = api.create(owner, variants=[{"name": "Solo", "body": "Hello"}])
    assert campaign["variants"] == [{"name": "Solo", "body": "Hello", "weight": 1}]


# --- Preview ------------------------------------------------------------------------------


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
    api: CampaignsApi, owner: Account, text: str, measured: tuple[str, int, int]
) -> None:
    campaign = api.create(owner, variants=[variant("A", body=text)])
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


def test_preview_renders_a_contact(api: CampaignsApi, orgs: Organizations, owner: Account) -> None:
    dana = orgs.add_contact(
        owner,
        "(617) 555-0101",
        first_name="Dana",
        last_name="Diaz",
        company="Acme",
        attributes={"crack": "north wall"},
    )
    campaign = api.create(owner, variants=PREVIEW_VARIANTS)
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
    api: CampaignsApi, owner: Account, body: dict[str, Any] | None
) -> None:
    campaign = api.create(owner, variants=PREVIEW_VARIANTS)
    response = api.call(
        "POST", f"/v1/campaigns/{campaign['id']}/preview", headers=owner.auth, body=body
    )
    assert response.status == 200, response.text
    previews = response.json()["variants"]
    assert [(v["name"], v["body"]) for v in previews] == [
        ("A", "Hi there, your company: a crack."),
        ("B", "? no email"),
    ]
    # Issue 15, point 7: the first message (footer appended) beside the repeat figures,
    # and the audience's share (this organization has no contacts).
    assert previews[0] == {
        "name": "A",
        "body": "Hi there, your company: a crack.",
        "encoding": "GSM-7",
        "characters": 32,
        "segments": 1,
        "first_message": {
            "body": "Hi there, your company: a crack.\nReply STOP to opt out",
            "encoding": "GSM-7",
            "characters": 54,
            "segments": 1,
        },
        "audience_recipients": 0,
        "audience_segments": 0,
    }


@pytest.mark.parametrize("raw", ["null", " null\n"])
def test_a_preview_body_of_null_is_a_422_as_the_document_says(
    api: CampaignsApi, owner: Account, raw: str
) -> None:
    # Issue 18: the body is an object or nothing (`required: false`); schemathesis sent
    # `null`, which the document does not allow, and got a 200.
    campaign = api.create(owner, variants=PREVIEW_VARIANTS)
    problem = api.call(
        "POST",
        f"/v1/campaigns/{campaign['id']}/preview",
        headers={**owner.auth, "content-type": "application/json"},
        raw_body=raw,
    ).assert_problem(422)
    assert problem["errors"] == [{"loc": ["body"], "msg": "give an object, or no body"}]
    assert problem["error_count"] == 1


def test_preview_for_an_unknown_contact_is_422(
    api: CampaignsApi, orgs: Organizations, owner: Account, rival: Account
) -> None:
    stranger = orgs.add_contact(rival, "+16175550101", first_name="Stranger")
    campaign = api.create(owner)
    for contact_id in (MISSING_ID, "nope", stranger["id"]):
        problem = api.call(
            "POST",
            f"/v1/campaigns/{campaign['id']}/preview",
            headers=owner.auth,
            body={"contact_id": contact_id},
        ).assert_problem(422)
        assert ["body", "contact_id"] in [e["loc"] for e in problem["errors"]]
        assert "Stranger" not in problem["detail"]
