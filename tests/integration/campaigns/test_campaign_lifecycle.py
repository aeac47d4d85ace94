"""The campaign lifecycle through the campaigns handler: the moves and their 409s,
edits while paused, and the audience snapshot a start takes (`api-contract.md`,
`sending-rules.md`)."""

from __future__ import annotations

from typing import Any

import pytest

from outreach.campaigns.variants import assign_variant
from tests.integration.campaigns.support import (
    CAMPAIGN_FIELDS,
    ISO_UTC,
    MISSING_ID,
    SEND_FIELDS,
    SENDER,
    CampaignsApi,
    Organizations,
    variant,
)
from tests.integration.identity_support import Account

# --- Moves --------------------------------------------------------------------------------


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
def test_legal_move(api: CampaignsApi, owner: Account, status: str, action: str) -> None:
    campaign = api.campaign_in(owner, status)
    response = api.act(owner, campaign["id"], action)
    assert response.status == 200, response.text
    moved = response.json()
    assert moved["status"] == LEGAL_MOVES[status, action]
    assert moved.keys() == CAMPAIGN_FIELDS
    assert moved["updated_at"] >= campaign["updated_at"]
    assert api.get(owner, campaign["id"]) == moved
    if moved["status"] == "cancelled":
        assert ISO_UTC.match(moved["completed_at"])
    if action == "start":
        assert ISO_UTC.match(moved["started_at"])


@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for s in STATUSES for a in ACTIONS if (s, a) not in LEGAL_MOVES],
)
def test_illegal_move_is_409_and_changes_nothing(
    api: CampaignsApi, owner: Account, status: str, action: str
) -> None:
    campaign = api.campaign_in(owner, status)
    api.act(owner, campaign["id"], action).assert_problem(409)
    assert api.get(owner, campaign["id"]) == campaign


@pytest.mark.parametrize("status", STATUSES)
def test_patch_only_while_draft_or_paused(api: CampaignsApi, owner: Account, status: str) -> None:
    campaign = api.campaign_in(owner, status)
    response = api.call(
        "PATCH", f"/v1/campaigns/{campaign['id']}", headers=owner.auth, body={"name": "Renamed"}
    )
    if status in ("draft", "paused"):
        assert response.status == 200, response.text
        assert api.get(owner, campaign["id"])["name"] == "Renamed"
    else:
        response.assert_problem(409)
        assert api.get(owner, campaign["id"]) == campaign


@pytest.mark.parametrize("status", STATUSES)
def test_delete_only_while_draft(api: CampaignsApi, owner: Account, status: str) -> None:
    campaign = api.campaign_in(owner, status)
    response = api.call("DELETE", f"/v1/campaigns/{campaign['id']}", headers=owner.auth)
    if status == "draft":
        assert response.status == 204
        api.call("GET", f"/v1/campaigns/{campaign['id']}", headers=owner.auth).assert_problem(404)
    else:
        response.assert_problem(409)
        assert api.get(owner, campaign["id"]) == campaign


def test_start_without_a_sender_number_is_409(api: CampaignsApi, orgs: Organizations) -> None:
    lone = orgs.account("solo@lone.test", "Lone Masonry")
    orgs.add_contact(lone, "+16175550101")
    campaign = api.create(lone)
    problem = api.act(lone, campaign["id"], "start").assert_problem(409)
    assert "sender_number" in problem["detail"]
    assert api.get(lone, campaign["id"]) == campaign
    assert api.stats(lone, campaign["id"])["recipients"] == 0
    assert api.sends(lone, campaign["id"]) == []

    orgs.set_organization(lone, sender_number=SENDER)
    assert api.act(lone, campaign["id"], "start").json()["recipients"] == 1


@pytest.mark.dynamodb
def test_a_member_may_run_a_campaign(
    api: CampaignsApi, orgs: Organizations, owner: Account, people: dict[str, Any]
) -> None:
    member = orgs.add_member(owner, "staff@acme.test")
    campaign = api.create(member)
    assert api.act(member, campaign["id"], "start").json()["recipients"] == 4
    assert api.act(member, campaign["id"], "pause").json()["status"] == "paused"
    assert api.get(owner, campaign["id"])["status"] == "paused"


def test_starting_twice_is_409_and_keeps_the_snapshot(
    api: CampaignsApi, orgs: Organizations, owner: Account, people: dict[str, Any]
) -> None:
    campaign = api.create(owner)
    started = api.act(owner, campaign["id"], "start").json()
    orgs.add_contact(owner, "+16175550106")
    api.act(owner, campaign["id"], "start").assert_problem(409)
    assert api.get(owner, campaign["id"]) == started
    assert api.stats(owner, campaign["id"])["recipients"] == 4
    assert len(api.sends(owner, campaign["id"])) == 4


def test_a_paused_campaign_keeps_its_audience(
    api: CampaignsApi, owner: Account, people: dict[str, Any]
) -> None:
    campaign = api.campaign_in(owner, "paused")
    path = f"/v1/campaigns/{campaign['id']}"
    api.call(
        "PATCH", path, headers=owner.auth, body={"audience": {"tags": ["leads"]}}
    ).assert_problem(409)
    assert api.get(owner, campaign["id"]) == campaign


def test_a_paused_campaign_may_restate_its_audience(
    api: CampaignsApi, owner: Account, people: dict[str, Any]
) -> None:
    campaign = api.campaign_in(owner, "paused", audience={"tags": ["leads", "customers"]})
    response = api.call(
        "PATCH",
        f"/v1/campaigns/{campaign['id']}",
        headers=owner.auth,
        body={"audience": {"tags": ["Customers", "leads"]}, "name": "Renamed"},
    )
    assert response.status == 200, response.text
    assert response.json()["name"] == "Renamed"


def test_a_paused_campaign_keeps_its_variant_names(
    api: CampaignsApi, owner: Account, people: dict[str, Any]
) -> None:
    campaign = api.campaign_in(owner, "paused")
    path = f"/v1/campaigns/{campaign['id']}"
    for variants in (
        [variant("A"), variant("C")],
        [variant("A")],
        [variant("A"), variant("B"), variant("C")],
    ):
        api.call("PATCH", path, headers=owner.auth, body={"variants": variants}).assert_problem(409)
    assert api.get(owner, campaign["id"]) == campaign


def test_a_paused_campaign_may_change_a_body(
    api: CampaignsApi, owner: Account, people: dict[str, Any]
) -> None:
    campaign = api.campaign_in(owner, "paused")
    before = api.sends(owner, campaign["id"])
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
    assert api.sends(owner, campaign["id"]) == before
    assert api.act(owner, campaign["id"], "resume").json()["variants"] == new_variants


def test_a_completed_campaign_stays_listed_as_completed(api: CampaignsApi, owner: Account) -> None:
    campaign = api.campaign_in(owner, "completed")
    listed = api.all_pages(owner, "/v1/campaigns", status="completed")
    assert [c["id"] for c in listed] == [campaign["id"]]
    assert api.all_pages(owner, "/v1/campaigns", status="active") == []


# --- Start: the audience snapshot ---------------------------------------------------------


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


@pytest.mark.dynamodb
@pytest.mark.parametrize(("audience", "expected"), AUDIENCES)
def test_start_snapshots_the_audience_minus_opt_outs(
    api: CampaignsApi,
    owner: Account,
    people: dict[str, dict[str, Any]],
    audience: Any,
    expected: set[str],
) -> None:
    campaign = api.create(owner, audience=audience(people))
    started = api.act(owner, campaign["id"], "start").json()
    assert started["status"] == "active"
    assert started["recipients"] == len(expected)

    listed = api.sends(owner, campaign["id"])
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
    assert api.sends(owner, campaign["id"], status="pending") == listed


def test_two_campaigns_with_one_audience_may_split_it_differently(
    api: CampaignsApi, orgs: Organizations, owner: Account
) -> None:
    for index in range(8):
        orgs.add_contact(owner, f"+1617555{110 + index:04d}")

    def assignment() -> dict[str, str]:
        campaign = api.create(owner)
        api.act(owner, campaign["id"], "start")
        return {s["contact_id"]: s["variant"] for s in api.sends(owner, campaign["id"], limit=50)}

    # Campaigns draw independently: 8 fair coins agree with probability 1/256, five in a row
    # with about 1e-12.
    first = assignment()
    assert any(assignment() != first for _ in range(5))


@pytest.mark.dynamodb
def test_another_organizations_contacts_are_not_an_audience(
    api: CampaignsApi, owner: Account, rival: Account, people: dict[str, dict[str, Any]]
) -> None:
    ids = [p["id"] for p in people.values()]
    for audience in ({"all": True}, {"tags": ["leads"]}, {"contact_ids": ids}):
        campaign = api.create(rival, audience=audience)
        assert api.act(rival, campaign["id"], "start").json()["recipients"] == 0
        assert api.sends(rival, campaign["id"]) == []
