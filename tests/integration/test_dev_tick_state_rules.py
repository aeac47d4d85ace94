"""State rules and toll-free numbers end to end (issue 15, points 1, 4 and 6;
``sending-rules.md`` rules 7 and 8): contacts imported over HTTP, a campaign started,
the engine driven by ``POST /v1/dev/tick`` at chosen instants, texts read from
``/v1/dev/outbox`` and the waiting reasons from ``/sends``, on the local stack.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from outreach_local.server import build_app
from tests.support.local_api import sign_up, tick

EVERY_HOUR = {
    "start": "00:00",
    "end": "23:59",
    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
}
MIAMI = "+13055550123"  # 305: Florida, Eastern time
HOUSTON = "+17135550123"  # 713: Texas, Central time
PROVIDENCE = "+14015550123"  # 401: Rhode Island, Eastern time
MANHATTAN = "+12125550123"  # 212: New York, which has no row
MANHATTAN_IN_FLORIDA = "+12125550124"  # its contact's state is Florida
TOLL_FREE = "+18005550199"


@pytest.fixture
def client(send_queue: str) -> TestClient:
    return TestClient(build_app())


def _start(
    client: TestClient,
    auth: dict[str, str],
    rows: list[tuple[str, str]],
    window: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Import ``(phone, state)`` rows, start a campaign to everyone; the start's answer."""
    csv = "".join(f"{phone},Pat,{state}\n" for phone, state in rows)
    imported = client.post(
        "/v1/contacts/import",
        headers={**auth, "content-type": "text/csv"},
        content=f"phone,first_name,state\n{csv}",
    ).json()
    assert imported["created"] == len(rows), imported
    body: dict[str, Any] = {
        "name": "Sunday",
        "variants": [{"name": "A", "body": "Hi {first_name}!", "weight": 1}],
        "audience": {"all": True},
    }
    if window is not None:
        body["send_window"] = window
    created = client.post("/v1/campaigns", headers=auth, json=body)
    assert created.status_code == 201, created.text
    campaign = created.json()
    started: dict[str, Any] = client.post(
        f"/v1/campaigns/{campaign['id']}/start", headers=auth
    ).json()
    assert started["status"] == "active", started
    return started


def _texted(client: TestClient, auth: dict[str, str]) -> list[str]:
    outbox = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    return sorted(message["to"] for message in outbox)


def _waiting(client: TestClient, auth: dict[str, str], campaign_id: str) -> dict[str, Any]:
    sends = client.get(f"/v1/campaigns/{campaign_id}/sends", headers=auth).json()["items"]
    return {
        s["phone"]: (s["waiting_reason"], s["next_attempt_at"])
        for s in sends
        if s["status"] == "pending"
    }


def _status(client: TestClient, auth: dict[str, str], campaign_id: str) -> str:
    stats = client.get(f"/v1/campaigns/{campaign_id}/stats", headers=auth).json()
    return str(stats["status"])


def test_florida_numbers_and_contacts_wait_from_20h_local(client: TestClient) -> None:
    auth = sign_up(client, "Palms", sender="+16175550100")
    rows = [(MIAMI, ""), (MANHATTAN, ""), (MANHATTAN_IN_FLORIDA, "FL")]
    campaign_id = _start(client, auth, rows, EVERY_HOUR)["id"]
    # Monday 23 November 2026, 20:30 Eastern: the federal window allows it, Florida does not.
    first = tick(client, auth, "2026-11-24T01:30:00Z")
    assert (first["sent"], first["state_rule_deferred"], first["quiet_hours_deferred"]) == (
        1,
        2,
        0,
    )
    assert _texted(client, auth) == [MANHATTAN]
    # Both wait for Florida's 08:00 (13:00 UTC), and /sends says so.
    assert _waiting(client, auth, campaign_id) == {
        MIAMI: ("state_rule", "2026-11-24T13:00:00.000Z"),
        MANHATTAN_IN_FLORIDA: ("state_rule", "2026-11-24T13:00:00.000Z"),
    }
    # Tuesday 19:30 Eastern: both go, and the campaign completes.
    second = tick(client, auth, "2026-11-25T00:30:00Z")
    assert (second["sent"], second["completed"]) == (2, 1)
    assert _texted(client, auth) == sorted([MANHATTAN, MANHATTAN_IN_FLORIDA, MIAMI])
    assert _status(client, auth, campaign_id) == "completed"


def test_texas_waits_for_sunday_noon_and_rhode_island_for_monday(client: TestClient) -> None:
    auth = sign_up(client, "Lonestar", sender="+16175550100")
    campaign_id = _start(client, auth, [(HOUSTON, ""), (PROVIDENCE, "")], EVERY_HOUR)["id"]
    # Sunday 29 November 2026, 10:00 in Houston (16:00 UTC): nobody is texted.
    assert tick(client, auth, "2026-11-29T16:00:00Z")["sent"] == 0
    assert _waiting(client, auth, campaign_id) == {
        HOUSTON: ("state_rule", "2026-11-29T18:00:00.000Z"),  # 12:00 in Houston
        PROVIDENCE: ("state_rule", "2026-11-30T14:00:00.000Z"),  # Monday 09:00 Eastern
    }
    # 12:30 in Houston: Texas allows it; Rhode Island still allows nothing on a Sunday.
    assert tick(client, auth, "2026-11-29T18:30:00Z")["sent"] == 1
    assert _texted(client, auth) == [HOUSTON]
    assert tick(client, auth, "2026-11-29T22:00:00Z")["sent"] == 0  # Sunday 17:00 Eastern
    assert _texted(client, auth) == [HOUSTON]
    # Monday 09:00 in Providence.
    last = tick(client, auth, "2026-11-30T14:00:00Z")
    assert (last["sent"], last["completed"]) == (1, 1)
    assert _texted(client, auth) == sorted([HOUSTON, PROVIDENCE])


def test_a_toll_free_number_is_texted_and_its_campaign_completes(client: TestClient) -> None:
    auth = sign_up(client, "Freephone", sender="+16175550100")
    # The default window: Monday-Friday 09:00-18:00 in New York.
    campaign_id = _start(client, auth, [(TOLL_FREE, "")])["id"]
    # Monday 10:00 Eastern is 07:00 in Los Angeles, the last of the fallback zones.
    assert tick(client, auth, "2026-11-23T15:00:00Z")["sent"] == 0
    assert _waiting(client, auth, campaign_id) == {
        TOLL_FREE: ("quiet_hours", "2026-11-23T16:00:00.000Z")
    }
    # 11:00 Eastern, 08:00 Pacific: texted (held to its 42 zones it would have waited for
    # 17:00 Eastern, and never come within a summer window at all).
    done = tick(client, auth, "2026-11-23T16:00:00Z")
    assert (done["sent"], done["completed"]) == (1, 1)
    assert _texted(client, auth) == [TOLL_FREE]
    assert _status(client, auth, campaign_id) == "completed"


def test_a_start_leaves_out_whom_the_states_rules_never_let_the_window_reach(
    client: TestClient,
) -> None:
    # Sundays 09:00-11:00 in New York: Rhode Island allows no Sunday texts (its numbers,
    # and a Boston number whose contact lives there), Texas none before 12:00 (08:00-10:00
    # in Houston). Only the Manhattan number is ever in reach.
    auth = sign_up(client, "Sabbath", sender="+16175550100")
    rows = [(PROVIDENCE, ""), ("+16175550123", "Rhode Island"), (HOUSTON, ""), (MANHATTAN, "")]
    sunday_morning = {"start": "09:00", "end": "11:00", "days": ["sun"]}
    started = _start(client, auth, rows, sunday_morning)
    assert started["left_out"] == {"opted_out": 0, "not_textable": 0, "never_in_window": 3}
    assert started["recipients"] == 1
    sends = client.get(f"/v1/campaigns/{started['id']}/sends", headers=auth).json()["items"]
    assert [s["phone"] for s in sends] == [MANHATTAN]
