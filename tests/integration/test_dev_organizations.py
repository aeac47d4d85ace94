"""The local stack's dev routes act for the caller's organization, on its own simulated time.

(Issue: one organization's tick, outbox, inbound texts and receipts never touch
another's; what it does after a tick happens at that tick's time; overlapping
ticks never put two sends of one number in the same second.)
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outreach_local.server import build_app
from tests.support.local_api import sign_up, start_campaign, tick

MONDAY_10AM_EASTERN = "2026-11-23T15:00:00Z"


@pytest.fixture
def client(send_queue: str) -> TestClient:
    return TestClient(build_app())


def outbox(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    return items


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_each_tick_moves_only_the_callers_campaigns(client: TestClient) -> None:
    acme = sign_up(client, "Acme", "+16175550100")
    bolt = sign_up(client, "Bolt", "+16175550200")
    acme_campaign = start_campaign(client, acme, ["6175550001", "6175550002"])
    bolt_campaign = start_campaign(client, bolt, ["6175550003"])

    first = tick(client, acme, MONDAY_10AM_EASTERN)
    assert (first["campaigns"], first["sent"], first["completed"]) == (1, 2, 1)
    # Acme's campaign is done; Bolt's is untouched by Acme's ticks.
    acme_stats = client.get(f"/v1/campaigns/{acme_campaign}/stats", headers=acme).json()
    bolt_stats = client.get(f"/v1/campaigns/{bolt_campaign}/stats", headers=bolt).json()
    assert (acme_stats["status"], acme_stats["sent"]) == ("completed", 2)
    assert (bolt_stats["status"], bolt_stats["sent"], bolt_stats["pending"]) == ("active", 0, 1)
    assert [m["to"] for m in outbox(client, bolt)] == []
    assert sorted(m["to"] for m in outbox(client, acme)) == ["+16175550001", "+16175550002"]

    sunday = tick(client, bolt, "2026-11-22T15:00:00Z")
    assert (sunday["campaigns"], sunday["sent"]) == (1, 0)
    monday = tick(client, bolt, MONDAY_10AM_EASTERN)
    assert (monday["campaigns"], monday["sent"], monday["completed"]) == (1, 1, 1)


def test_dev_routes_never_reach_another_organization(client: TestClient) -> None:
    acme = sign_up(client, "Acme", "+16175550100")
    bolt = sign_up(client, "Bolt", "+16175550200")
    campaign = start_campaign(client, acme, ["6175550001"])
    assert tick(client, acme, MONDAY_10AM_EASTERN)["sent"] == 1
    [sent] = outbox(client, acme)

    # Bolt sees none of Acme's messages, and its receipt for one is an unknown message's.
    assert outbox(client, bolt) == []
    forged = {"message_id": sent["message_id"], "status": "failed", "error_code": "X"}
    answer = client.post("/v1/dev/delivery", headers=bolt, json=forged)
    assert (answer.status_code, answer.json()) == (200, {"outcome": "unknown_message"})
    unknown = {"message_id": "no-such-message", "status": "failed", "error_code": "X"}
    assert client.post("/v1/dev/delivery", headers=bolt, json=unknown).json() == answer.json()
    [send] = client.get(f"/v1/campaigns/{campaign}/sends", headers=acme).json()["items"]
    assert send["status"] == "sent"

    # A text to Acme's number posted by Bolt is refused; Acme's opt-out list is untouched.
    stop = {"from": "6175550001", "to": "+16175550100", "body": "STOP"}
    refused = client.post("/v1/dev/inbound", headers=bolt, json=stop)
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail"} <= refused.json().keys()
    not_a_number = client.post("/v1/dev/inbound", headers=bolt, json={**stop, "to": "hello"})
    assert not_a_number.status_code == 422
    assert not_a_number.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/opt-outs", headers=acme).json()["items"] == []

    # Acme's own receipt and STOP work, in any common format of its number.
    mine = {"message_id": sent["message_id"], "status": "delivered", "error_code": None}
    assert client.post("/v1/dev/delivery", headers=acme, json=mine).json() == {
        "outcome": "receipt_applied"
    }
    assert client.post(
        "/v1/dev/inbound", headers=acme, json={**stop, "to": "(617) 555-0100"}
    ).json() == {"outcome": "opted_out"}


def test_after_a_tick_the_organization_lives_at_the_ticks_time(client: TestClient) -> None:
    acme = sign_up(client, "Acme", "+16175550100")
    bolt = sign_up(client, "Bolt", "+16175550200")
    campaign = start_campaign(client, acme, [f"617555{i:04d}" for i in range(5)])
    before_any_tick = datetime.now(UTC)

    first = tick(client, acme, MONDAY_10AM_EASTERN)
    assert first["sent"] == 5
    messages = outbox(client, acme)
    last_send = max(instant(m["sent_at"]) for m in messages)
    stopper = messages[0]["to"]
    stop = {"from": stopper, "to": "+16175550100", "body": "STOP"}
    assert client.post("/v1/dev/inbound", headers=acme, json=stop).json() == {
        "outcome": "opted_out"
    }
    help_text = {"from": messages[1]["to"], "to": "+16175550100", "body": "HELP"}
    assert client.post("/v1/dev/inbound", headers=acme, json=help_text).json() == {
        "outcome": "help_sent"
    }

    # The confirmation, the HELP answer and the opt-out are on the tick's timeline,
    # after the campaign's last text and long before the real clock.
    after = outbox(client, acme)
    stamps = [instant(m["sent_at"]) for m in after]
    assert stamps == sorted(stamps), "the outbox lists oldest first"
    answers = after[len(messages) :]
    assert len(answers) == 2
    for answer in answers:
        assert last_send <= instant(answer["sent_at"]) < last_send + timedelta(minutes=5)
    assert after[-2]["to"] == stopper and "unsubscribed" in after[-2]["body"]
    [opt_out] = client.get("/v1/opt-outs", headers=acme).json()["items"]
    assert last_send <= instant(opt_out["created_at"]) < last_send + timedelta(minutes=5)

    # "Sends today" is the tick's day, in the campaign's zone.
    stats = client.get(f"/v1/campaigns/{campaign}/stats", headers=acme).json()
    assert stats["sends_today"] == 5
    next_day = tick(client, acme, "2026-11-24T15:00:00Z")
    assert next_day["sent"] == 0
    stats = client.get(f"/v1/campaigns/{campaign}/stats", headers=acme).json()
    assert stats["sends_today"] == 0

    # Ticks may go back; and another organization keeps the real clock.
    tick(client, acme, MONDAY_10AM_EASTERN)
    stats = client.get(f"/v1/campaigns/{campaign}/stats", headers=acme).json()
    assert stats["sends_today"] == 5
    client.post("/v1/opt-outs", headers=bolt, json={"phone": "6175559999"})
    [bolt_opt_out] = client.get("/v1/opt-outs", headers=bolt).json()["items"]
    assert instant(bolt_opt_out["created_at"]) >= before_any_tick


def test_overlapping_ticks_never_send_two_in_one_second_from_one_number(
    client: TestClient,
) -> None:
    acme = sign_up(client, "Acme", "+16175550100")
    start_campaign(client, acme, [f"617555{i:04d}" for i in range(130)])
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(2)

    def run(now: str) -> None:
        try:
            gate.wait(timeout=10)
            results.append(tick(client, acme, now))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(now,))
        for now in ("2026-11-23T15:00:00Z", "2026-11-23T15:00:30Z")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    # Each tick sent its minute's worth at 1 a second, one after the other.
    assert sorted(r["sent"] for r in results) == [60, 60]
    messages = outbox(client, acme)
    assert len(messages) == 120 and len({m["to"] for m in messages}) == 120
    per_second = Counter(instant(m["sent_at"]).replace(microsecond=0) for m in messages)
    assert max(per_second.values()) == 1, per_second.most_common(3)


def test_statistics_stay_current_after_a_write_the_database_refused(client: TestClient) -> None:
    """A second reply from one number makes a conditional transaction fail (and is counted
    another way); moto rolls such a transaction back by swapping the table, stream and all.
    The local stream pump must keep counting from the table's stream as it is now."""
    acme = sign_up(client, "Acme", "+16175550100")
    campaign = start_campaign(client, acme, ["6175550001", "6175550002"])
    assert tick(client, acme, MONDAY_10AM_EASTERN)["sent"] == 2
    for body in ("Sounds good", "Also, Tuesday works"):
        reply = {"from": "6175550001", "to": "+16175550100", "body": body}
        assert client.post("/v1/dev/inbound", headers=acme, json=reply).json() == {
            "outcome": "reply"
        }
    for message in outbox(client, acme):
        receipt = {"message_id": message["message_id"], "status": "delivered", "error_code": None}
        assert client.post("/v1/dev/delivery", headers=acme, json=receipt).json() == {
            "outcome": "receipt_applied"
        }
    stats = client.get(f"/v1/campaigns/{campaign}/stats", headers=acme).json()
    assert (stats["sent"], stats["delivered"], stats["replies"]) == (0, 2, 2), stats
    # And a campaign started afterwards, in another organization, is counted too.
    bolt = sign_up(client, "Bolt", "+16175550200")
    later = start_campaign(client, bolt, ["6175550003"])
    stats = client.get(f"/v1/campaigns/{later}/stats", headers=bolt).json()
    assert (stats["recipients"], stats["pending"]) == (1, 1), stats


@pytest.mark.parametrize(
    "now",
    [
        "9999-12-31T23:59:59Z",
        "9000-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "0001-01-01",
        0,  # a number is not an instant (it ticked in 1970: issue 18)
        1796400000,
        "1796400000",
    ],
)
def test_a_tick_out_of_range_is_refused_and_harms_nothing(
    client: TestClient, now: str | int
) -> None:
    acme = sign_up(client, "Acme", "+16175550100")
    refused = client.post("/v1/dev/tick", headers=acme, json={"now": now})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert tick(client, acme, "8999-12-31T12:00:00Z")["campaigns"] == 0
    created = client.post("/v1/contacts", headers=acme, json={"phone": "6175550001"})
    assert created.status_code == 201, created.text
    assert tick(client, acme, MONDAY_10AM_EASTERN)["campaigns"] == 0
