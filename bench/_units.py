"""DynamoDB billing, computed from recorded requests: item sizes, read and write units.

moto's own ``ConsumedCapacity`` is a constant 1.0 per call and table, whatever the
items, so the benches price the requests themselves, the way DynamoDB bills
on-demand capacity. Item size: attribute name bytes + value bytes (see
:func:`value_size`), without the 100-byte index entry overhead (a storage rule).

* Reads: ``GetItem`` ceil(size / 4 KB) units, at least 1 (an item that does not
  exist costs the minimum too), x0.5 if eventually consistent; the size is that of
  the whole item even when a projection asks for fewer attributes. ``BatchGetItem``:
  each key as its own ``GetItem``. ``Query``/``Scan``: the sizes of the items (index
  entries) read on the page, summed, then rounded up to 4 KB, at least 1 unit, x0.5
  if eventually consistent (index queries always are).
* Writes: a put, update or delete costs ceil(max(size before, size after) / 1 KB),
  at least 1; plus, per global secondary index, 1 write if the item enters, leaves
  or changes projected attributes, 2 if an index key changes (delete + put), none
  if it is in the index neither before nor after; transactional writes count
  double; a failed conditional write is charged its table write.

:class:`Recorder` wraps ``BaseClient._make_api_call``: it times and counts every
call and prices it. The images before and after each write (and whole items behind
projected reads) are read through the unwrapped call; that time is kept apart in
``overhead_s`` for the bench to subtract.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
READ_BLOCK = 4 * KB
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
UNPRICED_OPERATIONS = frozenset({"TransactGetItems", "ExecuteStatement", "BatchExecuteStatement"})

Image = dict[str, Any] | None


# --- Item sizes and units ---------------------------------------------------------------------


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
    """Write units by table and by (table, index), and the items written by table."""

    by_target: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_target.values())

    def charge(
        self, table: str, shape: TableShape, before: Image, after: Image, *, factor: int = 1
    ) -> int:
        """One item write (put, update or delete) from ``before`` to ``after``: its units.

        ``table`` is the name the units are kept under (``table/index`` for an index's).
        """
        self.items[table] += 1
        charged = Counter({table: factor * write_units(max(item_size(before), item_size(after)))})
        for index in shape.indexes:
            old, new = shape.projected(index, before), shape.projected(index, after)
            if old is None and new is None:
                continue
            target = f"{table}/{index.name}"
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

    Calls are labelled "Operation table[,table][/index]" (DynamoDB) or "service:Operation",
    table names without the first of ``prefixes`` they start with. The recorder's own
    reads (images before and after writes, whole items behind projected reads) go through
    the unwrapped call; their time is kept in ``overhead_s`` for the caller to subtract.
    ``put_keys`` holds, by table, the key of every item a successful write put.
    """

    original: Any
    shapes: dict[str, TableShape]
    prefixes: tuple[str, ...] = ()
    put_keys: defaultdict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
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
                self.wcu[label] += self.written.charge(
                    self.short(table), self.shapes[table], before, before
                )
            raise
        self.seconds[label] += time.perf_counter() - begin
        begin = time.perf_counter()
        if befores:
            self.wcu[label] += self._charge_writes(client, operation, params, response, befores)
        elif operation in READ_OPERATIONS:
            self.rcu[label] += self._charge_read(client, operation, params, response)
        self.overhead_s += time.perf_counter() - begin
        return response

    def short(self, table: str) -> str:
        """``table`` without the first of :attr:`prefixes` it starts with."""
        for prefix in self.prefixes:
            if table.startswith(prefix):
                return table.removeprefix(prefix)
        return table

    def _label(self, operation: str, params: Any) -> str:
        if operation == "TransactWriteItems":
            tables = [next(iter(entry.values()))["TableName"] for entry in params["TransactItems"]]
        elif "RequestItems" in params:
            tables = list(params["RequestItems"])
        else:
            tables = [params.get("TableName", "")]
        names = ",".join(self.short(table) for table in dict.fromkeys(tables))
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
            shape, name = self.shapes[table], self.short(table)
            if operation == "BatchWriteItem":
                request = {"Item": after} if after is not None else {"Key": key}
                if key_text(request) in unprocessed:
                    continue
                if after is not None:
                    self.put_keys[name].append(key)
                charged += self.written.charge(name, shape, before, after)
            elif kind in ("Update", "UpdateItem"):
                updated = self._get(client, table, key)
                charged += self.written.charge(name, shape, before, updated, factor=factor)
            elif kind in ("Delete", "DeleteItem"):
                charged += self.written.charge(name, shape, before, None, factor=factor)
            elif kind == "ConditionCheck":  # billed like a write of the item checked
                charged += self.written.charge(name, shape, before, before, factor=factor)
            else:
                self.put_keys[name].append(key)
                charged += self.written.charge(name, shape, before, after, factor=factor)
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
