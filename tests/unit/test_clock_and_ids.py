from datetime import UTC, datetime, timedelta, timezone

import pytest

from outreach.clock import SimulatedClock, SystemClock, to_iso
from outreach.ids import is_id, new_id


def test_system_clock_is_utc_and_aware() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_system_clock_sleep_of_zero_returns_at_once() -> None:
    SystemClock().sleep(0)


def test_simulated_clock_moves_only_when_told() -> None:
    start = datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC)
    clock = SimulatedClock(start)
    assert clock.now() == start
    clock.sleep(1.5)
    assert clock.now() == start + timedelta(seconds=1.5)
    clock.advance(timedelta(minutes=1))
    assert clock.now() == start + timedelta(seconds=61.5)
    clock.set(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5))))
    assert clock.now() == datetime(2026, 1, 1, 5, tzinfo=UTC)


def test_simulated_clock_rejects_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2026, 1, 1))


def test_iso_format_is_utc_with_z() -> None:
    instant = datetime(2026, 11, 22, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert to_iso(instant) == "2026-11-22T14:30:00.000Z"


def test_ids_sort_by_creation_time() -> None:
    base = datetime(2026, 11, 22, tzinfo=UTC)
    ids = [new_id(base + timedelta(milliseconds=step)) for step in range(50)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 50
    assert all(is_id(value) and len(value) == 26 for value in ids)


def test_ids_made_in_the_same_millisecond_differ() -> None:
    at = datetime(2026, 11, 22, tzinfo=UTC)
    assert len({new_id(at) for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    "value", ["", "short", "0" * 25 + "U", "0" * 27, "01ARZ3NDEKTSV4RRFFQ69G5FA!"]
)
def test_is_id_rejects_other_shapes(value: str) -> None:
    assert not is_id(value)
