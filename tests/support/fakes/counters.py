"""In-memory :class:`outreach.spend.BoundedCounters`, for the unit tests.

Held to the DynamoDB implementation's behaviour by
``tests/integration/test_counters_contract.py``. A lock makes each operation atomic,
as DynamoDB makes each conditional update.
"""

from __future__ import annotations

import threading
from datetime import datetime


class InMemoryCounters:
    """Counters in a dictionary; ``expires`` keeps each counter's TTL for inspection."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.expires: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, *, limit: int, wanted: int, expires_at: datetime) -> int:
        with self._lock:
            taken = max(0, min(wanted, limit - self.values.get(key, 0)))
            if taken:
                self.values[key] = self.values.get(key, 0) + taken
                self.expires[key] = expires_at
            return taken

    def release(self, key: str, count: int) -> None:
        with self._lock:
            if count > 0 and self.values.get(key, 0) >= count:
                self.values[key] -= count

    def value(self, key: str) -> int:
        with self._lock:
            return self.values.get(key, 0)
