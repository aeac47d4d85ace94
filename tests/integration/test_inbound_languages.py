"""Opt-outs in other languages and opt-in words from numbers never opted out, end to end
(issue 15, "Why": "Opt-outs in other languages are ignored" and "A bare Yes is
swallowed"; ``sending-rules.md``, "Keywords in other languages").

First through the inbound function on moto (SQS records of End User Messaging's SNS
notifications, the sender's phone history, the stats stream, the sandbox outbox), then
through the local stack's HTTP API (``/v1/dev/inbound`` and the campaign's stats). Every
keyword and look-alike is tested on fakes in ``tests/unit/test_keywords.py`` and
``tests/unit/test_inbound_service.py``.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outreach.contacts.repository import OptOutRepository
from outreach.data.keys import campaign_key
from outreach.data.models import CampaignStatsModel, OutboxMessageModel
from outreach.identity.repository import IdentityRepository
from outreach.replies import Language, opt_out_confirmation
from outreach.sms.outbox import sandbox_box
from outreach_local.runtime import LocalLambdaContext
from outreach_local.server import build_app
from tests.support.builders import boston
from tests.support.conversations import inbound_texts
from tests.support.engine import World, start_campaign, world_with
from tests.support.inbound_events import (
    all_processed,
    handled_by_inbound_function,
    text_event,
    use_sample_topics,
)
from tests.support.local_api import sign_up, tick
from tests.support.local_api import start_campaign as start_campaign_over_http

# The inputs, taken from public problem reports, and the language each is in.
FOREIGN_STOPS = [
    ("ARRET", Language.FR),
    ("Arrêt", Language.FR),
    ("ALTO", Language.ES),
    ("PARAR", Language.ES),
    ("No más mensajes por favor", Language.ES),
]
MONDAY_10AM_EASTERN = "2026-11-23T15:00:00Z"


@pytest.fixture
def sample_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's own topics (template.yaml passes them) are the sample events' ones."""
    use_sample_topics(monkeypatch)


@pytest.fixture
def sent(aws: None, sample_topics: None) -> World:
    """An organization whose campaign texted six Boston numbers five minutes ago."""
    world = world_with(6)
    assert world.sender().run(world.work()).sent == 6
    world.clock.advance(timedelta(minutes=5))
    return world


@pytest.fixture
def inbound(sent: World, lambda_context: LocalLambdaContext) -> Any:
    """The outcomes of one batch handled as the inbound function handles it (no failure)."""

    def call(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
        return handled_by_inbound_function(event, lambda_context)

    return partial(all_processed, call)


def campaign_counts(world: World) -> Counter[str]:
    """The campaign's reply, replier and opt-out counters, over its variants."""
    totals: Counter[str] = Counter()
    for item in CampaignStatsModel.query(campaign_key(world.org_id, world.campaign_id)):
        for name in ("replies", "repliers", "opt_outs"):
            totals[name] += int(getattr(item, name) or 0)
    return totals


def outbox_to(world: World, phone: str) -> list[str]:
    return [
        m.body for m in OutboxMessageModel.query(sandbox_box(world.org_id)) if m.to_number == phone
    ]


def test_foreign_stops_opt_out_confirm_in_their_language_and_stop_later_campaigns(
    sent: World, inbound: Any
) -> None:
    # When five of the six numbers send the Spanish and French opt-outs
    for index, (body, _) in enumerate(FOREIGN_STOPS):
        assert inbound(text_event(body, sender=boston(index))) == {"opted_out": 1}
    # Then each is on the list as a keyword opt-out, counted, and confirmed in its language
    organization = IdentityRepository().get_organization(sent.org_id)
    for index, (_, language) in enumerate(FOREIGN_STOPS):
        entry = OptOutRepository().get(sent.org_id, boston(index))
        assert entry is not None and entry.source.value == "keyword"
        assert outbox_to(sent, boston(index))[-1] == opt_out_confirmation(organization, language)
    assert campaign_counts(sent)["opt_outs"] == 5
    kinds = Counter(m.keyword for m in inbound_texts(sent.org_id))
    assert kinds == {"opt_out": 5}
    # And a later campaign to everyone texts only the number that did not opt out
    first_campaign = sent.campaign_id
    sent.clock.advance(timedelta(days=1))  # Tuesday: past the one-text-a-day cap per number
    second_campaign = start_campaign(sent)
    assert second_campaign != first_campaign
    assert sent.sender().run(sent.work()).sent == 1
    # (the opted-out numbers are left out of its audience at start)
    assert [(r.phone, r.status) for r in sent.recipients()] == [(boston(5), "sent")]
    for index in range(5):
        assert len(outbox_to(sent, boston(index))) == 2  # the first campaign's, the confirmation


@pytest.mark.parametrize("body", ["YES", "Sí", "OUI"])
def test_a_bare_yes_from_a_number_never_opted_out_counts_as_a_reply(
    sent: World, inbound: Any, body: str
) -> None:
    variant = next(r.variant for r in sent.recipients() if r.phone == boston(1))
    assert inbound(text_event(body, sender=boston(1))) == {"reply": 1}
    counts = campaign_counts(sent)
    assert (counts["replies"], counts["repliers"]) == (1, 1)
    (stored,) = inbound_texts(sent.org_id)
    assert (stored.keyword, stored.campaign_id, stored.variant) == (
        "reply",
        sent.campaign_id,
        variant,
    )
    assert stored.auto_reply is None
    # No confirmation, and nothing was on the list or is now.
    assert len(outbox_to(sent, boston(1))) == 1
    assert OptOutRepository().get(sent.org_id, boston(1)) is None


# --- Through the local stack's HTTP API ---------------------------------------------------


@pytest.fixture
def client(send_queue: str) -> TestClient:
    return TestClient(build_app())


def inbound_text(client: TestClient, auth: dict[str, str], sender: str, body: str) -> str:
    answer = client.post(
        "/v1/dev/inbound",
        headers=auth,
        json={"from": sender, "to": "+16175550100", "body": body},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["outcome"])


def test_yes_moves_the_campaigns_reply_count_and_alto_its_opt_outs_over_http(
    client: TestClient,
) -> None:
    auth = sign_up(client, sender="+16175550100")
    campaign_id = start_campaign_over_http(client, auth, [f"617555{i:04d}" for i in range(4)])
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 4

    assert inbound_text(client, auth, "+16175550000", "Yes") == "reply"
    assert inbound_text(client, auth, "+16175550001", "sí") == "reply"
    assert inbound_text(client, auth, "+16175550002", "ALTO") == "opted_out"
    assert inbound_text(client, auth, "+16175550003", "AYUDA") == "help_sent"

    stats = client.get(f"/v1/campaigns/{campaign_id}/stats", headers=auth).json()
    assert (stats["replies"], stats["opt_outs"]) == (2, 1)
    assert sum(variant["replies"] for variant in stats["variants"]) == 2
    outbox = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    answers = {
        m["to"]: m["body"] for m in outbox if "Hi" not in m["body"] and "Hey" not in m["body"]
    }
    assert set(answers) == {"+16175550002", "+16175550003"}
    assert answers["+16175550002"].startswith("Acme: se ha dado de baja")
    assert answers["+16175550003"].startswith("Acme: ")
    assert "ALTO" in answers["+16175550003"]
    opted_out = client.get("/v1/opt-outs", headers=auth).json()["items"]
    assert [entry["phone"] for entry in opted_out] == ["+16175550002"]
