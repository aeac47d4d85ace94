"""Auto-replies are bounded exactly on DynamoDB, under concurrent workers (issue 14, point 2).

The rules are tested on fakes in ``tests/unit/test_inbound_auto_replies.py``; here the
service built as the inbound function builds it (:func:`build_inbound_service`: the
DynamoDB store, ``DynamoCounters``, the sandbox provider) runs on moto, many texts at
once from a thread pool, as many Lambda instances would handle them: the HELP mark and
the counters are conditional writes, so exactly as many answers go out as the bounds
allow, however the workers interleave.
"""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from outreach.clock import SimulatedClock
from outreach.data.counters import DynamoCounters
from outreach.data.keys import auto_reply_counter_key, org_daily_counter_key
from outreach.data.models import OutboxMessageModel
from outreach.identity.domain import OrganizationChanges
from outreach.identity.repository import IdentityRepository
from outreach.inbound.domain import InboundText, Outcome
from outreach.inbound.service import InboundService, build_inbound_service
from outreach.sms.outbox import sandbox_box
from outreach.spend import DAY_COUNTER_TTL
from outreach_local.runtime import service_name, service_scope
from tests.support.builders import boston
from tests.support.conversations import inbound_text, inbound_texts
from tests.support.engine import MONDAY_10AM_EASTERN, SENDER, make_org, world_with

WORKERS = 8

pytestmark = pytest.mark.usefixtures("aws")


def organization(limits: OrganizationChanges | None = None) -> tuple[str, SimulatedClock]:
    """A US organization on DynamoDB (sender number ``SENDER``) with these limits."""
    clock = SimulatedClock(MONDAY_10AM_EASTERN)
    org_id = make_org(clock)
    if limits is not None:
        IdentityRepository().update_organization(org_id, limits, now=clock.now(), old_sender=SENDER)
    return org_id, clock


def text_from(service: InboundService, phone: str, body: str = "HELP", **ids: str) -> Outcome:
    """One text handled as the inbound function handles it (in its service scope, so the
    IAM replay checks every call against the function's role), in this thread."""
    text = InboundText(
        from_number=phone,
        to_number=SENDER,
        body=body,
        message_id=ids.get("message_id", str(uuid.uuid4())),
    )
    with service_scope(service_name("inbound")):
        return service.handle_text(text)


def answers(org_id: str) -> Counter[str]:
    """Auto-replies in the sandbox outbox, by number."""
    return Counter(m.to_number for m in OutboxMessageModel.query(sandbox_box(org_id)))


def recorded(org_id: str) -> Counter[str | None]:
    """What became of each recorded text's auto-reply."""
    return Counter(m.auto_reply for m in inbound_texts(org_id))


def test_20_concurrent_helps_from_one_number_get_exactly_one_answer() -> None:
    org_id, clock = organization()
    service = build_inbound_service(clock)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(lambda _: text_from(service, boston(7)), range(20)))
    assert Counter(outcomes) == {Outcome.HELP_SENT: 1, Outcome.HELP_NOT_ANSWERED: 19}
    assert answers(org_id) == Counter({boston(7): 1})
    assert recorded(org_id) == Counter({"sent": 1, "suppressed:help_interval": 19})


def test_30_concurrent_helps_from_30_numbers_get_exactly_the_hourly_limit() -> None:
    org_id, clock = organization(OrganizationChanges(auto_reply_hourly_limit=10))
    service = build_inbound_service(clock)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(lambda index: text_from(service, boston(index)), range(30)))
    sent = answers(org_id)
    assert sum(sent.values()) == 10 and set(sent.values()) == {1}
    assert recorded(org_id) == Counter({"sent": 10, "suppressed:hourly_limit": 20})
    counters = DynamoCounters()
    assert counters.value(auto_reply_counter_key(org_id, "2026-11-23T15")) == 10
    # Each answer took one unit of the organization's day; the refused ones gave theirs back.
    assert counters.value(org_daily_counter_key(org_id, "2026-11-23")) == 10
    # A number not answered kept its HELP answer for later: the next hour answers it.
    unanswered = next(boston(index) for index in range(30) if boston(index) not in sent)
    clock.advance(timedelta(hours=1))
    assert text_from(service, unanswered) is Outcome.HELP_SENT
    assert answers(org_id)[unanswered] == 1
    assert sum(answers(org_id).values()) == 11


def test_concurrent_helps_take_no_more_than_the_organizations_daily_limit() -> None:
    org_id, clock = organization(OrganizationChanges(daily_message_limit=12))
    # Campaign texts took 7 of today's 12 (the sender's units of the same counter).
    day = org_daily_counter_key(org_id, "2026-11-23")
    counters = DynamoCounters()
    assert counters.reserve(day, limit=12, wanted=7, expires_at=clock.now() + DAY_COUNTER_TTL)
    service = build_inbound_service(clock)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(lambda index: text_from(service, boston(index)), range(20)))
    assert sum(answers(org_id).values()) == 5
    assert recorded(org_id) == Counter({"sent": 5, "suppressed:daily_limit": 15})
    assert counters.value(day) == 12
    # The hour's units taken by the refused ones were given back.
    assert counters.value(auto_reply_counter_key(org_id, "2026-11-23T15")) == 5


def test_an_organization_at_its_daily_limit_confirms_nothing_but_opts_out() -> None:
    org_id, clock = organization(OrganizationChanges(daily_message_limit=3))
    day = org_daily_counter_key(org_id, "2026-11-23")
    DynamoCounters().reserve(day, limit=3, wanted=3, expires_at=clock.now() + DAY_COUNTER_TTL)
    service = build_inbound_service(clock)
    assert text_from(service, boston(1), "STOP", message_id="in-stop") is Outcome.OPTED_OUT
    assert answers(org_id) == Counter()
    stored = inbound_text(org_id, "in-stop")
    assert stored.auto_reply == "suppressed:daily_limit"


def test_campaign_texts_and_auto_replies_share_the_organizations_daily_limit() -> None:
    # Given a campaign that sent 3 texts today through the sender, and a limit of 5
    world = world_with(3)
    assert world.sender().run(world.work()).sent == 3
    IdentityRepository().update_organization(
        world.org_id,
        OrganizationChanges(daily_message_limit=5),
        now=world.clock.now(),
        old_sender=SENDER,
    )
    day = org_daily_counter_key(world.org_id, "2026-11-23")
    assert DynamoCounters().value(day) == 3
    # When 6 numbers ask for HELP at once
    service = build_inbound_service(world.clock)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(lambda index: text_from(service, boston(10 + index)), range(6)))
    # Then 2 are answered: 5 texts today in all
    assert sum(1 for m in world.outbox() if m.body == "Acme: call us.") == 2
    assert DynamoCounters().value(day) == 5
    assert recorded(world.org_id) == Counter({"sent": 2, "suppressed:daily_limit": 4})
