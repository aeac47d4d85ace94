"""Campaign start, through the campaigns Lambda handler against moto, beside a raw BatchWriteItem.

For each size N (default 1,000 and 10,000): an organization with N imported
contacts, a sender number and a draft campaign (variants A 70 / B 30, audience
all). ``POST /v1/campaigns/{id}/start`` is timed through the handler while every
AWS call it makes is recorded; then exactly the recipient items it stored (read
back from the table) are written into a fresh table set with raw boto3
``BatchWriteItem`` calls of 25, timed, in the same run.

DynamoDB write units are computed from the recorded requests, the way DynamoDB
bills on-demand writes (moto's own ``ConsumedCapacity`` is a constant 1.0 per
call and table, whatever the items, so it is not used):

* item size: attribute name bytes + value bytes (S and B: their bytes; N: 1 byte
  per two significant digits + 1; BOOL and NULL: 1; L and M: 3 + 1 per element +
  elements (and map keys)); sets: their members. The 100-byte index entry
  overhead (a storage rule) is not added.
* a put, update or delete: ceil(max(size before, size after) / 1 KB) WCU, at
  least 1. The image before a write is read by the recorder (consistent reads,
  outside the start's time: that time is subtracted and printed); the image
  after an ``UpdateItem`` is read back the same way.
* plus, per global secondary index: 1 write (ceil(projected size / 1 KB)) if the
  item enters, leaves or changes projected attributes in the index, 2 if an
  index key changes (delete + put); none if it is in the index neither before
  nor after.
* transactional writes count double. A failed write is charged its table write.

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/campaign_start.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/outreach/python"), str(ROOT / "infra/local")]

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
KB = 1024
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
PASSWORD = "correct horse battery staple"  # noqa: S105 - a bench account's password


def generate_csv(rows: int) -> bytes:
    """``rows`` contacts with distinct valid NANP numbers: 617, exchange 555, 556, ..."""
    lines = ["First Name,Last Name,Mobile,Email,Tags"]
    for index in range(rows):
        phone = f"617{555 + index // 10000}{index % 10000:04d}"
        lines.append(f"Ann,Stone{index},{phone},ann{index}@example.com,leads")
    return ("\n".join(lines) + "\n").encode()


# --- DynamoDB item sizes and write units ----------------------------------------------------


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


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def units(size: int) -> int:
    return max(1, math.ceil(size / KB))


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

    def projected(self, index: Index, item: dict[str, Any] | None) -> dict[str, Any] | None:
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
    """Write units by table and by (table, index), and the items written."""

    by_target: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_target.values())

    def charge(
        self,
        table: str,
        shape: TableShape,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        *,
        factor: int = 1,
    ) -> None:
        """One item write (put, update or delete) from ``before`` to ``after``."""
        self.items[table] += 1
        self.by_target[table] += factor * units(max(item_size(before), item_size(after)))
        for index in shape.indexes:
            old, new = shape.projected(index, before), shape.projected(index, after)
            if old is None and new is None:
                continue
            target = f"{table}/{index.name}"
            if old is None or new is None:
                self.by_target[target] += factor * units(item_size(old or new))
            elif any(old[k] != new[k] for k in index.keys):
                self.by_target[target] += factor * (units(item_size(old)) + units(item_size(new)))
            elif old != new:
                self.by_target[target] += factor * units(item_size(new))


class Recorder:
    """Wraps ``BaseClient._make_api_call``: counts every call and charges every write.

    Before each write, the items it touches are read (consistently) through the
    unwrapped call; after an update, the item is read again. Those reads are not
    counted and their time is kept in ``overhead_s``, for the caller to subtract.
    """

    def __init__(self, original: Any, shapes: dict[str, TableShape]) -> None:
        self.original = original
        self.shapes = shapes
        self.calls: Counter[str] = Counter()
        self.written = WriteUnits()
        self.recipient_keys: set[tuple[str, str]] = set()
        self.by_table: Counter[str] = Counter()
        self.call_s: defaultdict[str, float] = defaultdict(float)
        self.overhead_s = 0.0
        self.failed = 0

    def _get(self, client: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        response = self.original(
            client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _batch_get(self, client: Any, table: str, keys: list[dict[str, Any]]) -> list[Any]:
        found: list[dict[str, Any]] = []
        pending: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
        while pending:
            response = self.original(client, "BatchGetItem", {"RequestItems": pending})
            found.extend(response["Responses"].get(table, []))
            pending = response.get("UnprocessedKeys") or {}
        return found

    def __call__(self, client: Any, operation: str, params: Any) -> Any:
        service = client.meta.service_model.service_name
        tables = params.get("RequestItems") or [params.get("TableName", "")]
        label = f"{operation} {','.join(tables).removeprefix(ENVIRONMENT['TABLE_PREFIX'])}"
        self.calls[operation if service == "dynamodb" else f"{service}:{operation}"] += 1
        self.by_table[label] += 1
        befores: list[Any] = []
        if service == "dynamodb" and operation in WRITE_OPERATIONS:
            begin = time.perf_counter()
            befores = self._before_images(client, operation, params)
            self.overhead_s += time.perf_counter() - begin
        begin = time.perf_counter()
        try:
            response = self.original(client, operation, params)
        except Exception:
            self.failed += 1
            for table, _key, before, _after in befores:
                self.written.charge(table, self.shapes[table], before, before)
            raise
        finally:
            self.call_s[label] += time.perf_counter() - begin
        if befores:
            begin = time.perf_counter()
            self._charge(client, operation, params, response, befores)
            self.overhead_s += time.perf_counter() - begin
        return response

    def _before_images(
        self, client: Any, operation: str, params: Any
    ) -> list[tuple[str, dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]]:
        """(table, key, item before, item after if the request says it) per item written."""
        writes: list[tuple[str, dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]] = []
        if operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                shape = self.shapes[table]
                planned: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        planned.append((shape.key_of(item), item))
                    else:
                        planned.append((request["DeleteRequest"]["Key"], None))
                existing = {
                    json.dumps(shape.key_of(found), sort_keys=True): found
                    for found in self._batch_get(client, table, [key for key, _ in planned])
                }
                writes += [
                    (table, key, existing.get(json.dumps(key, sort_keys=True)), after)
                    for key, after in planned
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

    def _charge(
        self,
        client: Any,
        operation: str,
        params: Any,
        response: Any,
        befores: list[tuple[str, dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]],
    ) -> None:
        unprocessed = {
            json.dumps(next(iter(r.values())), sort_keys=True)
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
                if json.dumps(request, sort_keys=True) in unprocessed:
                    continue
                if table.endswith("recipients") and after is not None:
                    self.recipient_keys.add((after["campaign_key"]["S"], after["contact_id"]["S"]))
                self.written.charge(table, shape, before, after)
            elif kind in ("Update", "UpdateItem"):
                self.written.charge(
                    table, shape, before, self._get(client, table, key), factor=factor
                )
            elif kind in ("Delete", "DeleteItem"):
                self.written.charge(table, shape, before, None, factor=factor)
            elif kind == "ConditionCheck":  # billed like a write of the item checked
                self.written.charge(table, shape, before, before, factor=factor)
            else:
                self.written.charge(table, shape, before, after, factor=factor)


# --- The bench -------------------------------------------------------------------------------


@dataclass
class Run:
    """One start of an N-recipient campaign and its raw baseline."""

    start_s: float  # the recorder's own reads subtracted
    raw_s: float
    raw_calls: int
    recorder: Recorder
    raw_written: WriteUnits
    item_bytes: float


def main() -> None:  # noqa: PLR0915 - one linear measurement script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1_000, 10_000],
        help="comma-separated recipient counts (default 1000,10000)",
    )
    parser.add_argument("--runs", type=int, default=3, help="starts per size (median)")
    args = parser.parse_args()

    import warnings

    import boto3
    from botocore.client import BaseClient
    from moto import mock_aws
    from tests.conftest import http_event

    from outreach_local.runtime import LocalLambdaContext, load_function
    from outreach_local.template import create_tables

    # tests.conftest sets the test environment on import: the bench's own wins.
    os.environ.update(ENVIRONMENT)
    from outreach.config import get_settings
    from outreach.observability import logger

    get_settings.cache_clear()
    logger.setLevel("ERROR")
    warnings.simplefilter("ignore")

    prefix = ENVIRONMENT["TABLE_PREFIX"]
    results: list[tuple[int, float, list[Run]]] = []
    total_begin = time.perf_counter()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, prefix)
        shapes = {name: describe(dynamodb, name) for name in dynamodb.list_tables()["TableNames"]}
        identity = load_function("identity").handler
        contacts = load_function("contacts").handler
        campaigns = load_function("campaigns").handler
        context = LocalLambdaContext(function_name="bench")

        def call(handler: Any, method: str, path: str, expect: int, **kw: Any) -> Any:
            response = handler(http_event(method, path, **kw), context)
            assert response["statusCode"] == expect, response
            return json.loads(response["body"]) if response.get("body") else None

        def organization(number: int, size: int) -> dict[str, str]:
            """An owner's headers, in an organization with ``size`` contacts and a sender."""
            email = f"start{number}@bench.test"
            register = {
                "email": email,
                "password": PASSWORD,
                "full_name": "B",
                "organization_name": f"Bench {size}",
            }
            call(identity, "POST", "/v1/auth/register", 201, body=register)
            login = {"email": email, "password": PASSWORD}
            token = call(identity, "POST", "/v1/auth/login", 200, body=login)["access_token"]
            auth = {"authorization": f"Bearer {token}"}
            sender = {"sender_number": f"+1617555{100 + number:04d}"}
            call(identity, "PATCH", "/v1/organization", 200, body=sender, headers=auth)
            imported = call(
                contacts,
                "POST",
                "/v1/contacts/import",
                200,
                raw_body=generate_csv(size),
                headers={**auth, "content-type": "text/csv"},
            )
            assert imported["created"] == size, imported
            return auth

        def start_once(auth: dict[str, str], size: int, tag: str) -> Run:
            draft = {
                "name": f"Start {size} {tag}",
                "variants": [
                    {"name": "A", "body": "Hi {first_name|there}, spring check?", "weight": 70},
                    {"name": "B", "body": "Hey {first_name|there}! Free check?", "weight": 30},
                ],
                "audience": {"all": True},
            }
            campaign = call(campaigns, "POST", "/v1/campaigns", 201, body=draft, headers=auth)
            start_event = http_event("POST", f"/v1/campaigns/{campaign['id']}/start", headers=auth)

            # The start, through the handler, every call recorded.
            original = BaseClient._make_api_call  # type: ignore[attr-defined]
            recorder = Recorder(original, shapes)

            def recording(self: Any, operation: str, params: Any) -> Any:
                return recorder(self, operation, params)

            BaseClient._make_api_call = recording  # type: ignore[attr-defined]
            try:
                begin = time.perf_counter()
                response = campaigns(start_event, context)
                elapsed = time.perf_counter() - begin
            finally:
                BaseClient._make_api_call = original  # type: ignore[attr-defined]
            assert response["statusCode"] == 200, response
            started = json.loads(response["body"])
            assert started["status"] == "active" and started["recipients"] == size, started
            assert recorder.failed == 0

            # Exactly the recipient items it stored, written raw into a fresh table set.
            stored: list[dict[str, Any]] = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=f"{prefix}recipients"):
                stored.extend(
                    item
                    for item in page["Items"]
                    if item["campaign_key"]["S"].endswith(f"#{campaign['id']}")
                )
            keys = {(item["campaign_key"]["S"], item["contact_id"]["S"]) for item in stored}
            assert keys == recorder.recipient_keys, "the table holds what the start wrote"
            assert len(stored) == size
            raw_prefix = f"raw{tag}-"
            create_tables(dynamodb, raw_prefix)
            raw_calls = 0
            begin = time.perf_counter()
            for offset in range(0, len(stored), 25):
                requests = [{"PutRequest": {"Item": item}} for item in stored[offset : offset + 25]]
                pending: dict[str, Any] = {f"{raw_prefix}recipients": requests}
                while pending:
                    raw_calls += 1
                    pending = dynamodb.batch_write_item(RequestItems=pending).get(
                        "UnprocessedItems", {}
                    )
            raw_s = time.perf_counter() - begin
            raw_written = WriteUnits()
            raw_shape = describe(dynamodb, f"{raw_prefix}recipients")
            for item in stored:  # new items into an empty table: nothing before
                raw_written.charge(f"{prefix}recipients", raw_shape, None, item)
            return Run(
                start_s=elapsed - recorder.overhead_s,
                raw_s=raw_s,
                raw_calls=raw_calls,
                recorder=recorder,
                raw_written=raw_written,
                item_bytes=sum(item_size(item) for item in stored) / len(stored),
            )

        for number, size in enumerate(args.sizes):
            begin = time.perf_counter()
            auth = organization(number, size)
            setup_s = time.perf_counter() - begin
            runs = [start_once(auth, size, f"{number}x{run}") for run in range(args.runs)]
            assert all(r.recorder.calls == runs[0].recorder.calls for r in runs)
            assert all(r.recorder.written == runs[0].recorder.written for r in runs)
            results.append((size, setup_s, runs))

    total_s = time.perf_counter() - total_begin
    print("POST /v1/campaigns/{id}/start through the campaigns handler (moto in-process),")
    print("variants A 70 / B 30, audience all; raw = the same recipient items, BatchWriteItem x25;")
    print(f"median of {args.runs} starts per size (each a new campaign in the same organization)")
    print(
        f"{'N':>8}{'start s':>10}{'raw s':>9}{'ratio':>8}"
        f"{'WCU/rcpt':>10}{'raw WCU/rcpt':>14}{'calls':>7}{'raw calls':>11}"
    )
    for size, _setup_s, runs in results:
        start_s = statistics.median(r.start_s for r in runs)
        raw_s = statistics.median(r.raw_s for r in runs)
        first = runs[0]
        print(
            f"{size:>8,}{start_s:>10.2f}{raw_s:>9.2f}{start_s / raw_s:>8.2f}"
            f"{first.recorder.written.total / size:>10.3f}"
            f"{first.raw_written.total / size:>14.3f}"
            f"{sum(first.recorder.calls.values()):>7,}{first.raw_calls:>11,}"
        )
    for size, setup_s, runs in results:
        run = sorted(runs, key=lambda r: r.start_s)[len(runs) // 2]  # the median run
        recorder = run.recorder
        print(f"N={size:,} (the median run; setup {setup_s:.1f} s)")
        print("  calls:   " + ", ".join(f"{op} {n:,}" for op, n in recorder.calls.most_common()))
        wcu = ", ".join(
            f"{target.removeprefix(prefix)} {n:,}"
            for target, n in recorder.written.by_target.items()
        )
        print(f"  WCU:     {recorder.written.total:,} = {wcu}")
        items = ", ".join(
            f"{table.removeprefix(prefix)} {n:,}" for table, n in recorder.written.items.items()
        )
        print(f"  items:   {items}; a recipient item is {run.item_bytes:.0f} B on average")
        in_calls = sum(recorder.call_s.values())
        print(f"  time:    {run.start_s:.2f} s = {in_calls:.2f} s in AWS calls:")
        for label, seconds in sorted(recorder.call_s.items(), key=lambda kv: -kv[1]):
            print(f"             {seconds:6.2f} s  {label} ({recorder.by_table[label]:,} calls)")
        print(f"           + {run.start_s - in_calls:.2f} s in the handler between calls")
        print(f"  (the recorder's own reads took {recorder.overhead_s:.2f} s, subtracted)")
    print(f"total run {total_s:.0f} s")


if __name__ == "__main__":
    main()
