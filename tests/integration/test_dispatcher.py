"""The dispatcher on moto: active campaigns found by Query and fanned out once per tick.

The dispatcher's rules on fakes (and the message format) are in ``tests/unit/test_dispatch.py``.
"""

import json
from datetime import UTC, datetime
from typing import Any

import boto3

from outreach.data.models import CampaignModel, dispatch_shard_for
from outreach.sending.dispatch import CampaignWork, Dispatcher
from outreach.sending.work_queue import ActiveCampaignRepository, SqsWorkQueue, get_dispatcher
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
        messages += batch
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(batch)
            ],
        )


def queued(queue_url: str) -> int:
    """The messages waiting on the queue (exact in moto)."""
    attributes = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


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


def test_dispatcher_handles_many_campaigns(send_queue: str) -> None:
    for index in range(300):
        add_campaign(f"ORG{index % 40}", f"CAMPAIGN{index:04d}", active=True)
    dispatcher = Dispatcher(ActiveCampaignRepository(), SqsWorkQueue(send_queue))
    assert dispatcher.dispatch(TICK).campaigns == 300
    # Counted, not drained: moto's FIFO receive grows with the queue (about 20 s here).
    assert queued(send_queue) == 300
