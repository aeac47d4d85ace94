"""The stats function: windows of recipient changes written to the counters exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from outreach.data.models import CampaignStatsModel, CounterModel
from outreach.stats.projection import stats_key
from outreach.stats.repository import CHUNK, StatsRepository, window_marker
from outreach.stats.stream import NotAWindowEvent, handle_window
from outreach_local.runtime import LocalLambdaContext
from outreach_local.streams import StatsPump
from tests.support.engine import world_with
from tests.support.iam_replay import function_handler

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SHARD = "shardId-00000001795446000000-1a2b3c4d"


def inserted(campaign_key: str, contact_id: str, variant: str = "A") -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "NewImage": {
                "campaign_key": {"S": campaign_key},
                "contact_id": {"S": contact_id},
                "variant": {"S": variant},
                "status": {"S": "pending"},
            }
        },
    }


def window_event(records: list[dict[str, Any]], *, final: bool, state: Any = None) -> Any:
    return {
        "Records": records,
        "shardId": SHARD,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
        "window": {"start": "2026-11-23T15:00:00Z", "end": "2026-11-23T15:00:15Z"},
        "state": state or {},
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": False,
    }


def window(records: list[dict[str, Any]], *, final: bool, state: Any = None) -> DynamoDBStreamEvent:
    """:func:`window_event` as the stats code receives it (Powertools' data class)."""
    return DynamoDBStreamEvent(window_event(records, final=final, state=state))


def counters(campaign_key: str) -> dict[str, dict[str, int]]:
    return {
        item.variant: {"recipients": int(item.recipients), "pending": int(item.pending)}
        for item in CampaignStatsModel.query(campaign_key, consistent_read=True)
    }


def test_calls_inside_a_window_only_sum_and_the_last_one_writes(aws: None) -> None:
    repository = StatsRepository()
    first = handle_window(window([inserted("o#c", "1")], final=False), repository, NOW)
    assert counters("o#c") == {}
    second = handle_window(
        window([inserted("o#c", "2", "B")], final=False, state=first.state), repository, NOW
    )
    assert second.state == {
        stats_key("o#c", "A"): {"recipients": 1, "pending": 1},
        stats_key("o#c", "B"): {"recipients": 1, "pending": 1},
    }
    last = handle_window(window([], final=True, state=second.state), repository, NOW)
    assert (last.chunks_written, last.chunks_already, last.state) == (1, 0, {})
    assert counters("o#c") == {
        "A": {"recipients": 1, "pending": 1},
        "B": {"recipients": 1, "pending": 1},
    }


def test_a_retried_final_call_counts_once(aws: None) -> None:
    repository = StatsRepository()
    event = window([inserted("o#c", "1"), inserted("o#c", "2")], final=True)
    assert handle_window(event, repository, NOW).chunks_written == 1
    again = handle_window(event, repository, NOW)
    assert (again.chunks_written, again.chunks_already) == (0, 1)
    assert counters("o#c") == {"A": {"recipients": 2, "pending": 2}}
    marker = CounterModel.get(window_marker(SHARD, "2026-11-23T15:00:00Z", 0))
    assert marker.expires_at is not None and marker.expires_at > NOW


def test_a_large_window_is_written_in_chunks_and_a_retry_finishes_only_the_rest(
    aws: None,
) -> None:
    campaigns = [f"o#c{index:03d}" for index in range(CHUNK + 21)]
    event = window([inserted(key, "1") for key in campaigns], final=True)
    # As if the first chunk had been written before the call failed.
    first_chunk = sorted(stats_key(key, "A") for key in campaigns)[:CHUNK]
    StatsRepository().apply_window(
        shard_id=SHARD,
        window_start="2026-11-23T15:00:00Z",
        changes={key: {"recipients": 1, "pending": 1} for key in first_chunk},
        now=NOW,
    )
    result = handle_window(event, StatsRepository(), NOW)
    assert (result.chunks_written, result.chunks_already) == (1, 1)
    assert all(counters(key) == {"A": {"recipients": 1, "pending": 1}} for key in campaigns)


def test_an_event_without_a_window_is_refused(aws: None) -> None:
    event = window_event([inserted("o#c", "1")], final=True)
    del event["window"]
    with pytest.raises(NotAWindowEvent):
        handle_window(DynamoDBStreamEvent(event), StatsRepository(), NOW)


def test_the_handler_returns_the_state_lambda_passes_on(
    aws: None, lambda_context: LocalLambdaContext
) -> None:
    handler = function_handler("stats")
    state = handler(window_event([inserted("o#c", "1")], final=False), lambda_context)["state"]
    assert handler(window_event([], final=True, state=state), lambda_context) == {"state": {}}
    assert counters("o#c") == {"A": {"recipients": 1, "pending": 1}}


def test_pumps_share_the_checkpoint_so_no_change_counts_twice(aws: None) -> None:
    world = world_with(4)
    first = StatsPump(world.clock)
    assert first.drain() == 4  # the snapshot's four inserts
    world.sender().run(world.work())
    # A fresh pump (another process) goes on from the checkpoint, not from the start.
    later = StatsPump(world.clock)
    assert later.drain() > 0
    assert later.drain() == 0 and first.drain() == 0
    assert world.counters()["sent"] == 4
    assert world.counters()["recipients"] == 4 and world.counters()["pending"] == 0
    assert Counter(r.status for r in world.recipients()) == Counter({"sent": 4})
