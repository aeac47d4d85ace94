"""One simulated time per organization, and one sender at a time per organization.

``POST /v1/dev/tick {"now"}`` moves an organization's engine to an instant of
the caller's choosing. Everything that organization does afterwards on the
local stack (a text it receives, a receipt, a STOP confirmation, an opt-out's
time, "sends today") happens at that tick's time, not the machine's:
:meth:`OrganizationTimelines.now` is the end of its latest tick plus the real
time elapsed since. An organization that never ticked lives on the real clock.
Ticks may go in any direction (tests sharing one stack each pick their own
instants); one organization's ticks never move another's time.

In the cloud one organization's sends are serial: its queue messages share one
FIFO message group, so the next tick's work starts only when the last one's
ended, at a later real instant. Locally, :meth:`OrganizationTimelines.run`
gives the same: a lock per organization, and a tick whose minute of work would
overlap an earlier run of the organization (two ticks 30 s apart, in either
order) starts where that run ended plus the longest pacing gap (one second),
so no second holds more than ``messages_per_second`` sends from its number.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from outreach.clock import Clock, SimulatedClock, SystemClock

T = TypeVar("T")

# The longest gap pacing keeps between two sends (messages_per_second >= 1).
PACING_GAP = timedelta(seconds=1)
# How long one tick's work may last on its clock: a minute's budget at the rate.
RUN_SPAN = timedelta(seconds=60)
# Runs remembered per organization to keep later ones off their seconds.
REMEMBERED_RUNS = 256


@dataclass(frozen=True)
class _Run:
    """An organization's latest tick: when it started and ended on its simulated clock."""

    started: datetime
    ended: datetime
    ended_monotonic: float  # the real clock's reading when it ended


class OrganizationTimelines:
    """The local stack's per-organization time and send serialisation (thread-safe)."""

    def __init__(self, real: Clock | None = None) -> None:
        self._real = real or SystemClock()
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._runs: dict[str, list[_Run]] = {}

    def now(self, org_id: str) -> datetime:
        """The organization's current instant: its latest tick's end plus real time since."""
        with self._guard:
            runs = self._runs.get(org_id)
            run = runs[-1] if runs else None
        if run is None:
            return self._real.now()
        elapsed = max(0.0, self._real.monotonic() - run.ended_monotonic)
        return run.ended + timedelta(seconds=elapsed)

    def clock(self, org_id: str) -> Clock:
        """A clock reading :meth:`now` of ``org_id``; it waits in real time."""
        return _OrganizationClock(self, org_id, self._real)

    @contextmanager
    def serialised(self, org_id: str) -> Iterator[None]:
        """Hold the organization's send lock (what its FIFO message group is in the cloud)."""
        with self._guard:
            lock = self._locks.setdefault(org_id, threading.Lock())
        with lock:
            yield

    def run(self, org_id: str, instant: datetime, work: Callable[[SimulatedClock], T]) -> T:
        """Run ``work`` for ``org_id`` on a simulated clock for a tick at ``instant``, serialised.

        The clock starts at ``instant``, or, when a minute from there would overlap
        one of the organization's earlier runs, just after that run. When ``work``
        returns, the organization's time is the clock's.
        """
        with self.serialised(org_id):
            with self._guard:
                runs = list(self._runs.get(org_id, ()))
            start = _first_free_start(instant, runs)
            clock = SimulatedClock(start)
            try:
                return work(clock)
            finally:
                with self._guard:
                    kept = self._runs.setdefault(org_id, [])
                    kept.append(_Run(start, clock.now(), self._real.monotonic()))
                    del kept[:-REMEMBERED_RUNS]


def _first_free_start(instant: datetime, runs: list[_Run]) -> datetime:
    """The earliest start at or after ``instant`` whose minute overlaps none of ``runs``."""
    start = instant
    for run in sorted(runs, key=lambda r: r.started):
        busy_until = run.ended + PACING_GAP
        if start < busy_until and run.started < start + RUN_SPAN + PACING_GAP:
            start = busy_until
    return start


class _OrganizationClock:
    """:class:`~outreach.clock.Clock` on an organization's timeline."""

    def __init__(self, timelines: OrganizationTimelines, org_id: str, real: Clock) -> None:
        self._timelines = timelines
        self._org_id = org_id
        self._real = real

    def now(self) -> datetime:
        return self._timelines.now(self._org_id)

    def sleep(self, seconds: float) -> None:
        # Pause and cancel wait out a sender's deadline: a real wait, as senders run for real.
        self._real.sleep(seconds)

    def monotonic(self) -> float:
        return self._real.monotonic()
