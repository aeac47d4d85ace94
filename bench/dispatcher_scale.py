"""The dispatcher at scale: one tick over N active campaigns, beside a raw Query-and-send loop.

For each size N (default 1,000, 2,500, 5,000 and 10,000), on in-process moto
with the template's tables and the send queue (and its dead-letter queue) as
template.yaml declares them (FIFO, no content-based deduplication): N active
campaigns over N/10 organizations, 10 each. The first campaign is created and
started through the campaigns repository (``CampaignRepository.create``, then
the ``start`` transition, which writes ``status``, ``org_status`` and the sparse
``dispatch`` index's ``dispatch_shard``); the others are copies of its stored
item with their own keys, ``org_status`` and ``dispatch_shard_for(campaign_id)``,
written with BatchWriteItem (untimed). A larger size adds organizations to the
same table. Then, ``--runs`` times per size, in alternating order:

1. The dispatcher: ``get_dispatcher().dispatch(tick)``, the real ``Dispatcher``
   over the real ``ActiveCampaignRepository`` (PynamoDB, one Query per shard of
   the ``dispatch`` index, read in the calling thread) and ``SqsWorkQueue``
   (SendMessageBatch of 10 from 8 threads), timed.
2. The raw baseline, over the same index in the same run: a plain boto3 loop
   that Queries each shard (keys only, paginated), then sends the same messages
   (the same body; group id: the organization; deduplication id: the campaign
   and the minute) with SendMessageBatch of 10 from 8 threads, timed.

Before each tick the send queue is deleted and created again (untimed: moto,
like SQS, refuses a second purge within 60 s), and each tick has a minute of
its own, so deduplication drops nothing. After each tick (untimed) the queue
must hold exactly N messages (ApproximateNumberOfMessages), one per campaign,
with the campaign's organization as message group and the campaign and minute
as deduplication id, else the bench stops with exit status 1. The calls each
tick makes are counted (``BaseClient._make_api_call`` wrapped, every thread):
Query pages and SendMessageBatch calls.

Goals (issue 16, point 4): dispatcher / raw <= 1.5 at every size; the
dispatcher's time per 1,000 campaigns flat within +-20 % from the smallest size
to the largest (each size's figure against the smallest size's).

Two moto artifacts are corrected while ticks are timed, for both loops alike
(``--stock-moto`` times moto as it is, small sizes only):

* For every message a FIFO queue takes, moto builds the queue's whole attribute
  map six times (``ApproximateNumberOfMessages`` and two other counts walk every
  message, reading the clock for each) and looks for an earlier message with the
  same deduplication id by walking the queue: a send costs time in proportion to
  the queue's length, so a tick of N messages costs N squared (about 35 ms a
  message with 100 on the queue, minutes for 1,000). SQS does neither. While a
  tick is timed, ``Queue.attributes`` answers one attribute at a time (what the
  send path asks for) and the deduplication is a lookup in an index of the ids
  sent, with moto's rule (the same id within 5 minutes is dropped).
* moto makes each entry a keys-only index returns by converting the whole base
  item to JSON once per key attribute (four times here), so a Query's time grows
  with the campaign items' size (their variants, audience, window), which a
  keys-only index does not store. While a tick is timed, a keys-only entry is
  built from the item's key attributes (the same entries: same names, values).

What remains of moto's cost (its request parsing and response serializing, the
deep copy of the items a Query matches) is paid by both loops alike.

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/dispatcher_scale.py
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the project root: bench._setup

PREFIX = "bench-"
REGION = "us-east-1"
CAMPAIGNS_PER_ORGANIZATION = 10
SQS_BATCH = 10  # SendMessageBatch's most entries
PARALLELISM = 8  # SqsWorkQueue's default threads
GOAL_RATIO = 1.5
GOAL_FLAT = 0.20  # +-20 % of the smallest size's time per 1,000 campaigns
FIRST_TICK = datetime.fromisoformat("2026-11-23T15:00:00+00:00")  # Monday 10:00 New York
QUERY = "dynamodb Query"
SEND_BATCH = "sqs SendMessageBatch"


def fail(message: str) -> None:
    """Stop the bench: exit status 1 (a figure the bench cannot trust)."""
    sys.exit(f"error: {message}")


# --- What is counted ---------------------------------------------------------------------------


class CallCounter:
    """Stands in for ``BaseClient._make_api_call``: counts and times every call, from any thread.

    The times are summed: the Queries are made one after another (in the calling
    thread), so theirs is the tick's time spent reading the index.
    """

    def __init__(self, original: Any) -> None:
        self._original = original
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._seconds: defaultdict[str, float] = defaultdict(float)

    def install(self, client_class: Any) -> None:
        counter = self

        def counted(client: Any, operation: str, params: Any) -> Any:
            label = f"{client.meta.service_model.service_name} {operation}"
            begin = time.perf_counter()
            try:
                return counter._original(client, operation, params)
            finally:
                elapsed = time.perf_counter() - begin
                with counter._lock:
                    counter._calls[label] += 1
                    counter._seconds[label] += elapsed

        client_class._make_api_call = counted

    def take(self) -> tuple[Counter[str], defaultdict[str, float]]:
        """The calls counted, and their seconds, since the last take."""
        with self._lock:
            taken = self._calls, self._seconds
            self._calls, self._seconds = Counter(), defaultdict(float)
        return taken


# --- moto's FIFO queue, at SQS's cost ----------------------------------------------------------


class OneAttributeAtATime:
    """``Queue.attributes`` for the send path: computes only the attribute asked for."""

    def __init__(self, queue: Any, to_field: Callable[[str], str]) -> None:
        self._queue = queue
        self._to_field = to_field

    def get(self, name: str, default: Any = None) -> Any:
        value = getattr(self._queue, self._to_field(name), default)
        return str(value).lower() if isinstance(value, bool) else value  # as moto renders them


@contextlib.contextmanager
def moto_at_service_cost(enabled: bool) -> Iterator[None]:
    """While open, moto answers the ticks' calls without its two walks (see the module
    docstring): a queue takes a message in constant time, and a keys-only index entry is
    made of the item's keys alone.

    The deduplication index lives on the queue object, so it holds every message
    of a queue created while it was open (the bench creates a new queue per tick).
    """
    if not enabled:
        yield
        return
    from moto.core.utils import camelcase_to_underscores
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import SecondaryIndex
    from moto.sqs.models import DEDUPLICATION_TIME_IN_SECONDS, Queue

    queue_class: Any = Queue  # patched for the block's time
    index_class: Any = SecondaryIndex
    original_attributes = vars(Queue)["attributes"]
    original_add = queue_class.add_message
    original_project = index_class.project

    def add_message(queue: Any, message: Any) -> None:
        if (
            not queue.fifo_queue
            or not message.deduplication_id
            or queue.lambda_event_source_mappings
        ):
            original_add(queue, message)
            return
        last_sent: dict[str, int] = vars(queue).setdefault("_bench_last_sent", {})
        previous = last_sent.get(message.deduplication_id)
        if previous is not None and (
            (message.sent_timestamp - previous) / 1000 < DEDUPLICATION_TIME_IN_SECONDS
        ):
            return
        last_sent[message.deduplication_id] = message.sent_timestamp
        with queue._messages_lock:
            queue._messages.append(message)
            queue._messages_lock.notify_all()

    def project(index: Any, item: Any) -> Any:
        if (index.projection or {}).get("ProjectionType") != "KEYS_ONLY":
            return original_project(index, item)
        names = dict.fromkeys([*index.table_key_attrs, *index.schema_key_attrs])
        keys = {name: item.attrs[name].to_json() for name in names if name in item.attrs}
        return Item(hash_key=item.hash_key, range_key=item.range_key, attrs=keys)

    to_field = functools.cache(camelcase_to_underscores)
    queue_class.attributes = property(lambda queue: OneAttributeAtATime(queue, to_field))
    queue_class.add_message = add_message
    index_class.project = project
    try:
        yield
    finally:
        queue_class.attributes = original_attributes
        queue_class.add_message = original_add
        index_class.project = original_project


# --- The send queue ----------------------------------------------------------------------------


def queue_attributes(properties: dict[str, Any], arns: dict[str, str]) -> dict[str, str]:
    """CreateQueue attributes from a template queue's properties (all but its name)."""
    attributes: dict[str, str] = {}
    for name, value in properties.items():
        if name == "QueueName":
            continue
        if name == "RedrivePolicy":
            logical_id, _ = value["deadLetterTargetArn"]["Fn::GetAtt"]
            policy = {
                "deadLetterTargetArn": arns[logical_id],
                "maxReceiveCount": value["maxReceiveCount"],
            }
            attributes[name] = json.dumps(policy)
        else:
            attributes[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return attributes


def queue_name(properties: dict[str, Any], prefix: str) -> str:
    """``!Sub "${AWS::StackName}-send.fifo"`` with the bench's prefix for the stack name."""
    text: str = properties["QueueName"]["Fn::Sub"]
    return text.replace("${AWS::StackName}-", prefix)


class SendQueue:
    """The template's ``SendQueue`` (with its ``SendDeadLetterQueue``) on moto."""

    def __init__(self, sqs: Any, resources: dict[str, Any], prefix: str) -> None:
        self._sqs = sqs
        dead_letter = resources["SendDeadLetterQueue"]["Properties"]
        dead_letter_url = sqs.create_queue(
            QueueName=queue_name(dead_letter, prefix), Attributes=queue_attributes(dead_letter, {})
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])
        properties = resources["SendQueue"]["Properties"]
        self.properties = properties
        self.name = queue_name(properties, prefix)
        self._attributes = queue_attributes(
            properties, {"SendDeadLetterQueue": arn["Attributes"]["QueueArn"]}
        )
        self.url = self._create()

    def _create(self) -> str:
        url: str = self._sqs.create_queue(QueueName=self.name, Attributes=self._attributes)[
            "QueueUrl"
        ]
        return url

    def renew(self) -> None:
        """An empty queue at the same URL (deleted and created again)."""
        self._sqs.delete_queue(QueueUrl=self.url)
        if self._create() != self.url:
            fail("the send queue came back at another URL")

    def check(self, expected: dict[str, str], tick: datetime) -> tuple[int, int]:
        """The messages (ApproximateNumberOfMessages) and message groups on the queue, checked
        against ``expected`` (campaign id -> organization id) and the tick's minute."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import sqs_backends

        from outreach.clock import to_iso

        reply = self._sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        count = int(reply["Attributes"]["ApproximateNumberOfMessages"])
        if count != len(expected):
            fail(f"{count} messages on the queue after a tick over {len(expected)} campaigns")
        messages = sqs_backends[DEFAULT_ACCOUNT_ID][REGION].queues[self.name]._messages
        minute, instant = f"{tick:%Y%m%dT%H%M}", to_iso(tick)
        campaigns: set[str] = set()
        groups: set[str] = set()
        for message in messages:
            body = json.loads(message.body)
            campaign_id = body["campaign_id"]
            org_id = expected.get(campaign_id)
            if (body["org_id"], message.group_id, body["tick"]) != (org_id, org_id, instant):
                fail(f"message {message.body} in group {message.group_id}: not its organization's")
            if message.deduplication_id != f"{campaign_id}-{minute}":
                fail(f"message of {campaign_id}: deduplication id {message.deduplication_id}")
            campaigns.add(campaign_id)
            groups.add(body["org_id"])
        if len(messages) != len(campaigns):
            fail(f"{len(messages)} messages for {len(campaigns)} campaigns")
        return count, len(groups)


# --- The active campaigns ----------------------------------------------------------------------


@dataclass
class Campaigns:
    """Active campaigns as the product stores them, added organization by organization."""

    dynamodb: Any
    table: str
    now: datetime
    expected: dict[str, str] = field(default_factory=dict)  # campaign id -> organization id
    stored: dict[str, Any] = field(default_factory=dict)  # the product's item, copied
    organizations: int = 0
    seconds: float = 0.0

    def grow(self, size: int) -> None:
        """Add organizations of 10 active campaigns (the last maybe fewer) up to ``size``."""
        from bench._steps import write_raw

        from outreach.campaigns.statuses import CampaignStatus
        from outreach.data.models import dispatch_shard_for
        from outreach.ids import new_id

        begin = time.perf_counter()
        items: list[dict[str, Any]] = []
        while len(self.expected) < size:
            org_id = new_id(self.now)
            self.organizations += 1
            for _ in range(min(CAMPAIGNS_PER_ORGANIZATION, size - len(self.expected))):
                if not self.stored:
                    self.stored = self.start_through_the_product(org_id)
                    self.expected[self.stored["campaign_id"]["S"]] = org_id
                    continue
                campaign_id = new_id(self.now)
                items.append(
                    {
                        **self.stored,
                        "org_id": {"S": org_id},
                        "campaign_id": {"S": campaign_id},
                        "org_status": {"S": f"{org_id}#{CampaignStatus.ACTIVE.value}"},
                        "dispatch_shard": {"N": str(dispatch_shard_for(campaign_id))},
                    }
                )
                self.expected[campaign_id] = org_id
        write_raw(self.dynamodb, self.table, items)
        self.seconds += time.perf_counter() - begin

    def start_through_the_product(self, org_id: str) -> dict[str, Any]:
        """One campaign created, then started, by the campaigns repository: its stored item."""
        from outreach.campaigns.domain import (
            DEFAULT_WINDOW,
            TRANSITIONS,
            Audience,
            Campaign,
            CampaignStatus,
            LeftOut,
            ab_variants,
        )
        from outreach.campaigns.repository import CampaignRepository
        from outreach.data.models import dispatch_shard_for
        from outreach.ids import new_id

        campaign = Campaign(
            id=new_id(self.now),
            org_id=org_id,
            name="Dispatcher bench",
            status=CampaignStatus.DRAFT,
            variants=ab_variants("Hi {first_name}!", "Hey {first_name}."),
            audience=Audience(all=True),
            daily_limit=1_000,
            timezone="America/New_York",
            window=DEFAULT_WINDOW,
            start_at=None,
            end_at=None,
            recipients=0,
            created_at=self.now,
            updated_at=self.now,
            started_at=None,
            completed_at=None,
        )
        repository = CampaignRepository()
        repository.create(campaign)
        start = replace(TRANSITIONS["start"], recipients=100, left_out=LeftOut())
        repository.transition(org_id, campaign.id, start, now=self.now)
        key = {"org_id": {"S": org_id}, "campaign_id": {"S": campaign.id}}
        item: dict[str, Any] = self.dynamodb.get_item(
            TableName=self.table, Key=key, ConsistentRead=True
        )["Item"]
        shard = {"N": str(dispatch_shard_for(campaign.id))}
        active = CampaignStatus.ACTIVE.value
        if (item["status"]["S"], item["org_status"]["S"], item.get("dispatch_shard")) != (
            active,
            f"{org_id}#{active}",
            shard,
        ):
            fail(f"a started campaign is stored as {item}")
        return item


# --- The two ticks -----------------------------------------------------------------------------


def raw_tick(dynamodb: Any, sqs: Any, table: str, queue_url: str, tick: datetime) -> int:
    """The minimal code doing the dispatcher's job: Query every shard, send batches of 10."""
    from outreach.clock import to_iso
    from outreach.data.models import DISPATCH_SHARDS

    keys: list[tuple[str, str]] = []
    for shard in range(DISPATCH_SHARDS):
        request: dict[str, Any] = {
            "TableName": table,
            "IndexName": "dispatch",
            "KeyConditionExpression": "dispatch_shard = :shard",
            "ExpressionAttributeValues": {":shard": {"N": str(shard)}},
        }
        while True:
            page = dynamodb.query(**request)
            keys += [(item["org_id"]["S"], item["campaign_id"]["S"]) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    instant, minute = to_iso(tick), f"{tick:%Y%m%dT%H%M}"

    def send(offset: int) -> None:
        entries = [
            {
                "Id": str(index),
                "MessageBody": json.dumps(
                    {"org_id": org_id, "campaign_id": campaign_id, "tick": instant}
                ),
                "MessageGroupId": org_id,
                "MessageDeduplicationId": f"{campaign_id}-{minute}",
            }
            for index, (org_id, campaign_id) in enumerate(keys[offset : offset + SQS_BATCH])
        ]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"{len(failed)} messages not queued: {failed}")

    with ThreadPoolExecutor(max_workers=PARALLELISM) as pool:
        for _ in pool.map(send, range(0, len(keys), SQS_BATCH)):
            pass
    return len(keys)


@dataclass(frozen=True)
class Tick:
    """One timed tick and what it left on the queue."""

    seconds: float
    calls: Counter[str]
    query_s: float  # in the Query calls
    messages: int
    groups: int


@dataclass
class Size:
    """The ticks of one size."""

    campaigns: int
    organizations: int
    ticks: dict[str, list[Tick]] = field(default_factory=lambda: {"dispatcher": [], "raw": []})

    def median_s(self, label: str) -> float:
        return statistics.median(tick.seconds for tick in self.ticks[label])

    def per_thousand_ms(self, label: str) -> float:
        return 1000 * self.median_s(label) / (self.campaigns / 1000)

    @property
    def ratio(self) -> float:
        return self.median_s("dispatcher") / self.median_s("raw")

    def query_ms(self, label: str) -> float:
        return 1000 * statistics.median(tick.query_s for tick in self.ticks[label])

    def calls(self, label: str, name: str) -> int:
        return max(tick.calls[name] for tick in self.ticks[label])


def main() -> None:  # noqa: PLR0915 - one linear measurement script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1_000, 2_500, 5_000, 10_000],
        help="comma-separated active campaign counts (default 1000,2500,5000,10000)",
    )
    parser.add_argument("--runs", type=int, default=5, help="ticks per size and loop (median)")
    parser.add_argument(
        "--stock-moto",
        action="store_true",
        help="time moto's queue as it is (a send costs the queue's length: small sizes only)",
    )
    args = parser.parse_args()
    sizes: list[int] = sorted(set(args.sizes))
    if sizes[0] < 1 or args.runs < 1:
        parser.error("sizes and runs must be positive")

    from bench._setup import use_bench_environment

    use_bench_environment(PREFIX)  # before any project module is imported
    import warnings

    import boto3
    from botocore.client import BaseClient
    from moto import mock_aws

    from outreach.config import get_settings
    from outreach.data.binding import bind_models
    from outreach.observability import logger
    from outreach.sending.dispatch import Dispatcher
    from outreach_local.template import create_tables, load_template

    get_settings.cache_clear()
    logger.setLevel("ERROR")
    warnings.simplefilter("ignore")
    original = BaseClient._make_api_call  # type: ignore[attr-defined]
    total_begin = time.perf_counter()
    measured: list[Size] = []
    warm: dict[str, float] = {}
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        create_tables(dynamodb, PREFIX)
        table = f"{PREFIX}campaigns"
        queue = SendQueue(sqs, load_template()["Resources"], PREFIX)
        os.environ["SEND_QUEUE_URL"] = queue.url
        get_settings.cache_clear()
        from outreach.sending.work_queue import get_dispatcher

        get_dispatcher.cache_clear()
        bind_models(get_settings())
        dispatcher: Dispatcher = get_dispatcher()
        campaigns = Campaigns(dynamodb, table, FIRST_TICK - timedelta(days=1))
        counter = CallCounter(original)
        counter.install(BaseClient)
        minutes = iter(range(1_000_000))

        def dispatcher_tick(tick: datetime) -> int:
            return dispatcher.dispatch(tick).campaigns

        def baseline_tick(tick: datetime) -> int:
            return raw_tick(dynamodb, sqs, table, queue.url, tick)

        loops: dict[str, Callable[[datetime], int]] = {
            "dispatcher": dispatcher_tick,
            "raw": baseline_tick,
        }

        def run(label: str) -> Tick:
            queue.renew()
            tick = FIRST_TICK + timedelta(minutes=next(minutes))
            counter.take()
            with moto_at_service_cost(not args.stock_moto):
                begin = time.perf_counter()
                dispatched = loops[label](tick)
                elapsed = time.perf_counter() - begin
            calls, seconds = counter.take()
            if dispatched != len(campaigns.expected):
                fail(f"{label}: {dispatched} campaigns dispatched of {len(campaigns.expected)}")
            messages, groups = queue.check(campaigns.expected, tick)
            return Tick(elapsed, calls, seconds[QUERY], messages, groups)

        try:
            for size in sizes:
                campaigns.grow(size)
                if not warm:  # first calls: clients, connections, imports (not counted)
                    warm = {label: run(label).seconds for label in loops}
                result = Size(size, campaigns.organizations)
                for index in range(args.runs):
                    order = list(loops) if index % 2 == 0 else list(reversed(loops))
                    for label in order:
                        result.ticks[label].append(run(label))
                measured.append(result)
        finally:
            BaseClient._make_api_call = original  # type: ignore[attr-defined]
    total_s = time.perf_counter() - total_begin
    report(
        measured,
        runs=args.runs,
        warm=warm,
        campaigns=campaigns,
        properties=queue.properties,
        stock_moto=args.stock_moto,
        total_s=total_s,
    )


def report(
    measured: list[Size],
    *,
    runs: int,
    warm: dict[str, float],
    campaigns: Campaigns,
    properties: dict[str, Any],
    stock_moto: bool,
    total_s: float,
) -> None:
    from bench._goals import verdict

    print(
        "The dispatcher at scale: one tick (get_dispatcher().dispatch) beside a raw boto3"
        " Query + SendMessageBatch loop"
    )
    print(
        f"(moto in-process; send queue as template.yaml declares it: FifoQueue"
        f" {properties['FifoQueue']}, ContentBasedDeduplication"
        f" {properties['ContentBasedDeduplication']}; median of {runs} ticks per size and loop;"
        f" {PARALLELISM} send threads each)"
    )
    if stock_moto:
        print("moto as it is: a send walks the queue, a keys-only entry copies the whole item")
    else:
        print(
            "moto's walks corrected while timed: a send in constant time, a keys-only index"
            " entry from the item's keys (see the docstring)"
        )
    print(
        f"{'campaigns':>9}{'orgs':>7} |{'dispatcher ms':>14}{'ms/1k':>7}{'in Query':>9} |"
        f"{'raw ms':>8}{'ms/1k':>7}{'in Query':>9} |{'dispatcher/raw':>15}"
    )
    for size in measured:
        print(
            f"{size.campaigns:>9,}{size.organizations:>7,} |"
            f"{1000 * size.median_s('dispatcher'):>14.0f}"
            f"{size.per_thousand_ms('dispatcher'):>7.0f}{size.query_ms('dispatcher'):>9.0f} |"
            f"{1000 * size.median_s('raw'):>8.0f}{size.per_thousand_ms('raw'):>7.0f}"
            f"{size.query_ms('raw'):>9.0f} |{size.ratio:>15.2f}"
        )
    print(
        f"{'per tick':>9}{'':>7} |{'Query pages':>12}{'SendMsgBatch':>13}{'messages':>9}"
        f"{'groups':>7} |{'Query pages':>12}{'SendMsgBatch':>13}{'messages':>9}{'groups':>7}"
    )
    for size in measured:
        row = f"{size.campaigns:>9,}{'':>7} |"
        for label in ("dispatcher", "raw"):
            ticks = size.ticks[label]
            row += (
                f"{size.calls(label, QUERY):>12}{size.calls(label, SEND_BATCH):>13}"
                f"{max(t.messages for t in ticks):>9}{max(t.groups for t in ticks):>7}"
                + (" |" if label == "dispatcher" else "")
            )
        print(row)
        calls = size.ticks["dispatcher"][0].calls
        if sum(calls.values()) != calls[QUERY] + calls[SEND_BATCH]:
            print(f"  every call of a dispatcher tick: {dict(calls)}")
    for size in measured:
        for label in ("dispatcher", "raw"):
            times = ", ".join(f"{1000 * t.seconds:.0f}" for t in size.ticks[label])
            print(f"  {size.campaigns:,} {label} ticks ms: {times}")
    print(
        f"setup: {len(campaigns.expected):,} active campaigns written in {campaigns.seconds:.1f} s;"
        f" first ticks (not counted) dispatcher {1000 * warm['dispatcher']:.0f} ms,"
        f" raw {1000 * warm['raw']:.0f} ms"
    )
    for size in measured:
        print(
            f"time ratio dispatcher / raw at {size.campaigns:,} campaigns:"
            f" {size.ratio:.2f}: {verdict(size.ratio, GOAL_RATIO, 'x')}"
        )
    smallest = measured[0]
    base = smallest.per_thousand_ms("dispatcher")
    deviations = [size.per_thousand_ms("dispatcher") / base - 1 for size in measured]
    figures = "; ".join(
        f"{size.campaigns:,}: {size.per_thousand_ms('dispatcher'):.0f} ({deviation:+.0%})"
        for size, deviation in zip(measured, deviations, strict=True)
    )
    print(f"dispatcher ms per 1,000 campaigns: {figures}")
    widest = max(abs(deviation) for deviation in deviations)
    if len(measured) < 2:
        flat = "one size only: no spread"
    elif widest <= GOAL_FLAT:
        flat = f"goal met (within +-{GOAL_FLAT:.0%})"
    else:
        flat = f"goal not met: {widest:.0%} vs within +-{GOAL_FLAT:.0%}"
    print(
        f"spread of the time per 1,000 campaigns from {smallest.campaigns:,} to"
        f" {measured[-1].campaigns:,}: {deviations[-1]:+.0%} (widest: {widest:.0%}): {flat}"
    )
    raw_base = smallest.per_thousand_ms("raw")
    raw_figures = "; ".join(
        f"{size.campaigns:,}: {size.per_thousand_ms('raw'):.0f}"
        f" ({size.per_thousand_ms('raw') / raw_base - 1:+.0%})"
        for size in measured
    )
    print(f"  (raw loop ms per 1,000 campaigns, for comparison: {raw_figures})")
    print(f"total run {total_s:.0f} s")


if __name__ == "__main__":
    main()
