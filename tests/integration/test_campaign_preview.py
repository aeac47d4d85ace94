"""The honest preview (issue 15, point 7; ``api-contract.md`` Addendum 1) through the
local stack's HTTP API on moto, against what the real engine then sends.

The problem replayed: for a contact never texted, the preview showed 150 characters /
1 segment, and the text sent was 172 / 2 (the opt-out footer), with no cost for the
audience. Now the preview answers ``first_message`` beside the repeat figures, which
text a contact gets (``first_text``), and ``audience_segments`` for the current
audience, which add up to what the sandbox provider then "sends".
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from outreach.campaigns.sms_length import measure
from outreach_local.server import build_app
from tests.support.local_api import sign_up, tick

MONDAY_10AM_EASTERN = "2026-11-23T15:00:00Z"
# A day and an hour later: past the contact_daily_limit's rolling 24 hours.
TUESDAY_11AM_EASTERN = "2026-11-24T16:00:00Z"
FOOTER = "\nReply STOP to opt out"  # registration's footer, on a line of its own
# 150 characters with "there"; "Ana" makes it 148, "Bo" 147.
TEMPLATE = (
    "Hi {first_name|there}, your spring foundation check is due. Cracks in a basement wall"
    " grow over winter: book a free 20-minute visit this week. Reply Y to book now."
)
ANA, BO = "+16175550101", "+16175550102"


@pytest.fixture
def client(send_queue: str) -> TestClient:
    return TestClient(build_app())


def _post(client: TestClient, auth: dict[str, str], path: str, body: Any = None) -> Any:
    response = client.post(path, headers=auth, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _campaign(client: TestClient, auth: dict[str, str], body: str, audience: dict[str, Any]) -> str:
    made = _post(
        client,
        auth,
        "/v1/campaigns",
        {"name": "Spring", "variants": [{"name": "A", "body": body}], "audience": audience},
    )
    return str(made["id"])


def test_the_preview_shows_the_first_message_and_the_audiences_segments(
    client: TestClient,
) -> None:
    auth = sign_up(client, sender="+16175550100")
    imported = client.post(
        "/v1/contacts/import",
        headers={**auth, "content-type": "text/csv"},
        content=f"phone,first_name\n{ANA},Ana\n{BO},Bo\n",
    ).json()
    assert imported["created"] == 2, imported
    listed = client.get("/v1/contacts", headers=auth).json()["items"]
    ids = {c["phone"]: c["id"] for c in listed}
    # Ana got a text from an earlier campaign; Bo never did.
    earlier = _campaign(client, auth, "Hi {first_name}!", {"contact_ids": [ids[ANA]]})
    _post(client, auth, f"/v1/campaigns/{earlier}/start")
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 1

    campaign = _campaign(client, auth, TEMPLATE, {"all": True})
    preview = _post(client, auth, f"/v1/campaigns/{campaign}/preview", {})

    # The numbers: 150 / 1 as a repeat message, 172 / 2 as a first message
    [shown] = preview["variants"]
    rendered = TEMPLATE.replace("{first_name|there}", "there")
    assert (shown["body"], shown["encoding"], shown["characters"], shown["segments"]) == (
        rendered,
        "GSM-7",
        150,
        1,
    )
    assert shown["first_message"] == {
        "body": rendered + FOOTER,
        "encoding": "GSM-7",
        "characters": 172,
        "segments": 2,
    }
    # The audience: Ana's own text goes without the footer (1 segment), Bo's with it (2)
    assert (preview["audience_recipients"], preview["audience_segments"]) == (2, 3)
    assert (shown["audience_recipients"], shown["audience_segments"]) == (2, 3)
    assert (preview["first_text"], preview["assigned_variant"]) == (None, None)
    # Each contact's preview says which of its two texts it gets now
    for_ana = _post(client, auth, f"/v1/campaigns/{campaign}/preview", {"contact_id": ids[ANA]})
    for_bo = _post(client, auth, f"/v1/campaigns/{campaign}/preview", {"contact_id": ids[BO]})
    assert (for_ana["first_text"], for_ana["assigned_variant"]) == (False, "A")
    assert (for_bo["first_text"], for_bo["assigned_variant"]) == (True, "A")
    expected = {
        ANA: for_ana["variants"][0]["body"],
        BO: for_bo["variants"][0]["first_message"]["body"],
    }

    # Started, its recipients still to be texted are the audience: the same estimate
    _post(client, auth, f"/v1/campaigns/{campaign}/start")
    started = _post(client, auth, f"/v1/campaigns/{campaign}/preview", {})
    assert (started["audience_recipients"], started["audience_segments"]) == (2, 3)
    recorded = _post(client, auth, f"/v1/campaigns/{campaign}/preview", {"contact_id": ids[BO]})
    assert (recorded["first_text"], recorded["assigned_variant"]) == (True, "A")

    # And the engine sends exactly those texts
    assert tick(client, auth, TUESDAY_11AM_EASTERN)["sent"] == 2
    outbox = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    sent = {m["to"]: m["body"] for m in outbox[-2:]}
    assert sent == expected
    assert sum(measure(body).segments for body in sent.values()) == 3
    after = _post(client, auth, f"/v1/campaigns/{campaign}/preview", {})
    assert (after["audience_recipients"], after["audience_segments"]) == (0, 0)
