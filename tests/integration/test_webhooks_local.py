"""Webhooks on the local stack, delivered for real (issue 20, point 5): a loopback
receiver verifies every delivery's signature with the ``standardwebhooks`` library,
handles each event id once, and sees each kind of event the texts, opt-outs, campaigns
and imports of the organization make. A failing endpoint's delivery is recorded with its
status and retried; another organization sees none of it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from outreach.config import get_settings
from outreach_local.server import build_app
from outreach_local.webhooks import get_webhook_runner
from tests.support.local_api import sign_up, start_campaign, tick

pytestmark = [pytest.mark.loopback, pytest.mark.enable_socket]

SENDER = "+16175550100"
MONDAY_10AM_EASTERN = "2026-11-23T15:00:00Z"


@dataclass
class Receiver:
    """What the receiver saw: verified events by id (each handled once), refusals."""

    secret: str = ""
    handled: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0
    bad_signatures: int = 0
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    seen = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with seen.lock:
                failing = seen.fail_next > 0
                seen.fail_next -= failing
            if failing:
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            try:
                payload = Webhook(seen.secret).verify(body, dict(self.headers))
            except Exception:
                with seen.lock:
                    seen.bad_signatures += 1
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with seen.lock:
                event_id = self.headers["webhook-id"]
                if event_id in seen.handled:
                    seen.duplicates += 1
                else:
                    seen.handled[event_id] = payload
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen, f"http://127.0.0.1:{server.server_address[1]}/hooks/outreach"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def client(send_queue: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    get_webhook_runner.cache_clear()
    yield TestClient(build_app())
    get_webhook_runner.cache_clear()
    get_settings.cache_clear()


def deliver_all() -> None:
    """Run the local webhook runner until nothing new is due (as its thread would)."""
    runner = get_webhook_runner()
    for _ in range(20):
        if runner.run_once() == 0:
            return


def types_of(seen: Receiver) -> list[str]:
    return sorted(str(payload["type"]) for payload in seen.handled.values())


def inbound(client: TestClient, auth: dict[str, str], phone: str, body: str) -> None:
    answer = client.post(
        "/v1/dev/inbound", headers=auth, json={"from": phone, "to": SENDER, "body": body}
    )
    assert answer.status_code == 200, answer.text


def subscribe(
    client: TestClient, auth: dict[str, str], receiver: tuple[Receiver, str], *events: str
) -> dict[str, Any]:
    """Register the receiver's endpoint for ``events``; the receiver keeps its secret."""
    seen, url = receiver
    made = client.post("/v1/webhooks", headers=auth, json={"url": url, "events": list(events)})
    assert made.status_code == 201, made.text
    endpoint: dict[str, Any] = made.json()
    seen.secret = endpoint["secret"]
    return endpoint


def test_every_kind_of_event_is_delivered_signed_and_once(
    client: TestClient, receiver: tuple[Receiver, str]
) -> None:
    seen, _ = receiver
    auth = sign_up(client, sender=SENDER)
    made = subscribe(
        client,
        auth,
        receiver,
        "message.received",
        "message.sent",
        "contact.opted_out",
        "contact.opted_in",
        "campaign.started",
        "campaign.completed",
        "import.completed",
    )
    assert seen.secret.startswith("whsec_")
    deliver_all()  # nothing yet: the registration is no event

    campaign_id = start_campaign(client, auth, ["6175550123", "6175550124"])
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 2
    inbound(client, auth, "+16175550123", "Yes, Tuesday works")
    inbound(client, auth, "+16175550124", "STOP")
    inbound(client, auth, "+16175550124", "START")
    deliver_all()
    deliver_all()  # a redelivered round changes nothing

    kinds = types_of(seen)
    assert kinds.count("campaign.started") == 1
    assert kinds.count("message.received") == 3
    assert kinds.count("contact.opted_out") == 1 and kinds.count("contact.opted_in") == 1
    # The campaign's two texts and the two confirmations (STOP's, START's).
    assert kinds.count("message.sent") == 4
    assert seen.bad_signatures == 0 and seen.duplicates == 0
    started = next(p for p in seen.handled.values() if p["type"] == "campaign.started")
    assert started["data"]["campaign_id"] == campaign_id
    received = [p["data"] for p in seen.handled.values() if p["type"] == "message.received"]
    assert {"Yes, Tuesday works", "STOP", "START"} == {d["body"] for d in received}
    # Instants in the API's form (UTC, milliseconds, Z), as the stored ones are not.
    assert all(re.search(r"T\d\d:\d\d:\d\d\.\d{3}Z$", d["created_at"]) for d in received)
    assert all("+0000" not in str(p) for p in seen.handled.values())

    listed = client.get(f"/v1/webhooks/{made['id']}/deliveries", headers=auth).json()
    assert len(listed["items"]) == len(seen.handled)
    assert {item["status"] for item in listed["items"]} == {"succeeded"}
    assert all(item["status_code"] == 204 for item in listed["items"])


def test_each_remaining_event_type_is_delivered(
    client: TestClient,
    receiver: tuple[Receiver, str],
    imports_bucket: str,
) -> None:
    # Receipts, a pause, a completion and an import job: the types the test above does
    # not make, each through the path a user takes.
    from tests.integration.test_import_jobs import arrival, run_imports, upload

    seen, _ = receiver
    auth = sign_up(client, sender=SENDER)
    subscribe(
        client,
        auth,
        receiver,
        "message.delivered",
        "message.failed",
        "campaign.paused",
        "campaign.completed",
        "import.completed",
    )
    campaign_id = start_campaign(client, auth, ["6175550123", "6175550124"])
    paused = client.post(f"/v1/campaigns/{campaign_id}/pause", headers=auth)
    assert paused.status_code == 200, paused.text
    assert client.post(f"/v1/campaigns/{campaign_id}/resume", headers=auth).status_code == 200
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 2
    tick(client, auth, "2026-11-23T15:05:00Z")  # nothing left: the campaign completes
    sent = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    for item, status in zip(sent, ("delivered", "failed"), strict=True):
        receipt = {"message_id": item["message_id"], "status": status}
        if status == "failed":
            receipt["error_code"] = "UNREACHABLE"
        assert client.post("/v1/dev/delivery", headers=auth, json=receipt).status_code == 200
    job = client.post("/v1/imports", headers=auth).json()
    assert upload(job, b"phone,first_name\n6175550125,Pat\n").status_code == 204
    run_imports(arrival(imports_bucket, job))
    deliver_all()

    assert types_of(seen) == [
        "campaign.completed",
        "campaign.paused",
        "import.completed",
        "message.delivered",
        "message.failed",
    ]
    by_type = {p["type"]: p["data"] for p in seen.handled.values()}
    assert by_type["import.completed"]["status"] == "done"
    assert by_type["message.failed"]["error"]
    assert seen.bad_signatures == 0 and seen.duplicates == 0


def test_a_failing_endpoint_is_recorded_and_retried(
    client: TestClient, receiver: tuple[Receiver, str]
) -> None:
    seen, _ = receiver
    auth = sign_up(client, sender=SENDER)
    made = subscribe(client, auth, receiver, "message.received")
    seen.fail_next = 1
    inbound(client, auth, "+16175550123", "Hello?")
    deliver_all()
    assert seen.handled == {}
    (delivery,) = client.get(f"/v1/webhooks/{made['id']}/deliveries", headers=auth).json()["items"]
    assert delivery["status"] == "pending" and delivery["status_code"] == 500
    assert delivery["attempts"] == 1 and delivery["next_attempt_at"] is not None
    retry = f"/v1/webhooks/{made['id']}/deliveries/{delivery['id']}/retry"
    client.patch(f"/v1/webhooks/{made['id']}", headers=auth, json={"enabled": False})
    assert client.post(retry, headers=auth).status_code == 409  # disabled: enable it first
    client.patch(f"/v1/webhooks/{made['id']}", headers=auth, json={"enabled": True})
    retried = client.post(retry, headers=auth)
    assert retried.status_code == 202, retried.text
    assert retried.json()["attempts"] == 0  # a new round
    deliver_all()
    assert types_of(seen) == ["message.received"]
    (after,) = client.get(f"/v1/webhooks/{made['id']}/deliveries", headers=auth).json()["items"]
    assert after["status"] == "succeeded" and after["status_code"] == 204


def test_another_organizations_events_never_reach_an_endpoint(
    client: TestClient, receiver: tuple[Receiver, str]
) -> None:
    seen, _ = receiver
    acme = sign_up(client, "Acme", sender=SENDER)
    other = sign_up(client, "Other", sender="+16175550199")
    made = subscribe(client, acme, receiver, "message.received")
    answer = client.post(
        "/v1/dev/inbound",
        headers=other,
        json={"from": "+16175550123", "to": "+16175550199", "body": "Hi Other"},
    )
    assert answer.status_code == 200
    deliver_all()
    assert seen.handled == {}
    assert client.get(f"/v1/webhooks/{made['id']}", headers=other).status_code == 404
    assert client.get("/v1/webhooks", headers=other).json()["items"] == []
