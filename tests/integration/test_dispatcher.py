"""The dispatcher: active campaigns found by Query and fanned out once per tick."""

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from outreach.clock import SimulatedClock
from outreach.data.models import DISPATCH_SHARDS, CampaignModel, dispatch_shard_for
from outreach.sending.dispatch import (
    ActiveCampaignRepository,
    CampaignWork,
    Dispatcher,
    SqsWorkQueue,
    get_dispatcher,
    tick_instant,
)
from outreach_local.runtime import LocalLambdaContext
from outreach_local.template import REPO_ROOT
from tests.support.iam_replay import function_handler

TICK = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def add_campaign(org_id: str, campaign_id: str, *, active: bool) -> None:
    CampaignModel(
        org_id,
        campaign_id,
        org_status=f"{org_id}#{'active' if active else 'draft'}",
        dispatch_shard=dispatch_shard_for(campaign_id) if active else None,
        name="c",
        status="active" if active else "draft",
        variants=[],
        audience={"all": True},
        daily_limit=125,
        timezone="America/New_York",
        window_start="09:00",
        window_end="18:00",
        window_days=["mon"],
        created_at=TICK,
        updated_at=TICK,
    ).save()


def drain(queue_url: str) -> list[Any]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages: list[Any] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            messages.append(message)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_fans_out_each_active_campaign_once(send_queue: str) -> None:
    for index in range(25):
        add_campaign(f"ORG{index % 3}", f"CAMPAIGN{index:03d}", active=True)
    add_campaign("ORG0", "DRAFT", active=False)

    result = get_dispatcher().dispatch(TICK)

    assert result.campaigns == 25
    messages = drain(send_queue)
    works = [CampaignWork.from_message(message["Body"]) for message in messages]
    assert sorted(work.campaign_id for work in works) == [f"CAMPAIGN{i:03d}" for i in range(25)]
    assert all(work.tick == TICK for work in works)
    groups = {m["Attributes"]["MessageGroupId"] for m in messages}
    assert groups == {"ORG0", "ORG1", "ORG2"}


def test_shards_spread_campaigns() -> None:
    shards = {dispatch_shard_for(f"CAMPAIGN{i}") for i in range(200)}
    assert shards == set(range(DISPATCH_SHARDS))


def test_the_same_tick_delivered_three_times_fans_out_once(
    send_queue: str, lambda_context: LocalLambdaContext
) -> None:
    for index in range(12):
        add_campaign("ORG1", f"CAMPAIGN{index:03d}", active=True)
    event = json.loads((REPO_ROOT / "infra/events/scheduler-tick.json").read_text())
    handler = function_handler("dispatcher")
    for _ in range(3):
        assert handler(event, lambda_context)["campaigns"] == 12
    assert len(drain(send_queue)) == 12


def test_a_later_tick_is_new_work(send_queue: str) -> None:
    add_campaign("ORG1", "CAMPAIGN1", active=True)
    dispatcher = get_dispatcher()
    dispatcher.dispatch(TICK)
    dispatcher.dispatch(TICK.replace(minute=1))
    assert len(drain(send_queue)) == 2


def test_no_active_campaigns_sends_nothing(send_queue: str) -> None:
    add_campaign("ORG1", "DRAFT", active=False)
    assert get_dispatcher().dispatch(TICK).campaigns == 0
    assert drain(send_queue) == []


def test_queue_failures_are_retried_then_raised(aws: None) -> None:
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


def test_dispatcher_needs_a_queue_url(aws: None) -> None:
    get_dispatcher.cache_clear()
    with pytest.raises(RuntimeError, match="SEND_QUEUE_URL"):
        get_dispatcher()


def test_dispatcher_handles_many_campaigns(send_queue: str) -> None:
    for index in range(300):
        add_campaign(f"ORG{index % 40}", f"CAMPAIGN{index:04d}", active=True)
    dispatcher = Dispatcher(ActiveCampaignRepository(), SqsWorkQueue(send_queue))
    assert dispatcher.dispatch(TICK).campaigns == 300
    assert len(drain(send_queue)) == 300


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
    assert tick_instant(event, SimulatedClock(datetime(2030, 1, 1, tzinfo=UTC))) == expected


@pytest.mark.parametrize("body", ["[]", "{}", "not json", '{"org_id": "O", "campaign_id": "C"}'])
def test_malformed_work_messages_are_rejected(body: str) -> None:
    with pytest.raises((ValueError, KeyError)):
        CampaignWork.from_message(body)
