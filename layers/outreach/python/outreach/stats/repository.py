"""Writing a window's counter changes to ``campaign_stats`` exactly once.

Lambda retries a stream batch until it succeeds, so the write at a window's
end may run more than once. Each write is a transaction of the counter
updates and a marker keyed by the shard, the window's start and the chunk
(at most 99 counter items per transaction): a retry finds the marker and
changes nothing. The chunks are cut from the sorted keys of the window's
state, which a retry receives unchanged, so a retry rebuilds the same chunks.
Markers expire after a week (a window is retried for at most a day, the
stream's retention).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from outreach.data.binding import ensure_models_bound
from outreach.data.models import CampaignStatsModel, CounterModel
from outreach.data.transactions import ConditionsFailed, Transaction
from outreach.stats.projection import PROJECTED_COUNTERS, Deltas, split_stats_key

CHUNK = 99  # counter items per transaction, beside the marker (DynamoDB's limit is 100)
MARKER_TTL = timedelta(days=7)
_WINDOW_LABEL = "window"


def window_marker(shard_id: str, window_start: str, chunk: int) -> str:
    """The counters-table key marking one chunk of one (shard, window) as written."""
    return f"stats-window#{shard_id}#{window_start}#{chunk}"


class StatsRepository:
    """The projected counters' writes (:class:`~outreach.stats.ports.WindowWriter`)."""

    def apply_window(
        self, *, shard_id: str, window_start: str, changes: Deltas, now: datetime
    ) -> tuple[int, int]:
        """Add ``changes`` once per (shard, window); return (chunks written, chunks already)."""
        keys = sorted(changes)
        written = already = 0
        for chunk, offset in enumerate(range(0, len(keys), CHUNK)):
            transaction = Transaction()
            transaction.save(
                CounterModel(
                    window_marker(shard_id, window_start, chunk),
                    value=len(keys[offset : offset + CHUNK]),
                    expires_at=now + MARKER_TTL,
                ),
                condition=CounterModel.key.does_not_exist(),
                label=_WINDOW_LABEL,
            )
            for key in keys[offset : offset + CHUNK]:
                campaign, variant = split_stats_key(key)
                actions: list[Any] = [
                    getattr(CampaignStatsModel, name).add(value)
                    for name, value in sorted(changes[key].items())
                    if name in PROJECTED_COUNTERS
                ]
                if actions:
                    transaction.update(CampaignStatsModel(campaign, variant), actions=actions)
            try:
                transaction.commit()
            except ConditionsFailed as error:
                if error.labels != {_WINDOW_LABEL}:
                    raise
                already += 1
                continue
            written += 1
        return written, already


def build_stats_repository() -> StatsRepository:
    """The stats function's repository, with the models bound to the configured tables."""
    ensure_models_bound()
    return StatsRepository()
