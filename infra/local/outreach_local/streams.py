"""The recipients stream, delivered to the stats function's code as Lambda would.

In the cloud, Lambda polls the recipients table's stream and calls the stats
function per shard and tumbling window. Locally (the local stack and the
tests) :class:`StatsPump` reads the stream through the DynamoDB Streams API of
the embedded DynamoDB (moto) and calls the same code with an event of the same
shape: each :meth:`StatsPump.drain` is one window per shard, ended at once, so
the statistics are current when it returns.

Like Lambda, the pump checkpoints: the last sequence number counted per shard
is kept in the counters table, so any pump (a test's, the server's) goes on
where the last one stopped. Each drain starts a shard iterator just after the
checkpoint, so a drain with nothing new costs the same at any history. (An
iterator is never kept from one drain to the next: the embedded DynamoDB rolls
a failed transaction back by swapping in a copy of the table, stream included,
and an old iterator would go on reading the discarded stream, silently.) The
local stack keeps one pump per process (:func:`get_stats_pump`).

A window is named after its first and last records; the checkpoint is written
after the window, so a process killed between the two would count that window
again when restarted (locally only).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from botocore.config import Config
from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist

from outreach.clock import Clock, SystemClock
from outreach.config import get_settings
from outreach.data.binding import ensure_models_bound, logical_table_name
from outreach.data.models import CounterModel, RecipientModel
from outreach.stats.repository import StatsRepository
from outreach.stats.stream import handle_window
from outreach_local.runtime import EVENT_SOURCE_SERVICE_NAME, service_name, service_scope


class StreamPump:
    """Drains one table's stream into ``handle`` (a Lambda-shaped event per shard and
    read, ``Records`` and ``eventSourceARN``), checkpointed in the counters table under
    ``name`` (thread-safe, one drain at a time)."""

    def __init__(
        self, model: type[Any], name: str, handle: Callable[[dict[str, Any], str], None]
    ) -> None:
        settings = get_settings()
        kwargs: dict[str, Any] = {"region_name": settings.aws_region}
        if settings.dynamodb_endpoint:
            kwargs["endpoint_url"] = settings.dynamodb_endpoint
        self._dynamodb = boto3.client("dynamodb", **kwargs)
        # botocore would address a stream ARN's account endpoint, which moto does not serve.
        self._streams = boto3.client(
            "dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"), **kwargs
        )
        self._table = settings.table_prefix + logical_table_name(model)
        self._name = name
        self._handle = handle
        self._lock = threading.Lock()

    def drain(self) -> int:
        """Hand every change not handled yet; return how many records were read.

        The stream reads and the checkpoint are Lambda's work; only ``handle`` is the
        function's (and logs, and is checked against its role, as that function).
        """
        with self._lock, service_scope(EVENT_SOURCE_SERVICE_NAME):
            arn = self._dynamodb.describe_table(TableName=self._table)["Table"]["LatestStreamArn"]
            shards = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
            total = 0
            for shard in shards:
                total += self._drain_shard(arn, shard["ShardId"])
            return total

    def _first_iterator(self, arn: str, shard_id: str, done: int) -> str:
        """An iterator just after the checkpoint (or at the shard's start when there is none)."""
        if done >= 0:
            try:
                return str(
                    self._streams.get_shard_iterator(
                        StreamArn=arn,
                        ShardId=shard_id,
                        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                        SequenceNumber=str(done),
                    )["ShardIterator"]
                )
            except ClientError:  # the checkpoint's record was trimmed: read what is left
                pass
        return str(
            self._streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        )

    def _drain_shard(self, arn: str, shard_id: str) -> int:
        ensure_models_bound()
        checkpoint_key = f"{self._name}#{arn}#{shard_id}"
        try:
            done = int(CounterModel.get(checkpoint_key, consistent_read=True).value)
        except DoesNotExist:
            done = -1
        iterator = self._first_iterator(arn, shard_id, done)
        total = 0
        while True:
            response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            iterator = response.get("NextShardIterator") or iterator
            fetched = response.get("Records", [])
            records = [r for r in fetched if int(r["dynamodb"]["SequenceNumber"]) > done]
            if not fetched:
                return total
            if not records:
                continue
            event = {
                "Records": [_as_lambda_gives(record, arn) for record in records],
                "eventSourceARN": arn,
            }
            self._handle(event, shard_id)
            done = int(records[-1]["dynamodb"]["SequenceNumber"])
            CounterModel(checkpoint_key, value=done).save()
            total += len(records)


def _as_lambda_gives(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A record as Lambda's JSON event carries it: boto3 parsed the change's time into a
    ``datetime``; Lambda gives epoch seconds. With the stream's ARN."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": change, "eventSourceARN": arn}


class StatsPump(StreamPump):
    """Drains the recipients stream into the statistics: each read is one tumbling window,
    ended at once."""

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(RecipientModel, "stats-pump", self._window)
        self._clock = clock or SystemClock()

    def _window(self, event: dict[str, Any], shard_id: str) -> None:
        records = event["Records"]
        first = records[0]["dynamodb"]["SequenceNumber"]
        last = records[-1]["dynamodb"]["SequenceNumber"]
        window = {
            **event,
            "shardId": shard_id,
            "window": {"start": f"local-{first}-{last}", "end": f"local-{first}-{last}"},
            "state": {},
            "isFinalInvokeForWindow": True,
            "isWindowTerminatedEarly": False,
        }
        with service_scope(service_name("stats")):
            handle_window(DynamoDBStreamEvent(window), StatsRepository(), self._clock.now())


@lru_cache(maxsize=1)
def get_stats_pump() -> StatsPump:
    """The process's pump of the recipients stream, built on first use from the settings.

    Its position survives between drains (and a new one resumes at the
    checkpoint), so an idle drain reads nothing old.
    """
    return StatsPump()
