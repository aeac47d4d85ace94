"""A campaign's sends, and the walls between organizations, through the campaigns
handler: listings, their sealed cursors, and 404s on every route."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from tests.integration.campaigns.support import (
    MISSING_ID,
    CampaignsApi,
)
from tests.integration.identity_support import Account
from tests.support.api import ApiResponse


def test_sends_filter_by_status_and_reject_a_cursor_of_another_filter(
    api: CampaignsApi, owner: Account, people: dict[str, Any]
) -> None:
    campaign = api.campaign_in(owner, "active")
    path = f"/v1/campaigns/{campaign['id']}/sends"
    assert api.sends(owner, campaign["id"], status="sent") == []
    cursor = api.call("GET", path, headers=owner.auth, query={"limit": "1"}).json()["next_cursor"]
    assert cursor
    api.call(
        "GET", path, headers=owner.auth, query={"status": "pending", "cursor": cursor}
    ).assert_problem(400)
    other = api.campaign_in(owner, "active")
    api.call(
        "GET", f"/v1/campaigns/{other['id']}/sends", headers=owner.auth, query={"cursor": cursor}
    ).assert_problem(400)
    api.call("GET", path, headers=owner.auth, query={"status": "lost"}).assert_problem(422)


# --- Organizations are walled off ---------------------------------------------------------


class Route(NamedTuple):
    """A route on one campaign, and the status in which its owner may call it."""

    method: str
    suffix: str
    body: dict[str, Any] | None
    ready: str

    def call(self, api: CampaignsApi, who: Account, campaign_id: str) -> ApiResponse:
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
    api: CampaignsApi, owner: Account, rival: Account, people: dict[str, Any], route: Route
) -> None:
    campaign = api.campaign_in(owner, route.ready)
    before = api.stats(owner, campaign["id"])
    problem = route.call(api, rival, campaign["id"]).assert_problem(404)
    assert campaign["id"] not in problem["detail"]
    assert api.get(owner, campaign["id"]) == campaign
    assert api.stats(owner, campaign["id"]) == before


def test_another_organizations_list_cursors_are_400(
    api: CampaignsApi, owner: Account, rival: Account, people: dict[str, Any]
) -> None:
    campaign = api.campaign_in(owner, "active")
    api.create(owner)
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
    own = api.campaign_in(rival, "active")
    api.call(
        "GET",
        f"/v1/campaigns/{own['id']}/sends",
        headers=rival.auth,
        query={"cursor": sends_cursor},
    ).assert_problem(400)


def test_another_organizations_campaigns_are_not_listed(
    api: CampaignsApi, owner: Account, rival: Account, people: dict[str, Any]
) -> None:
    mine = api.campaign_in(owner, "active")
    theirs = api.create(rival, name="Rival campaign")
    assert [c["id"] for c in api.all_pages(rival, "/v1/campaigns")] == [theirs["id"]]
    assert api.all_pages(rival, "/v1/campaigns", status="active") == []
    assert [c["id"] for c in api.all_pages(owner, "/v1/campaigns")] == [mine["id"]]


@pytest.mark.parametrize("campaign_id", ["nope", "x" * 3000, MISSING_ID])
def test_an_unknown_id_is_404_on_every_route(
    api: CampaignsApi, owner: Account, campaign_id: str
) -> None:
    for name, route in ROUTES.items():
        response = route.call(api, owner, campaign_id)
        assert response.status == 404, (name, response.status, response.text)
        response.assert_problem(404)
