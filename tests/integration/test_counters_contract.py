"""The bounded counters: the in-memory fake and DynamoDB answer the same, and the
DynamoDB one never passes its limit under concurrent workers."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from outreach.data.counters import DynamoCounters
from outreach.spend import BoundedCounters
from tests.support.contract import IMPLEMENTATIONS, use_dynamodb
from tests.support.fakes.counters import InMemoryCounters

EXPIRES = datetime(2026, 3, 5, tzinfo=UTC)


@pytest.fixture(params=IMPLEMENTATIONS)
def counters(request: pytest.FixtureRequest) -> Iterator[BoundedCounters]:
    yield DynamoCounters() if use_dynamodb(request) else InMemoryCounters()


def test_a_reservation_takes_what_fits_and_no_more(counters: BoundedCounters) -> None:
    assert counters.value("k") == 0
    assert counters.reserve("k", limit=5, wanted=3, expires_at=EXPIRES) == 3
    assert counters.reserve("k", limit=5, wanted=3, expires_at=EXPIRES) == 2
    assert counters.reserve("k", limit=5, wanted=1, expires_at=EXPIRES) == 0
    assert counters.value("k") == 5


def test_released_units_can_be_taken_again_and_never_go_below_zero(
    counters: BoundedCounters,
) -> None:
    counters.reserve("k", limit=4, wanted=4, expires_at=EXPIRES)
    counters.release("k", 3)
    assert counters.value("k") == 1
    counters.release("k", 5)  # more than is held: nothing
    counters.release("k", 0)
    assert counters.value("k") == 1
    assert counters.reserve("k", limit=4, wanted=10, expires_at=EXPIRES) == 3


def test_a_zero_limit_gives_nothing_and_keys_are_separate(counters: BoundedCounters) -> None:
    assert counters.reserve("a", limit=0, wanted=1, expires_at=EXPIRES) == 0
    assert counters.reserve("b", limit=1, wanted=1, expires_at=EXPIRES) == 1
    assert counters.value("a") == 0


@pytest.mark.usefixtures("aws")
def test_concurrent_reservations_on_dynamodb_take_exactly_the_limit() -> None:
    counters = DynamoCounters()
    limit = 37

    def worker(_: int) -> int:
        taken = 0
        while got := counters.reserve(
            "race", limit=limit, wanted=3, expires_at=EXPIRES + timedelta(days=1)
        ):
            taken += got
        return taken

    with ThreadPoolExecutor(max_workers=6) as pool:
        totals = list(pool.map(worker, range(6)))
    assert sum(totals) == limit
    assert counters.value("race") == limit
