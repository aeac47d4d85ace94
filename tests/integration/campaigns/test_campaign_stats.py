"""Campaign statistics through the campaigns handler: the counters the recipients'
stream keeps, after start, cancel and opt-outs (`api-contract.md`, "stats")."""

from __future__ import annotations

from typing import Any

import pytest

from outreach_local.runtime import load_function
from tests.integration.campaigns.support import (
    STATS_FIELDS,
    VARIANT_STATS_FIELDS,
    CampaignsApi,
    Organizations,
)
from tests.integration.identity_support import Account


@pytest.mark.dynamodb
def test_stats_right_after_start(api: CampaignsApi, owner: Account, people: dict[str, Any]) -> None:
    campaign = api.create(owner, daily_limit=3)
    api.act(owner, campaign["id"], "start")
    result = api.stats(owner, campaign["id"])
    assert result.keys() >= STATS_FIELDS
    assert "sending" not in result  # claimed recipients count as pending
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
        name: sum(s["variant"] == name for s in api.sends(owner, campaign["id"]))
        for name in ("A", "B")
    }
    assert {v["name"]: v["recipients"] for v in result["variants"]} == split
    assert all(v["reply_rate"] == 0 for v in result["variants"])


def test_stats_of_a_draft_are_zero(api: CampaignsApi, owner: Account) -> None:
    campaign = api.create(owner)
    result = api.stats(owner, campaign["id"])
    assert result["status"] == "draft"
    assert result["recipients"] == result["pending"] == result["sends_today"] == 0
    assert [(v["name"], v["recipients"]) for v in result["variants"]] == [("A", 0), ("B", 0)]
    assert result["winner"] is None


def test_an_opt_out_after_start_keeps_the_snapshot(
    api: CampaignsApi, orgs: Organizations, owner: Account, people: dict[str, Any]
) -> None:
    campaign = api.create(owner)
    api.act(owner, campaign["id"], "start")
    orgs.opt_out(owner, people["dana"]["phone"])
    # Suppression at send time is the engine's job; the snapshot is not rewritten.
    assert api.stats(owner, campaign["id"])["recipients"] == 4


@pytest.mark.dynamodb
def test_cancel_skips_every_pending_recipient(
    api: CampaignsApi, owner: Account, people: dict[str, Any]
) -> None:
    campaign = api.campaign_in(owner, "paused")
    cancelled = api.act(owner, campaign["id"], "cancel").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["recipients"] == 4
    result = api.stats(owner, campaign["id"])
    assert result["status"] == "cancelled"
    assert result["pending"] == 0
    assert result["skipped"] == result["recipients"] == 4
    assert sum(v["recipients"] for v in result["variants"]) == 4
    assert api.sends(owner, campaign["id"], status="pending") == []
    skipped = api.sends(owner, campaign["id"], status="skipped")
    assert len(skipped) == 4
    assert all(s["status"] == "skipped" for s in skipped)
    assert {s["contact_id"] for s in skipped} == {
        s["contact_id"] for s in api.sends(owner, campaign["id"])
    }


def test_the_stats_schema_says_claimed_recipients_count_as_pending() -> None:
    schemas = load_function("campaigns").app.openapi()["components"]["schemas"]
    stats = schemas["StatsPublic"]
    assert "sending" not in stats["properties"]
    assert "claimed" in stats["description"]
    assert "claimed" in stats["properties"]["pending"]["description"]
