"""The sender's spend limits stay exact under concurrent workers, on DynamoDB (issue 14,
points 3 and 4).

Runs of several campaigns of one organization, each delivered more than once at the
same time (the scheduler and SQS both deliver at least once), race on moto from a
thread pool as Lambda instances would, with HELP texts answered by the inbound service
at the same moment. One run at a time holds the organization's sending turn, the
number's rolling window is checked under it, and the organization's day counter is a
conditional ADD shared with the auto-replies: however the workers interleave, a
person gets ``contact_daily_limit`` campaign texts a day and the organization sends
``daily_message_limit`` texts a day, never one more.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest

from outreach.campaigns.domain import SendsQuery
from outreach.campaigns.schemas import SendPublic
from outreach.clock import to_iso
from outreach.data.counters import DynamoCounters
from outreach.data.keys import org_daily_counter_key
from outreach.identity.domain import OrganizationChanges
from outreach.identity.repository import IdentityRepository
from outreach.inbound.domain import InboundText
from outreach.inbound.service import build_inbound_service
from outreach_local.runtime import service_name, service_scope
from tests.support.builders import boston, los_angeles
from tests.support.concurrency import at_once
from tests.support.engine import SENDER, World, add_contacts, start_campaign, world_with

pytestmark = pytest.mark.usefixtures("aws")
DAY = "2026-11-23"


def campaigns_to_the_same_people(
    count: int, people: int, limits: OrganizationChanges | None = None
) -> tuple[World, list[str]]:
    world = world_with(people)
    if limits is not None:
        IdentityRepository().update_organization(
            world.org_id, limits, now=world.clock.now(), old_sender=SENDER
        )
    campaigns = [world.campaign_id] + [start_campaign(world) for _ in range(count - 1)]
    return world, campaigns


def run_campaign(world: World, campaign_id: str) -> None:
    """One run of the campaign's work for this tick, as the sender function runs it."""
    world.sender().run(World(world.org_id, world.clock, campaign_id).work())


def run_each_twice_at_once(world: World, campaigns: list[str], rounds: int = 3) -> None:
    """Each campaign's work delivered twice at the same moment, a few rounds (ticks)."""
    for _ in range(rounds):
        jobs: list[Callable[[], object]] = []
        for campaign_id in campaigns * 2:
            jobs.append(partial(run_campaign, world, campaign_id))
        at_once(jobs)


@pytest.mark.parametrize("limit", [1, 2])
def test_concurrent_campaigns_text_a_person_exactly_contact_daily_limit_times(limit: int) -> None:
    # Given four campaigns started at the same twelve people (the attack: 4 texts each)
    world, campaigns = campaigns_to_the_same_people(
        4, 12, OrganizationChanges(contact_daily_limit=limit)
    )
    # When their runs race, twice each, for three ticks
    run_each_twice_at_once(world, campaigns)
    # Then each person got exactly `limit` texts that day; the rest wait, none is skipped
    texts = Counter(message.to_number for message in world.outbox())
    assert texts == Counter(dict.fromkeys([boston(i) for i in range(12)], limit))
    statuses: Counter[str] = Counter()
    for campaign_id in campaigns:
        statuses += World(world.org_id, world.clock, campaign_id).statuses()
    assert statuses == Counter({"sent": 12 * limit, "pending": 12 * (4 - limit)})


def test_the_organization_daily_limit_is_exact_across_campaigns_and_auto_replies() -> None:
    # Given an organization limited to 13 texts a day, three campaigns of ten new people
    # each, and ten people asking for HELP while the campaigns run
    world, _ = campaigns_to_the_same_people(1, 0, OrganizationChanges(daily_message_limit=13))
    campaigns = []
    for block in range(3):
        add_contacts(world.org_id, [boston(100 * block + i) for i in range(10)], world.clock)
        campaigns.append(start_campaign(world))
    inbound = build_inbound_service(world.clock)

    def ask_for_help(index: int) -> None:
        text = InboundText(
            from_number=los_angeles(index),
            to_number=SENDER,
            body="HELP",
            message_id=str(uuid.uuid4()),
        )
        with service_scope(service_name("inbound")):
            inbound.handle_text(text)

    jobs: list[Callable[[], object]] = [partial(ask_for_help, index) for index in range(10)]
    jobs += [partial(run_campaign, world, campaign_id) for campaign_id in campaigns]
    # When they all run at once, then the campaigns run again (a second tick)
    at_once(jobs)
    run_each_twice_at_once(world, campaigns, rounds=1)
    # Then the organization sent exactly 13 texts that day, campaigns and answers together
    assert len(world.outbox()) == 13
    assert DynamoCounters().value(org_daily_counter_key(world.org_id, DAY)) == 13


def test_the_sends_of_a_person_held_back_say_why_and_until_when() -> None:
    # Given two campaigns at the same five people, run one after the other this morning
    world, (first, second) = campaigns_to_the_same_people(2, 5)
    run_campaign(world, first)
    run_campaign(world, second)
    # When the second campaign's sends are read (as GET .../sends answers them)
    page = world.services().sends(world.org_id, SendsQuery(second), limit=50, cursor=None)
    answers = [SendPublic.of(send).model_dump(mode="json") for send in page.items]
    # Then each waits for the person's window, until a day after their first text
    first_texts = {r.phone: r.sent_at for r in World(world.org_id, world.clock, first).recipients()}
    assert len(answers) == 5
    for answer in answers:
        assert answer["status"] == "pending"
        assert answer["waiting_reason"] == "frequency_cap"
        sent_at = first_texts[answer["phone"]]
        assert sent_at is not None
        assert answer["next_attempt_at"] == to_iso(sent_at + timedelta(hours=24))
