"""Transactions whose items carry labels, so a cancellation says which conditions failed.

PynamoDB sends a transaction's items grouped by kind (condition checks, deletes,
puts, updates), not in the order they were added, so the positions of
DynamoDB's cancellation reasons only mean something once mapped back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from outreach.data.binding import transaction_connection

_KINDS = ("check", "delete", "put", "update")


class ConditionsFailed(Exception):
    """The transaction was cancelled because these labelled conditions failed."""

    def __init__(self, labels: set[str], error: TransactWriteError) -> None:
        super().__init__(f"transaction conditions failed: {sorted(labels)}")
        self.labels = labels
        self.error = error


class Transaction:
    """Collect writes, then :meth:`commit` them atomically."""

    def __init__(self) -> None:
        self._operations: dict[str, list[tuple[str | None, Callable[[TransactWrite], None]]]] = {
            kind: [] for kind in _KINDS
        }

    def __len__(self) -> int:
        return sum(len(operations) for operations in self._operations.values())

    def save(
        self, model: Model, *, condition: Condition | None = None, label: str | None = None
    ) -> None:
        self._operations["put"].append((label, lambda tw: tw.save(model, condition=condition)))

    def delete(
        self, model: Model, *, condition: Condition | None = None, label: str | None = None
    ) -> None:
        self._operations["delete"].append((label, lambda tw: tw.delete(model, condition=condition)))

    def update(
        self,
        model: Model,
        actions: list[Any],
        *,
        condition: Condition | None = None,
        label: str | None = None,
    ) -> None:
        self._operations["update"].append(
            (label, lambda tw: tw.update(model, actions=actions, condition=condition))
        )

    def condition_check(
        self,
        model_cls: type[Model],
        hash_key: Any,
        range_key: Any = None,
        *,
        condition: Condition,
        label: str,
    ) -> None:
        self._operations["check"].append(
            (
                label,
                lambda tw: tw.condition_check(model_cls, hash_key, range_key, condition=condition),
            )
        )

    def commit(self) -> None:
        """Write everything or nothing; :class:`ConditionsFailed` names the failed labels."""
        ordered = [op for kind in _KINDS for op in self._operations[kind]]
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                for _label, operation in ordered:
                    operation(transaction)
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            failed = {
                label or "?"
                for (label, _op), reason in zip(ordered, reasons, strict=False)
                if reason is not None and reason.code == "ConditionalCheckFailed"
            }
            if failed:
                raise ConditionsFailed(failed, error) from error
            raise
