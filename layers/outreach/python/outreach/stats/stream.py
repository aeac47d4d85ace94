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

from outreach.stats.projection import deltas, merge
from outreach.stats.repository import StatsRepository


class NotAWindowEvent(ValueError):
    """The event lacks a tumbling window (the event source mapping must set one)."""


@dataclass(frozen=True)
class WindowResult:
    records: int
    final: bool
    chunks_written: int
    chunks_already: int
    state: dict[str, dict[str, int]]

    def response(self) -> dict[str, Any]:
        return {"state": self.state}


def handle_window(
    event: dict[str, Any], repository: StatsRepository, now: datetime
) -> WindowResult:
    if "window" not in event or "shardId" not in event:
        raise NotAWindowEvent(
            "the stats function needs TumblingWindowInSeconds on its event source mapping"
        )
    records = event.get("Records") or []
    state = merge(event.get("state") or {}, deltas(records))
    if not event.get("isFinalInvokeForWindow"):
        return WindowResult(len(records), False, 0, 0, state)
    written, already = repository.apply_window(
        shard_id=str(event["shardId"]),
        window_start=str(event["window"]["start"]),
        changes=state,
        now=now,
    )
    return WindowResult(len(records), True, written, already, {})
