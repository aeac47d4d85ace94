"""One invocation of the stats function: a tumbling window's batch of recipient changes.

Lambda calls the function with a shard's records, the window (``start``,
``end``) and the ``state`` the previous call of the same window returned; the
call marked ``isFinalInvokeForWindow`` writes the window's sums. A failed call
is retried with the state it was given, so nothing is counted twice in memory
either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from outreach.stats.ports import WindowWriter
from outreach.stats.projection import deltas, merge


class NotAWindowEvent(ValueError):
    """The event lacks a tumbling window (the event source mapping must set one)."""


@dataclass(frozen=True)
class WindowResult:
    """One call's work: records read, whether it ended the window, chunks written or
    found written already, and the state to hand to the window's next call."""

    records: int
    final: bool
    chunks_written: int
    chunks_already: int
    state: dict[str, dict[str, int]]

    def response(self) -> dict[str, Any]:
        """The function's answer: the window's running ``state`` (empty once written)."""
        return {"state": self.state}


def handle_window(
    event: DynamoDBStreamEvent, repository: WindowWriter, now: datetime
) -> WindowResult:
    """Sum the batch into the window's state; on the window's last call, write it once.

    ``NotAWindowEvent`` when the event has no tumbling window (or no shard).
    """
    raw = event.raw_event
    if "window" not in raw or "shardId" not in raw:
        raise NotAWindowEvent(
            "the stats function needs TumblingWindowInSeconds on its event source mapping"
        )
    records = raw.get("Records") or []
    state = merge(event.state, deltas(records))
    if not event.is_final_invoke_for_window:
        return WindowResult(len(records), False, 0, 0, state)
    written, already = repository.apply_window(
        shard_id=str(event.shard_id),
        window_start=str(raw["window"]["start"]),
        changes=state,
        now=now,
    )
    return WindowResult(len(records), True, written, already, {})
