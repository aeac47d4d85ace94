"""The dispatcher's rules and the send queue's message format, on fakes: no AWS.

The dispatch index's Query and the FIFO queue's deduplication are tested on moto
in ``tests/integration/test_dispatcher.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from outreach.clock import SimulatedClock
from outreach.data.models import DISPATCH_SHARDS, dispatch_shard_for
from outreach.sending.dispatch import CampaignWork, Dispatcher, tick_instant
from outreach.sending.work_queue import SqsWorkQueue, get_dispatcher
from tests.support.fakes.sending import InMemoryActiveCampaigns, InMemoryWorkQueue

TICK = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def test_every_active_campaign_of_every_shard_is_queued_once_for_the_tick() -> None:
    # Given active campaigns spread over the shards
    index = InMemoryActiveCampaigns()
    for number in range(25):
        campaign_id = f"CAMPAIGN{number:03d}"
        index.shards.setdefault(dispatch_shard_for(campaign_id), []).append(
            (f"ORG{number % 3}", campaign_id)
        )
    queue = InMemoryWorkQueue()
    # When a tick is dispatched
    result = Dispatcher(index, queue).dispatch(TICK)
    # Then each is one unit of work for that tick
    assert result.campaigns == 25
    assert result.as_dict() == {"tick": "2026-11-23T15:00:00.000Z", "campaigns": 25}
    assert sorted(work.campaign_id for work in queue.works) == [
        f"CAMPAIGN{i:03d}" for i in range(25)
    ]
    assert all(work.tick == TICK for work in queue.works)


def test_a_scheduler_event_is_dispatched_at_its_scheduled_time() -> None:
    index = InMemoryActiveCampaigns({0: [("ORG", "C")]})
    queue = InMemoryWorkQueue()
    clock = SimulatedClock(datetime(2030, 1, 1, tzinfo=UTC))
    result = Dispatcher(index, queue, shards=[0]).dispatch_scheduled(
        {"scheduled_time": "2026-11-23T15:00:00Z"}, clock
    )
    assert result.tick == TICK
    assert queue.works == [CampaignWork("ORG", "C", TICK)]


def test_the_same_campaign_in_the_same_minute_is_the_same_work() -> None:
    first = CampaignWork("ORG", "C", TICK)
    assert first.deduplication_id == "C-20261123T1500"
    assert CampaignWork("ORG", "C", TICK.replace(second=59)).deduplication_id == "C-20261123T1500"
    assert CampaignWork("ORG", "C", TICK.replace(minute=1)).deduplication_id != "C-20261123T1500"
    assert CampaignWork.from_message(first.to_message()) == first


def test_shards_spread_campaigns() -> None:
    # Moved from tests/integration/test_dispatcher.py.
    shards = {dispatch_shard_for(f"CAMPAIGN{i}") for i in range(200)}
    assert shards == set(range(DISPATCH_SHARDS))


def test_queue_failures_are_retried_then_raised() -> None:
    # Moved from tests/integration/test_dispatcher.py.
    class FlakyClient:
        def __init__(self, failures: int) -> None:
            self.failures = failures
            self.calls: list[list[str]] = []

        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
            self.calls.append([entry["Id"] for entry in Entries])
            if self.failures:
                self.failures -= 1
                return {"Failed": [{"Id": Entries[0]["Id"], "SenderFault": False, "Code": "x"}]}
            return {"Successful": []}

    works = [CampaignWork("ORG", f"C{i}", TICK) for i in range(12)]
    flaky = FlakyClient(failures=1)
    SqsWorkQueue("url", client=flaky).publish(works)  # type: ignore[arg-type]
    assert flaky.calls == [[str(i) for i in range(10)], ["0"], [str(i) for i in range(2)]]

    broken = FlakyClient(failures=99)
    with pytest.raises(RuntimeError, match="could not be queued"):
        SqsWorkQueue("url", client=broken).publish(works)  # type: ignore[arg-type]


def test_dispatcher_needs_a_queue_url() -> None:
    # Moved from tests/integration/test_dispatcher.py.
    get_dispatcher.cache_clear()
    with pytest.raises(RuntimeError, match="SEND_QUEUE_URL"):
        get_dispatcher()


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"scheduled_time": "2026-11-23T15:00:00Z"}, TICK),
        ({"scheduled_time": "2026-11-23T10:00:00-05:00"}, TICK),
        ({"scheduled_time": "2026-11-23T15:00:00"}, TICK),
        ({"scheduled_time": "<aws.scheduler.scheduled-time>"}, datetime(2030, 1, 1, tzinfo=UTC)),
        ({"scheduled_time": "yesterday"}, datetime(2030, 1, 1, tzinfo=UTC)),
        ({}, datetime(2030, 1, 1, tzinfo=UTC)),
    ],
)
def test_tick_instant(event: dict[str, Any], expected: datetime) -> None:
    # Moved from tests/integration/test_dispatcher.py.
    assert tick_instant(event, SimulatedClock(datetime(2030, 1, 1, tzinfo=UTC))) == expected


@pytest.mark.parametrize("body", ["[]", "{}", "not json", '{"org_id": "O", "campaign_id": "C"}'])
def test_malformed_work_messages_are_rejected(body: str) -> None:
    # Moved from tests/integration/test_dispatcher.py.
    with pytest.raises((ValueError, KeyError)):
        CampaignWork.from_message(body)
