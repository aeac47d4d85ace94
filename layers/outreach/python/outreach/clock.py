"""Time as an injected dependency: rules never call ``datetime.now()`` themselves."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current instant that can also wait."""

    def now(self) -> datetime:
        """Return the current instant, timezone-aware, in UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait for ``seconds`` of this clock's time to pass."""
        ...

    def monotonic(self) -> float:
        """Seconds on this clock that never go back: differences are elapsed time."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def monotonic(self) -> float:
        return time.monotonic()


class SimulatedClock:
    """A clock that only moves when told to; ``sleep`` advances it instantly.

    The local stack's ``/v1/dev/tick`` and the tests use it so that pacing
    (messages per second) costs no wall time.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware start instant")
        self._now = start.astimezone(UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(timedelta(seconds=seconds))

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        with self._lock:
            self._now += delta
            self._elapsed += max(0.0, delta.total_seconds())

    def set(self, instant: datetime) -> None:
        """Jump to ``instant`` (timezone-aware); a jump back leaves :meth:`monotonic` still."""
        with self._lock:
            target = instant.astimezone(UTC)
            self._elapsed += max(0.0, (target - self._now).total_seconds())
            self._now = target

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed


def to_iso(instant: datetime) -> str:
    """Format an instant as the API does: UTC, ISO 8601, ``Z`` suffix."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
