"""Sending: DynamoDB units per message and messages per second, beside a raw boto3 loop.

One organization (a sender number, N contacts, 100 messages per second) and a
started campaign (daily limit N) are built through the real services on moto
(``tests.support.engine.world_with``, a simulated clock at Monday 10:00 New
York: pacing sleeps cost no wall time). Then, in the same run:

1. The sender: ``CampaignSender.run(work, budget=N)`` with a zero-latency
   provider (a message id, no I/O), timed; exactly N must be sent. Every AWS
   call it makes is recorded (``BaseClient._make_api_call`` wrapped).
   The sender's writes move no counter: the statistics are projected from the
   recipients table's stream by the stats function (another Lambda). Its
   writes for the same messages (``StatsPump`` runs its code on the stream)
   are added to the sender's units; its time is printed, not in the ratio.
2. The raw baseline: the same recipient items (copied before the send) in a
   fresh table set, and a plain boto3 loop doing, per message, the minimal
   conditional writes: recipient ``pending -> sending`` (if pending), the day
   counter ``ADD 1`` (if absent or below the limit), the provider call, then
   recipient ``sending -> sent`` with the message id (if sending). Timed and
   recorded the same way.

Units are computed from the recorded requests the way DynamoDB bills on-demand
capacity (moto's own ``ConsumedCapacity`` is a constant 1.0 per call and table,
whatever the items, so it is not used). Item size: attribute name bytes + value
bytes (see :func:`value_size`), without the 100-byte index overhead.

* Reads: ``GetItem`` ceil(size / 4 KB) units, at least 1 (an item that does not
  exist costs the minimum too), x0.5 if eventually consistent; the size is that
  of the whole item even when a projection asks for fewer attributes.
  ``BatchGetItem``: each key as its own ``GetItem`` (each rounded up, a missing
  item the minimum). ``Query``/``Scan``: the sizes of the items (index entries)
  read on the page, summed, then rounded up to 4 KB, at least 1 unit, x0.5 if
  eventually consistent (index queries always are).
* Writes (as bench/campaign_start.py): a put, update or delete costs
  ceil(max(size before, size after) / 1 KB), at least 1; plus per global
  secondary index 1 write if the item enters, leaves or changes projected
  attributes, 2 if an index key changes, none if it is in the index neither
  before nor after; transactional writes count double; a failed conditional
  write is charged its table write.

The images before and after each write (and full items behind projected reads)
are read by the recorder through the unwrapped call; that time is measured and
subtracted from the times printed. moto copies every table a
``TransactWriteItems`` touches (its rollback backup; DynamoDB does not); that
time is measured and shown, but not subtracted from the headline figures.

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/sending.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/outreach/python"), str(ROOT / "infra/local")]

if TYPE_CHECKING:
    from outreach.sms.providers import OutboundMessage, SendResult

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_PREFIX": "bench-",
    "JWT_SECRET": "bench-signing-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}
RAW_PREFIX = "raw-"
PREFIXES = (ENVIRONMENT["TABLE_PREFIX"], RAW_PREFIX)
KB = 1024
READ_BLOCK = 4 * KB
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
UNPRICED_OPERATIONS = frozenset({"TransactGetItems", "ExecuteStatement", "BatchExecuteStatement"})
GOAL_UNITS = 6.0
GOAL_RATIO = 1.5

Image = dict[str, Any] | None


class ZeroLatencyProvider:
    """Sends nothing and waits for nothing: a unique message id per call."""

    name = "zero-latency"

    def __init__(self) -> None:
        from outreach.sms.providers import SendResult  # after the bench's environment is set

        self._result = SendResult
        self._prefix = uuid.uuid4().hex[:20]  # ids as long as a real provider's (32 chars)
        self._numbers = count()
        self.sent = 0

    def send(self, message: OutboundMessage, *, sent_at: datetime) -> SendResult:
        self.sent += 1
        return self._result(message_id=f"{self._prefix}{next(self._numbers):012d}")


# --- DynamoDB item sizes and units (sizes and write rules as in bench/campaign_start.py) ------


def _number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """The bytes of one attribute value, by DynamoDB's item size rule."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(member.encode()) for member in data)
    if kind == "NS":
        return sum(_number_size(member) for member in data)
    if kind == "BS":
        return sum(len(member) for member in data)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in data)
    if kind == "M":
        return 3 + sum(len(name.encode()) + 1 + value_size(v) for name, v in data.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Image) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, *, consistent: bool) -> float:
    """Units of one read of ``size`` bytes (one item, or one query page's total)."""
    blocks = max(1, math.ceil(size / READ_BLOCK))
    return float(blocks) if consistent else blocks / 2


def key_text(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def short(table: str) -> str:
    for prefix in PREFIXES:
        if table.startswith(prefix):
            return table.removeprefix(prefix)
    return table


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...]


@dataclass(frozen=True)
class TableShape:
    keys: tuple[str, ...]
    indexes: tuple[Index, ...]

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.keys}

    def projected(self, index: Index, item: Image) -> Image:
        """The item's entry in ``index`` (None: not in the sparse index)."""
        if item is None or any(name not in item for name in index.keys):
            return None
        if index.projection == "ALL":
            return item
        names = {*self.keys, *index.keys, *index.included}
        return {name: value for name, value in item.items() if name in names}


def describe(client: Any, table: str) -> TableShape:
    description = client.describe_table(TableName=table)["Table"]
    indexes = tuple(
        Index(
            name=gsi["IndexName"],
            keys=tuple(k["AttributeName"] for k in gsi["KeySchema"]),
            projection=gsi["Projection"]["ProjectionType"],
            included=tuple(gsi["Projection"].get("NonKeyAttributes", ())),
        )
        for gsi in description.get("GlobalSecondaryIndexes", ())
    )
    return TableShape(tuple(k["AttributeName"] for k in description["KeySchema"]), indexes)


@dataclass
class WriteUnits:
    """Write units by table and by (table, index)."""

    by_target: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_target.values())

    def charge(
        self, table: str, shape: TableShape, before: Image, after: Image, *, factor: int = 1
    ) -> int:
        """One item write (put, update or delete) from ``before`` to ``after``: its units."""
        charged = Counter(
            {short(table): factor * write_units(max(item_size(before), item_size(after)))}
        )
        for index in shape.indexes:
            old, new = shape.projected(index, before), shape.projected(index, after)
            if old is None and new is None:
                continue
            target = f"{short(table)}/{index.name}"
            if old is None or new is None:
                charged[target] += factor * write_units(item_size(old or new))
            elif any(old[k] != new[k] for k in index.keys):
                charged[target] += factor * (
                    write_units(item_size(old)) + write_units(item_size(new))
                )
            elif old != new:
                charged[target] += factor * write_units(item_size(new))
        self.by_target.update(charged)
        return sum(charged.values())


# --- The recorder ----------------------------------------------------------------------------

Write = tuple[str, dict[str, Any], Image, Image]  # table, key, image before, image after (put)


@dataclass
class Recorder:
    """Wraps ``BaseClient._make_api_call``: times and counts every call, prices reads and writes.

    Calls are labelled "Operation table[,table]". The recorder's own reads (images
    before and after writes, whole items behind projected reads) go through the
    unwrapped call; their time is kept in ``overhead_s`` for the caller to subtract.
    """

    original: Any
    shapes: dict[str, TableShape]
    calls: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    rcu: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    wcu: Counter[str] = field(default_factory=Counter)
    written: WriteUnits = field(default_factory=WriteUnits)
    failed: Counter[str] = field(default_factory=Counter)
    unpriced: Counter[str] = field(default_factory=Counter)
    overhead_s: float = 0.0

    # The recorder's own reads, uncounted.

    def _get(self, client: Any, table: str, key: dict[str, Any]) -> Image:
        response = self.original(
            client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}
        )
        item: Image = response.get("Item")
        return item

    def _batch_get(
        self, client: Any, table: str, keys: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for offset in range(0, len(keys), 100):
            pending: dict[str, Any] = {
                table: {"Keys": keys[offset : offset + 100], "ConsistentRead": True}
            }
            while pending:
                response = self.original(client, "BatchGetItem", {"RequestItems": pending})
                found.extend(response["Responses"].get(table, []))
                pending = response.get("UnprocessedKeys") or {}
        return found

    # The wrapper.

    def __call__(self, client: Any, operation: str, params: Any) -> Any:
        service = client.meta.service_model.service_name
        if service != "dynamodb":
            label = f"{service}:{operation}"
            self.calls[label] += 1
            begin = time.perf_counter()
            try:
                return self.original(client, operation, params)
            finally:
                self.seconds[label] += time.perf_counter() - begin
        label = self._label(operation, params)
        self.calls[label] += 1
        if operation in UNPRICED_OPERATIONS or not (
            operation in READ_OPERATIONS or operation in WRITE_OPERATIONS
        ):
            self.unpriced[label] += 1
        befores: list[Write] = []
        if operation in WRITE_OPERATIONS:
            begin = time.perf_counter()
            befores = self._before_images(client, operation, params)
            self.overhead_s += time.perf_counter() - begin
        begin = time.perf_counter()
        try:
            response = self.original(client, operation, params)
        except Exception:
            self.seconds[label] += time.perf_counter() - begin
            self.failed[label] += 1
            for table, _key, before, _after in befores:  # a failed condition: the table write
                self.wcu[label] += self.written.charge(table, self.shapes[table], before, before)
            raise
        self.seconds[label] += time.perf_counter() - begin
        begin = time.perf_counter()
        if befores:
            self.wcu[label] += self._charge_writes(client, operation, params, response, befores)
        elif operation in READ_OPERATIONS:
            self.rcu[label] += self._charge_read(client, operation, params, response)
        self.overhead_s += time.perf_counter() - begin
        return response

    @staticmethod
    def _label(operation: str, params: Any) -> str:
        if operation == "TransactWriteItems":
            tables = [next(iter(entry.values()))["TableName"] for entry in params["TransactItems"]]
        elif "RequestItems" in params:
            tables = list(params["RequestItems"])
        else:
            tables = [params.get("TableName", "")]
        names = ",".join(short(table) for table in dict.fromkeys(tables))
        index = f"/{params['IndexName']}" if params.get("IndexName") else ""
        return f"{operation} {names}{index}"

    # Reads.

    def _charge_read(self, client: Any, operation: str, params: Any, response: Any) -> float:
        projected = any(
            name in params for name in ("ProjectionExpression", "AttributesToGet", "Select")
        )
        if operation == "GetItem":
            item: Image = response.get("Item")
            if item is not None and projected:  # billed on the whole item
                item = self._get(client, params["TableName"], params["Key"])
            return read_units(item_size(item), consistent=bool(params.get("ConsistentRead")))
        if operation == "BatchGetItem":
            return self._charge_batch_get(client, params, response)
        items: list[dict[str, Any]] = response.get("Items", [])
        filtered = any(name in params for name in ("FilterExpression", "QueryFilter", "ScanFilter"))
        if projected or filtered:  # billed on the whole entries read, before any filter
            items = self._unprojected_page(client, operation, params)
        return read_units(
            sum(item_size(item) for item in items), consistent=bool(params.get("ConsistentRead"))
        )

    def _charge_batch_get(self, client: Any, params: Any, response: Any) -> float:
        total = 0.0
        unprocessed = response.get("UnprocessedKeys") or {}
        for table, request in params["RequestItems"].items():
            shape = self.shapes[table]
            skipped = {key_text(key) for key in unprocessed.get(table, {}).get("Keys", [])}
            keys = [key for key in request["Keys"] if key_text(key) not in skipped]
            returned = response["Responses"].get(table, [])
            if any(name in request for name in ("ProjectionExpression", "AttributesToGet")):
                returned = self._batch_get(client, table, keys)  # billed on whole items
            found = {key_text(shape.key_of(item)): item for item in returned}
            consistent = bool(request.get("ConsistentRead"))
            total += sum(
                read_units(item_size(found.get(key_text(key))), consistent=consistent)
                for key in keys
            )
        return total

    def _unprojected_page(self, client: Any, operation: str, params: Any) -> list[dict[str, Any]]:
        """The same page again, without projection or filter (same Limit and start key)."""
        plain = {
            name: value
            for name, value in params.items()
            if name
            not in (
                "ProjectionExpression",
                "AttributesToGet",
                "Select",
                "FilterExpression",
                "QueryFilter",
                "ScanFilter",
                "ConditionalOperator",
            )
        }
        used = set(re.findall(r"[#:][A-Za-z0-9_]+", plain.get("KeyConditionExpression", "")))
        for name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            if name in plain:
                kept = {k: v for k, v in plain[name].items() if k in used}
                if kept:
                    plain[name] = kept
                else:
                    del plain[name]
        items: list[dict[str, Any]] = self.original(client, operation, plain).get("Items", [])
        return items

    # Writes (as bench/campaign_start.py).

    def _before_images(self, client: Any, operation: str, params: Any) -> list[Write]:
        """(table, key, item before, item after if the request says it) per item written."""
        writes: list[Write] = []
        if operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                shape = self.shapes[table]
                planned: list[tuple[dict[str, Any], Image]] = []
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        planned.append((shape.key_of(item), item))
                    else:
                        planned.append((request["DeleteRequest"]["Key"], None))
                existing = {
                    key_text(shape.key_of(found)): found
                    for found in self._batch_get(client, table, [key for key, _ in planned])
                }
                writes += [
                    (table, key, existing.get(key_text(key)), after) for key, after in planned
                ]
            return writes
        entries = (
            params["TransactItems"] if operation == "TransactWriteItems" else [{operation: params}]
        )
        for entry in entries:
            ((kind, request),) = entry.items()
            table = request["TableName"]
            after = request.get("Item")
            key = self.shapes[table].key_of(after) if after else request["Key"]
            after = after if kind in ("Put", "PutItem") else None
            writes.append((table, key, self._get(client, table, key), after))
        return writes

    def _charge_writes(
        self, client: Any, operation: str, params: Any, response: Any, befores: list[Write]
    ) -> int:
        charged = 0
        unprocessed = {
            key_text(next(iter(r.values())))
            for requests in (response.get("UnprocessedItems") or {}).values()
            for r in requests
        }
        kinds = (
            [next(iter(entry)) for entry in params["TransactItems"]]
            if operation == "TransactWriteItems"
            else [operation] * len(befores)
        )
        factor = 2 if operation == "TransactWriteItems" else 1
        for (table, key, before, after), kind in zip(befores, kinds, strict=True):
            shape = self.shapes[table]
            if operation == "BatchWriteItem":
                request = {"Item": after} if after is not None else {"Key": key}
                if key_text(request) in unprocessed:
                    continue
                charged += self.written.charge(table, shape, before, after)
            elif kind in ("Update", "UpdateItem"):
                charged += self.written.charge(
                    table, shape, before, self._get(client, table, key), factor=factor
                )
            elif kind in ("Delete", "DeleteItem"):
                charged += self.written.charge(table, shape, before, None, factor=factor)
            elif kind == "ConditionCheck":  # billed like a write of the item checked
                charged += self.written.charge(table, shape, before, before, factor=factor)
            else:
                charged += self.written.charge(table, shape, before, after, factor=factor)
        return charged

    # Totals.

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_rcu(self) -> float:
        return sum(self.rcu.values())

    @property
    def total_wcu(self) -> int:
        return sum(self.wcu.values())

    @property
    def in_calls_s(self) -> float:
        return sum(self.seconds.values())


class TimedTableCopies:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: times table deep copies.

    moto's ``transact_write_items`` deep-copies every table a transaction touches
    (its rollback backup), a cost that grows with the table and that DynamoDB
    does not have. Only copies of whole tables are timed; everything is delegated.
    """

    def __init__(self, module: ModuleType, table_type: type) -> None:
        self._module = module
        self._table_type = table_type
        self.seconds = 0.0
        self.copies = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def deepcopy(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(value, self._table_type):
            return self._module.deepcopy(value, *args, **kwargs)
        begin = time.perf_counter()
        try:
            return self._module.deepcopy(value, *args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - begin
            self.copies += 1


# --- The bench -------------------------------------------------------------------------------


@dataclass
class Measured:
    """One timed, recorded loop."""

    label: str
    elapsed_s: float  # the recorder's own reads subtracted
    recorder: Recorder
    messages: int

    @property
    def per_second(self) -> float:
        return self.messages / self.elapsed_s

    def per_message(self, value: float) -> float:
        return value / self.messages

    @property
    def units(self) -> float:
        return self.recorder.total_rcu + self.recorder.total_wcu


def verdict(value: float, goal: float, unit: str) -> str:
    if value <= goal:
        return f"goal met ({value:.2f} <= {goal:g}{unit})"
    return (
        f"goal not met: {value:.2f} vs <= {goal:g}{unit}, "
        f"{value - goal:.2f}{unit} over ({value / goal:.1f}x the goal)"
    )


def print_breakdown(measured: Measured, copies_s: float = 0.0) -> None:
    recorder = measured.recorder
    n = measured.messages
    print(
        f"  {'operation table[/index]':<44}{'calls/msg':>10}{'RCU/msg':>9}{'WCU/msg':>9}"
        f"{'ms/msg':>8}{'time':>7}"
    )
    for label in sorted(
        recorder.calls, key=lambda name: (-(recorder.rcu[name] + recorder.wcu[name]), name)
    ):
        share = recorder.seconds[label] / measured.elapsed_s
        print(
            f"  {label:<44}{recorder.calls[label] / n:>10.3f}{recorder.rcu[label] / n:>9.3f}"
            f"{recorder.wcu[label] / n:>9.3f}{1000 * recorder.seconds[label] / n:>8.3f}"
            f"{share:>7.0%}"
        )
    between = measured.elapsed_s - recorder.in_calls_s
    print(
        f"  {'(between calls: Python outside botocore)':<44}{'':>10}{'':>9}{'':>9}"
        f"{1000 * between / n:>8.3f}{between / measured.elapsed_s:>7.0%}"
    )
    print(
        f"  {'total':<44}{recorder.total_calls / n:>10.3f}{recorder.total_rcu / n:>9.3f}"
        f"{recorder.total_wcu / n:>9.3f}{1000 * measured.elapsed_s / n:>8.3f}{1:>7.0%}"
    )
    targets = ", ".join(
        f"{target} {units / n:.3f}" for target, units in recorder.written.by_target.most_common()
    )
    print(f"  WCU/msg by table/index: {targets}")
    if copies_s:
        print(
            f"  of the time, {copies_s:.2f} s ({1000 * copies_s / n:.3f} ms/msg,"
            f" {copies_s / measured.elapsed_s:.0%}) is moto deep-copying the tables each"
            " TransactWriteItems touches (a moto artifact, included above)"
        )
    if recorder.failed:
        print(f"  failed calls (conditions): {dict(recorder.failed)}")
    if recorder.unpriced:
        print(f"  NOT PRICED (units above exclude them): {dict(recorder.unpriced)}")


def main() -> None:  # noqa: PLR0915 - one linear measurement script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500, help="messages to send (default 500)")
    args = parser.parse_args()
    n: int = args.messages
    assert 0 < n <= 10_000, "engine.boston() numbers run out at 10,000"

    import warnings

    import boto3
    import tests.conftest  # noqa: F401 - sets the test environment on import; the bench's wins
    from botocore.client import BaseClient
    from moto import mock_aws

    from outreach_local.streams import StatsPump
    from outreach_local.template import create_tables

    os.environ.update(ENVIRONMENT)
    import moto.dynamodb.models as moto_dynamodb
    from moto.dynamodb.models.table import Table as MotoTable
    from tests.support.engine import world_with

    from outreach.config import get_settings
    from outreach.data.binding import bind_models
    from outreach.observability import logger
    from outreach.sms.providers import OutboundMessage

    get_settings.cache_clear()
    logger.setLevel("ERROR")
    warnings.simplefilter("ignore")
    prefix = ENVIRONMENT["TABLE_PREFIX"]
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def recorded(recorder: Recorder) -> Any:
        def recording(self: Any, operation: str, params: Any) -> Any:
            return recorder(self, operation, params)

        return recording

    def scan(client: Any, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        return items

    total_begin = time.perf_counter()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, prefix)
        create_tables(dynamodb, RAW_PREFIX)
        bind_models(get_settings())
        shapes = {name: describe(dynamodb, name) for name in dynamodb.list_tables()["TableNames"]}

        setup_begin = time.perf_counter()
        world = world_with(n, daily_limit=n, messages_per_second=100)
        setup_s = time.perf_counter() - setup_begin
        org_id, campaign_id = world.org_id, world.campaign_id
        cap_prefix = f"cap#{org_id}#{campaign_id}#"

        # The recipients and the day counters as they are before the send, for the raw loop.
        recipients = scan(dynamodb, f"{prefix}recipients")
        assert len(recipients) == n and all(r["status"]["S"] == "pending" for r in recipients)
        counters_before = [
            item
            for item in scan(dynamodb, f"{prefix}counters")
            if item["key"]["S"].startswith(cap_prefix)
        ]

        # 1. The sender.
        provider = ZeroLatencyProvider()
        sender = world.sender(provider)
        work = world.work()
        copies = TimedTableCopies(vars(moto_dynamodb)["copy"], MotoTable)
        recorder = Recorder(original, shapes)
        vars(moto_dynamodb)["copy"] = copies
        BaseClient._make_api_call = recorded(recorder)  # type: ignore[attr-defined]
        try:
            begin = time.perf_counter()
            report = sender.run(work, budget=n)
            elapsed = time.perf_counter() - begin
        finally:
            BaseClient._make_api_call = original  # type: ignore[attr-defined]
            vars(moto_dynamodb)["copy"] = copies._module
        assert report.sent == n == provider.sent, report
        assert not recorder.failed, recorder.failed
        assert world.statuses() == Counter({"sent": n}), world.statuses()
        sender_run = Measured("sender", elapsed - recorder.overhead_s, recorder, n)

        # 1b. The stats function: the recipients' stream, summed into the counters. In the
        # cloud another Lambda does it (not the sender's time); its writes are counted here.
        stats_recorder = Recorder(original, shapes)
        BaseClient._make_api_call = recorded(stats_recorder)  # type: ignore[attr-defined]
        try:
            begin = time.perf_counter()
            StatsPump(world.clock).drain()
            stats_s = time.perf_counter() - begin - stats_recorder.overhead_s
        finally:
            BaseClient._make_api_call = original  # type: ignore[attr-defined]
        stats_labels = [label for label in stats_recorder.calls if label.startswith("Transact")]
        stats_units = sum(stats_recorder.wcu[label] for label in stats_labels)
        assert world.counters()["sent"] == n, world.counters()
        day_counters = [
            item
            for item in scan(dynamodb, f"{prefix}counters")
            if item["key"]["S"].startswith(cap_prefix)
        ]
        assert len(day_counters) == 1 and int(day_counters[0]["value"]["N"]) == n, day_counters
        counter_key = day_counters[0]["key"]

        # 2. The raw loop: the same recipients, in a fresh table set.
        raw_recipients, raw_counters = f"{RAW_PREFIX}recipients", f"{RAW_PREFIX}counters"
        for table, items in ((raw_recipients, recipients), (raw_counters, counters_before)):
            for offset in range(0, len(items), 25):
                pending: dict[str, Any] = {
                    table: [{"PutRequest": {"Item": item}} for item in items[offset : offset + 25]]
                }
                while pending:
                    pending = dynamodb.batch_write_item(RequestItems=pending).get(
                        "UnprocessedItems", {}
                    )
        raw_provider = ZeroLatencyProvider()
        sender_number = "+16175550100"
        limit = {"N": str(n)}
        raw_recorder = Recorder(original, shapes)
        BaseClient._make_api_call = recorded(raw_recorder)  # type: ignore[attr-defined]
        try:
            begin = time.perf_counter()
            for recipient in recipients:
                key = {
                    "campaign_key": recipient["campaign_key"],
                    "contact_id": recipient["contact_id"],
                }
                dynamodb.update_item(
                    TableName=raw_recipients,
                    Key=key,
                    UpdateExpression="SET #s = :sending",
                    ConditionExpression="#s = :pending",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={
                        ":sending": {"S": "sending"},
                        ":pending": {"S": "pending"},
                    },
                )
                dynamodb.update_item(
                    TableName=raw_counters,
                    Key={"key": counter_key},
                    UpdateExpression="ADD #v :one",
                    ConditionExpression="attribute_not_exists(#v) OR #v < :limit",
                    ExpressionAttributeNames={"#v": "value"},
                    ExpressionAttributeValues={":one": {"N": "1"}, ":limit": limit},
                )
                result = raw_provider.send(
                    OutboundMessage(
                        org_id=org_id,
                        from_number=sender_number,
                        to_number=recipient["phone"]["S"],
                        body="Hi there, A",
                    ),
                    sent_at=world.clock.now(),
                )
                dynamodb.update_item(
                    TableName=raw_recipients,
                    Key=key,
                    UpdateExpression="SET #s = :sent, #m = :id",
                    ConditionExpression="#s = :sending",
                    ExpressionAttributeNames={"#s": "status", "#m": "provider_message_id"},
                    ExpressionAttributeValues={
                        ":sent": {"S": "sent"},
                        ":sending": {"S": "sending"},
                        ":id": {"S": result.message_id},
                    },
                )
            elapsed = time.perf_counter() - begin
        finally:
            BaseClient._make_api_call = original  # type: ignore[attr-defined]
        assert not raw_recorder.failed, raw_recorder.failed
        raw_run = Measured("raw", elapsed - raw_recorder.overhead_s, raw_recorder, n)
        assert Counter(item["status"]["S"] for item in scan(dynamodb, raw_recipients)) == Counter(
            {"sent": n}
        )
        raw_counter = dynamodb.get_item(TableName=raw_counters, Key={"key": counter_key})["Item"]
        assert int(raw_counter["value"]["N"]) == n
        recipient_bytes = sum(item_size(item) for item in scan(dynamodb, f"{prefix}recipients"))

    total_s = time.perf_counter() - total_begin
    ratio = sender_run.elapsed_s / raw_run.elapsed_s
    units = sender_run.per_message(sender_run.units + stats_units)
    raw_units = raw_run.per_message(raw_run.units)
    print(
        f"Sending {n:,} messages: one CampaignSender.run(budget={n}) with a zero-latency provider"
    )
    print(
        f"(moto in-process, simulated clock, 100 msg/s pacing; world setup {setup_s:.1f} s;"
        f" a sent recipient item is {recipient_bytes / n:.0f} B)"
    )
    print(
        f"{'':<12}{'seconds':>9}{'msg/s':>9}{'calls/msg':>11}{'RCU/msg':>9}{'WCU/msg':>9}{'units/msg':>11}"
    )
    for run in (sender_run, raw_run):
        print(
            f"{run.label:<12}{run.elapsed_s:>9.2f}{run.per_second:>9.0f}"
            f"{run.per_message(run.recorder.total_calls):>11.2f}"
            f"{run.per_message(run.recorder.total_rcu):>9.2f}"
            f"{run.per_message(run.recorder.total_wcu):>9.2f}{run.per_message(run.units):>11.2f}"
        )
    print(
        f"stats function (the recipients stream into the counters): {stats_units} WCU for"
        f" {n} messages ({stats_units / n:.3f}/msg, in {len(stats_labels)} kinds of"
        f" transaction; {stats_s:.2f} s, another Lambda's time)"
    )
    print(
        "units per message (RCU + WCU), sender + stats function:"
        f" {verdict(units, GOAL_UNITS, ' units')}"
    )
    print(f"  (the raw loop's minimal conditional writes cost {raw_units:.2f} units/msg)")
    print(f"time ratio sender / raw: {ratio:.2f}: {verdict(ratio, GOAL_RATIO, 'x')}")
    if copies.seconds:
        without = (sender_run.elapsed_s - copies.seconds) / raw_run.elapsed_s
        print(
            f"  (for information only: without moto's {copies.copies:,} table copies for"
            f" transactions, {copies.seconds:.2f} s, the ratio would be {without:.2f})"
        )
    print("sender, by operation (per message sent, most units first):")
    print_breakdown(sender_run, copies.seconds)
    print(f"  (the recorder's own reads took {recorder.overhead_s:.2f} s, subtracted)")
    print("raw loop, by operation (per message):")
    print_breakdown(raw_run)
    print(f"  (the recorder's own reads took {raw_recorder.overhead_s:.2f} s, subtracted)")
    print(f"total run {total_s:.0f} s")


if __name__ == "__main__":
    main()
