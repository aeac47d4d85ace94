"""TransactWriteItems on the embedded DynamoDB at the cost DynamoDB has: of the items written.

moto (5.x, ``DynamoDBBackend.transact_write_items``) backs up every table a
transaction names, before it writes, by ``copy.deepcopy`` of the whole table, and
does so once per operation: a transaction of 100 writes to a table of 2,000
contacts copies those 2,000 contacts 100 times (about 0.17 s each here), some 17 s.
A bulk tag of a few thousand contacts (``POST /v1/contacts/tags``, transactions of
up to 100 items, several at once) then held the local stack's DynamoDB for minutes,
its clients timed out and retried, each retry another transaction copying tables,
and the process grew past 13 GB. It also runs transactions concurrently with each
other, which DynamoDB never lets overlap on an item, and a rolled-back one puts
back a whole table copied before another committed.

:func:`install` wraps that method, in this process, so that:

* transactions run one at a time (a lock), as DynamoDB serialises transactions
  over the items they touch;
* the backup of a table is taken once per transaction and copies only what a
  transaction can change: the items it names (deep copies), the table's index of
  items (new dicts holding the same untouched items, which this transaction does
  not write) and the table's stream records (a new list, so a rollback also drops
  the records of the writes it undoes, as before).

moto's models also keep every instance they ever built (``BaseModel.__new__`` appends
it to ``instances_tracked``, for moto's dashboard and reset): every item written, and
every table copied, is kept alive until the process ends. For the stack's DynamoDB, a
process that serves for days, :func:`install` turns that tracking off, so that an item
replaced or deleted, and a transaction's backup, are freed (a bulk tag of 3,000
contacts left about 70 MB behind each time before).

moto's own code still does every check and write and the rollback; only what its
``copy.deepcopy`` of a table returns, while a transaction runs, is this smaller
copy. ``tests/integration/test_local_transactions.py`` checks the result against
moto's own: the same answers and the same tables after commits, cancellations
and validation errors, on a table with a stream.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()
_ACTIVE = threading.local()


def install() -> None:
    """Wrap moto's ``transact_write_items`` as the module docstring says (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    _stop_tracking_instances()
    Table.__deepcopy__ = _table_deepcopy  # type: ignore[attr-defined]
    original: Callable[..., None] = DynamoDBBackend.transact_write_items
    if getattr(original, "__outreach_local__", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK, _backups_of(_touched_keys(self, transact_items)):
            original(self, transact_items)

    transact_write_items.__outreach_local__ = True  # type: ignore[attr-defined]
    transact_write_items.__doc__ = original.__doc__
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


class _Untracked(list[Any]):
    """An ``instances_tracked`` list that keeps nothing."""

    def append(self, instance: Any) -> None:
        del instance


def _stop_tracking_instances() -> None:
    """moto's DynamoDB models keep no list of their instances (module docstring)."""
    from moto.core.model_instances import model_data

    for model in model_data["dynamodb"].values():
        model.instances_tracked = _Untracked()  # type: ignore[attr-defined]


def _touched_keys(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per table name, the keys ``(hash, range or None)`` the operations name, as
    moto's DynamoType values (a malformed operation is left to moto to refuse)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys: dict[str, list[Any]] = defaultdict(list)
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = backend.tables[op["TableName"]]
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        except (StopIteration, KeyError, TypeError, AttributeError):
            continue
        keys[table.name].append((hash_value, range_value))
    return keys


@contextmanager
def _backups_of(keys: dict[str, list[Any]]) -> Iterator[None]:
    _ACTIVE.keys = keys
    _ACTIVE.copies = {}
    try:
        yield
    finally:
        del _ACTIVE.keys, _ACTIVE.copies


def _table_deepcopy(table: Any, memo: dict[int, Any]) -> Any:
    """A transaction's backup of ``table`` (module docstring); outside a transaction
    of this thread, a plain deep copy of its attributes."""
    keys: dict[str, list[Any]] | None = getattr(_ACTIVE, "keys", None)
    if keys is None:
        clone = table.__class__.__new__(table.__class__)
        memo[id(table)] = clone
        clone.__dict__.update(copy.deepcopy(table.__dict__, memo))
        return clone
    copies: dict[str, Any] = _ACTIVE.copies
    if table.name not in copies:
        copies[table.name] = _backup(table, keys.get(table.name, []))
    return copies[table.name]


def _backup(table: Any, keys: list[Any]) -> Any:
    backup = copy.copy(table)
    items: defaultdict[Any, Any] = defaultdict(dict)
    for hash_value, stored in table.items.items():
        items[hash_value] = dict(stored) if isinstance(stored, dict) else stored
    for hash_value, range_value in keys:
        if hash_value not in items:
            continue
        if range_value is None:
            items[hash_value] = copy.deepcopy(items[hash_value])
        elif range_value in items[hash_value]:
            ranges = items[hash_value]
            ranges[range_value] = copy.deepcopy(ranges[range_value])
    backup.items = items
    if table.stream_shard is not None:
        shard = copy.copy(table.stream_shard)
        shard.items = list(table.stream_shard.items)
        shard.table = backup
        backup.stream_shard = shard
    return backup


__all__ = ["install"]
