"""The local stack's /v1/dev routes drive the real engine: tick, outbox."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outreach_local.server import build_app
from tests.support.local_api import sign_up, start_campaign, tick

MONDAY_10AM_EASTERN = "2026-11-23T15:00:00Z"


@pytest.fixture
def client(send_queue: str) -> TestClient:
    return TestClient(build_app())


def test_tick_sends_through_the_engine_on_simulated_time(client: TestClient) -> None:
    auth = sign_up(client, sender="+16175550100")
    campaign_id = start_campaign(client, auth, [f"617555{i:04d}" for i in range(100)])

    started = time.perf_counter()
    first = client.post("/v1/dev/tick", headers=auth, json={"now": MONDAY_10AM_EASTERN}).json()
    later = (datetime.fromisoformat(MONDAY_10AM_EASTERN) + timedelta(minutes=1)).isoformat()
    second = client.post("/v1/dev/tick", headers=auth, json={"now": later}).json()
    wall = time.perf_counter() - started

    # One tick sends a minute's worth at the number's rate (1 a second): 60, then the rest.
    assert (first["campaigns"], first["sent"]) == (1, 60)
    assert (second["sent"], second["completed"]) == (40, 1)
    outbox: list[dict[str, Any]] = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    assert len(outbox) == 100 and len({m["to"] for m in outbox}) == 100
    assert outbox[0]["from"] == "+16175550100"
    assert outbox[0]["body"].endswith("\nReply STOP to opt out")
    stamps = [datetime.fromisoformat(m["sent_at"]) for m in outbox]
    # sent_at is the engine's (simulated) clock: paced a second apart, from the tick's instant.
    assert stamps[0] == datetime.fromisoformat(MONDAY_10AM_EASTERN)
    assert stamps[59] - stamps[0] == timedelta(seconds=59)
    assert wall < 59, "pacing must advance simulated time, not sleep"
    stats = client.get(f"/v1/campaigns/{campaign_id}/stats", headers=auth).json()
    assert (stats["status"], stats["sent"], stats["pending"]) == ("completed", 100, 0)


def test_dev_routes_need_a_token(client: TestClient) -> None:
    assert client.post("/v1/dev/tick", json={}).status_code == 401
    assert client.get("/v1/dev/outbox").status_code == 401


def test_a_tick_outside_the_window_sends_nothing(client: TestClient) -> None:
    auth = sign_up(client)
    saturday = client.post(
        "/v1/dev/tick", headers=auth, json={"now": "2026-11-28T15:00:00Z"}
    ).json()
    assert saturday["sent"] == 0 and saturday["now"] == "2026-11-28T15:00:00.000Z"
    assert client.post("/v1/dev/tick", headers=auth, json={"now": "not a time"}).status_code == 422


def test_end_to_end_stop_reply_and_receipt_through_the_local_api(client: TestClient) -> None:
    auth = sign_up(client)
    client.patch(
        "/v1/organization",
        headers=auth,
        json={"sender_number": "(617) 555-0100", "help_text": "Acme help"},
    )
    campaign_id = start_campaign(client, auth, [f"617555{i:04d}" for i in range(3)])
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 3

    stop = client.post(
        "/v1/dev/inbound",
        headers=auth,
        json={"from": "617-555-0000", "to": "+16175550100", "body": "Stop."},
    )
    assert stop.json() == {"outcome": "opted_out"}
    reply = client.post(
        "/v1/dev/inbound",
        headers=auth,
        json={"from": "+16175550001", "to": "+16175550100", "body": "Can you come Tuesday?"},
    )
    assert reply.json() == {"outcome": "reply"}
    sends = client.get(f"/v1/campaigns/{campaign_id}/sends", headers=auth).json()["items"]
    delivered = next(s for s in sends if s["phone"] == "+16175550002")
    receipt = {
        "message_id": delivered["provider_message_id"],
        "status": "delivered",
        "error_code": None,
    }
    assert client.post("/v1/dev/delivery", headers=auth, json=receipt).json() == {
        "outcome": "receipt_applied"
    }
    assert client.post("/v1/dev/delivery", headers=auth, json=receipt).json() == {
        "outcome": "receipt_ignored"
    }

    opt_outs = client.get("/v1/opt-outs", headers=auth).json()["items"]
    assert [(o["phone"], o["source"]) for o in opt_outs] == [("+16175550000", "keyword")]
    outbox = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    to_stopper = [m["body"] for m in outbox if m["to"] == "+16175550000"]
    assert len(to_stopper) == 2 and any("unsubscribed" in body for body in to_stopper)
    stats = client.get(f"/v1/campaigns/{campaign_id}/stats", headers=auth).json()
    assert (stats["recipients"], stats["sent"], stats["delivered"]) == (3, 2, 1)
    assert (stats["replies"], stats["opt_outs"]) == (1, 1)
    assert sum(v["replies"] for v in stats["variants"]) == 1
    assert sum(v["opt_outs"] for v in stats["variants"]) == 1
    contact = next(
        c
        for c in client.get("/v1/contacts", headers=auth).json()["items"]
        if c["phone"] == "+16175550000"
    )
    assert contact["opted_out"] is True
