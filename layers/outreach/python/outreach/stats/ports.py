"""What the stats function needs from storage, as a small Protocol.

The DynamoDB implementation is :class:`~outreach.stats.repository.StatsRepository`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from outreach.stats.projection import Deltas


class WindowWriter(Protocol):
    """Writes a tumbling window's counter changes exactly once per (shard, window)."""

    def apply_window(
        self, *, shard_id: str, window_start: str, changes: Deltas, now: datetime
    ) -> tuple[int, int]:
        """Add ``changes`` (``stats_key -> counter -> change``) unless this window's chunks
        were written already; answer (chunks written, chunks already written)."""
        ...
