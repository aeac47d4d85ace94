"""Conversations through the local stack's API (issue 19): a campaign's texts, a reply, an
answer, a receipt, an opt-out, a read mark, and the wall between organizations.

The app is ``build_app()`` (every API function's routes, ``/v1/dev``) on moto: the texts
go through the real sender (``/v1/dev/tick``), the replies and receipts through the real
inbound service (``/v1/dev/inbound``, ``/v1/dev/delivery``), and the manual texts
through the sandbox provider. Each organization's clock is its timeline's, set by a tick.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outreach.clock import SimulatedClock
from outreach.conversations.service import ManualText, build_conversation_service
from outreach.data.models import OutboxMessageModel
from outreach.errors import Conflict
from outreach.identity.domain import OrganizationChanges
from outreach.identity.repository import IdentityRepository
from outreach.sms.outbox import sandbox_box
from outreach_local.server import build_app
from tests.support.concurrency import at_once
from tests.support.engine import make_org
from tests.support.local_api import sign_up, start_campaign, tick

SENDER = "+16175550100"
MONDAY_10AM_EASTERN = "2026-11-23T15:00:00Z"
MONDAY_10PM_EASTERN = "2026-11-24T03:00:00Z"
PHONES = ["+16175550000", "+16175550001", "+16175550002"]


@pytest.fixture
def client(send_queue: str) -> TestClient:
    return TestClient(build_app())


def inbox(client: TestClient, auth: dict[str, str], **query: str) -> list[dict[str, Any]]:
    answer = client.get("/v1/conversations", headers=auth, params=query)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def messages(client: TestClient, auth: dict[str, str], phone: str) -> list[dict[str, Any]]:
    answer = client.get(f"/v1/conversations/{phone}/messages", headers=auth)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def text_in(client: TestClient, auth: dict[str, str], sender: str, body: str) -> str:
    answer = client.post(
        "/v1/dev/inbound", headers=auth, json={"from": sender, "to": SENDER, "body": body}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["outcome"])


def outbox_bodies(client: TestClient, auth: dict[str, str], phone: str) -> list[str]:
    items = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    return [item["body"] for item in items if item["to"] == phone]


def test_a_campaign_its_reply_and_the_answer_live_in_one_conversation(client: TestClient) -> None:
    auth = sign_up(client, sender=SENDER)
    campaign_id = start_campaign(client, auth, [phone[2:] for phone in PHONES])
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 3

    # Campaign texts alone are no conversation: the inbox waits for an answer.
    assert inbox(client, auth) == []
    assert [m["kind"] for m in messages(client, auth, PHONES[0])] == ["campaign"]

    # A reply: first in the inbox, unread, the campaign's.
    assert text_in(client, auth, PHONES[1], "Yes! Can you come Tuesday?") == "reply"
    (first,) = inbox(client, auth)
    assert (first["phone"], first["unread_count"], first["opted_out"]) == (PHONES[1], 1, False)
    assert first["last_message"]["body"] == "Yes! Can you come Tuesday?"
    assert (first["last_campaign_id"], first["contact"]["first_name"]) == (campaign_id, "Pat")
    assert [item["phone"] for item in inbox(client, auth, unread="true")] == [PHONES[1]]
    assert [item["phone"] for item in inbox(client, auth, campaign_id=campaign_id)] == [PHONES[1]]
    conversation = messages(client, auth, "%2B" + PHONES[1][1:])
    assert [(m["direction"], m["kind"]) for m in conversation] == [
        ("inbound", "inbound"),
        ("outbound", "campaign"),
    ]
    reply, campaign_text = conversation
    assert (reply["keyword"], reply["campaign_id"], reply["status"]) == (
        "reply",
        campaign_id,
        "received",
    )
    assert campaign_text["variant"] in ("A", "B") and campaign_text["status"] == "sent"
    assert campaign_text["body"] == outbox_bodies(client, auth, PHONES[1])[0]

    # The answer: texted once for its Idempotency-Key, and the conversation is read.
    key = {"idempotency-key": "answer-1"}
    path = f"/v1/conversations/{PHONES[1]}/messages"
    sent = client.post(path, headers={**auth, **key}, json={"body": "Tuesday 10am works."})
    assert sent.status_code == 201, sent.text
    answer = sent.json()
    assert (answer["kind"], answer["status"], answer["body"]) == (
        "manual",
        "sent",
        "Tuesday 10am works.",  # no footer: the campaign's text was the first
    )
    again = client.post(path, headers={**auth, **key}, json={"body": "Tuesday 10am works."})
    assert (again.status_code, again.json()["id"]) == (201, answer["id"])
    other = client.post(path, headers={**auth, **key}, json={"body": "Wednesday instead"})
    assert other.status_code == 422, other.text
    assert outbox_bodies(client, auth, PHONES[1]).count("Tuesday 10am works.") == 1
    (first,) = inbox(client, auth)
    assert (first["phone"], first["unread_count"]) == (PHONES[1], 0)
    assert first["last_message"]["kind"] == "manual"
    assert inbox(client, auth, unread="true") == []

    # Its receipt moves the message.
    outbox = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    provider_id = next(i["message_id"] for i in outbox if i["body"] == "Tuesday 10am works.")
    receipt = client.post(
        "/v1/dev/delivery",
        headers=auth,
        json={"message_id": provider_id, "status": "delivered"},
    )
    assert receipt.json() == {"outcome": "receipt_applied"}
    assert messages(client, auth, PHONES[1])[0]["status"] == "delivered"


def test_an_opt_out_shows_at_once_and_stops_manual_texts(client: TestClient) -> None:
    auth = sign_up(client, sender=SENDER)
    start_campaign(client, auth, [phone[2:] for phone in PHONES])
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 3
    assert text_in(client, auth, PHONES[2], "STOP") == "opted_out"
    (first,) = inbox(client, auth)
    assert (first["phone"], first["opted_out"]) == (PHONES[2], True)
    assert first["last_message"]["kind"] == "auto_reply"
    kinds = [(m["kind"], m["keyword"]) for m in messages(client, auth, PHONES[2])]
    assert kinds == [("auto_reply", None), ("inbound", "opt_out"), ("campaign", None)]
    refused = client.post(
        f"/v1/conversations/{PHONES[2]}/messages", headers=auth, json={"body": "Sorry!"}
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["reason"] == "opted_out"
    assert outbox_bodies(client, auth, PHONES[2])[-1] != "Sorry!"


def test_quiet_hours_hold_a_new_text_but_not_an_answer(client: TestClient) -> None:
    auth = sign_up(client, sender=SENDER)
    start_campaign(client, auth, [phone[2:] for phone in PHONES])
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 3
    tick(client, auth, MONDAY_10PM_EASTERN)  # the organization's clock: 22:00 in Boston
    assert text_in(client, auth, PHONES[0], "Are you open tomorrow?") == "reply"
    answered = client.post(
        f"/v1/conversations/{PHONES[0]}/messages", headers=auth, json={"body": "Yes, from 8."}
    )
    assert answered.status_code == 201, answered.text
    held = client.post(
        f"/v1/conversations/{PHONES[1]}/messages", headers=auth, json={"body": "Hello?"}
    )
    assert held.status_code == 409, held.text
    assert held.json()["reason"] == "quiet_hours"
    assert held.json()["next_allowed_at"] == "2026-11-24T13:00:00.000Z"  # 08:00 in Boston


def test_a_first_text_to_a_new_number_carries_the_footer(client: TestClient) -> None:
    auth = sign_up(client, sender=SENDER)
    tick(client, auth, MONDAY_10AM_EASTERN)
    sent = client.post(
        "/v1/conversations/(617) 555-0188/messages", headers=auth, json={"body": "Hi, it's Acme."}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["body"].startswith("Hi, it's Acme.\n")
    assert "STOP" in sent.json()["body"]
    second = client.post(
        "/v1/conversations/+16175550188/messages", headers=auth, json={"body": "Any news?"}
    )
    assert second.json()["body"] == "Any news?"
    (only,) = inbox(client, auth)
    assert (only["phone"], only["contact"], only["last_message"]["body"]) == (
        "+16175550188",
        None,
        "Any news?",
    )
    bad = client.post("/v1/conversations/not-a-phone/messages", headers=auth, json={"body": "x"})
    assert bad.status_code == 422, bad.text
    blank = client.post(
        "/v1/conversations/+16175550188/messages", headers=auth, json={"body": "  "}
    )
    assert blank.status_code == 422, blank.text


def test_another_organization_sees_none_of_it(client: TestClient) -> None:
    auth = sign_up(client, sender=SENDER)
    start_campaign(client, auth, [phone[2:] for phone in PHONES])
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 3
    assert text_in(client, auth, PHONES[0], "Yes") == "reply"
    assert text_in(client, auth, PHONES[1], "Maybe") == "reply"
    assert client.post(f"/v1/conversations/{PHONES[1]}/read", headers=auth).status_code == 204
    cursor = client.get("/v1/conversations", headers=auth, params={"limit": "1"}).json()[
        "next_cursor"
    ]
    messages_cursor = client.get(
        f"/v1/conversations/{PHONES[0]}/messages", headers=auth, params={"limit": "1"}
    ).json()["next_cursor"]
    assert cursor and messages_cursor
    rival = sign_up(client, "Rival", sender="+16175550199")
    assert inbox(client, rival) == []
    assert inbox(client, rival, unread="true") == []
    # A number A's campaign texted but that never answered: no conversation of A's either.
    for phone in PHONES:
        found = client.get(f"/v1/conversations/{phone}/messages", headers=rival)
        assert found.status_code == 404, found.text
        marked = client.post(f"/v1/conversations/{phone}/read", headers=rival)
        assert marked.status_code == 404, marked.text
    assert (
        client.get("/v1/conversations", headers=rival, params={"cursor": cursor}).status_code == 400
    )
    # A's conversation is as it was: still unread.
    assert [item["phone"] for item in inbox(client, auth, unread="true")] == [PHONES[0]]
    marked = client.post(f"/v1/conversations/{PHONES[0]}/read", headers=auth)
    assert marked.status_code == 204
    assert inbox(client, auth, unread="true") == []


# --- Limits under concurrency, on DynamoDB -------------------------------------------------


def test_concurrent_manual_texts_take_exactly_the_daily_limit(aws: None) -> None:
    """Eight users text eight numbers at once with three texts left today: three go."""
    clock = SimulatedClock(datetime.fromisoformat(MONDAY_10AM_EASTERN))
    org_id = make_org(clock)
    IdentityRepository().update_organization(
        org_id, OrganizationChanges(daily_message_limit=3), now=clock.now(), old_sender=SENDER
    )
    service = build_conversation_service(clock)
    outcomes: list[str] = []

    def text(index: int) -> None:
        try:
            service.send(org_id, f"+1617555{index:04d}", ManualText("Hello!", "USER1"))
            outcomes.append("sent")
        except Conflict as refused:
            outcomes.append(refused.extra["reason"])

    at_once([partial(text, index) for index in range(8)])
    assert Counter(outcomes) == {"sent": 3, "daily_limit": 5}
    outbox = OutboxMessageModel.query(sandbox_box(org_id), consistent_read=True)
    assert len(list(outbox)) == 3


def test_concurrent_retries_of_one_idempotency_key_text_once(aws: None) -> None:
    clock = SimulatedClock(datetime.fromisoformat(MONDAY_10AM_EASTERN))
    org_id = make_org(clock)
    service = build_conversation_service(clock)
    answers: list[str] = []

    def retry() -> None:
        request = ManualText("Tuesday works.", "USER1", idempotency_key="key-1")
        try:
            answers.append(service.send(org_id, PHONES[0], request).id)
        except Conflict as busy:
            assert busy.extra["reason"] == "in_progress"
            answers.append("in progress")

    at_once([retry for _ in range(8)])
    ids = {answer for answer in answers if answer != "in progress"}
    assert len(ids) == 1, answers
    outbox = list(OutboxMessageModel.query(sandbox_box(org_id), consistent_read=True))
    assert [message.body for message in outbox] == ["Tuesday works.\nReply STOP to opt out"]
    # Once finished, a retry answers the same message.
    later = service.send(org_id, PHONES[0], ManualText("Tuesday works.", "USER1", "key-1"))
    assert later.id in ids


def test_a_deleted_contacts_conversation_stays(client: TestClient) -> None:
    auth = sign_up(client, sender=SENDER)
    start_campaign(client, auth, [phone[2:] for phone in PHONES])
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 3
    assert text_in(client, auth, PHONES[0], "Who is this?") == "reply"
    (contact,) = [
        item
        for item in client.get("/v1/contacts", headers=auth).json()["items"]
        if item["phone"] == PHONES[0]
    ]
    assert client.delete(f"/v1/contacts/{contact['id']}", headers=auth).status_code == 204
    (entry,) = inbox(client, auth)
    assert (entry["phone"], entry["contact"], entry["unread_count"]) == (PHONES[0], None, 1)
    assert [m["kind"] for m in messages(client, auth, PHONES[0])] == ["inbound", "campaign"]
