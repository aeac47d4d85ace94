"""What the contract tests share: each port's fixture runs once on its in-memory fake and
once on the real repository over moto."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from outreach.data.pages import Page

IMPLEMENTATIONS = ["in_memory", "dynamodb"]


def use_dynamodb(request: pytest.FixtureRequest) -> bool:
    """Whether this run of a fixture parametrized by :data:`IMPLEMENTATIONS` is the
    DynamoDB one (then moto is started for it)."""
    if request.param == "dynamodb":
        request.getfixturevalue("aws")
        return True
    return False


def walk_pages[T](
    fetch: Callable[[str | None], Page[T]], *, limit: int, total: int
) -> tuple[list[T], int]:
    """Every item of a listing, page after page (``fetch(cursor)``), checking each page
    holds at most ``limit`` items and has a next cursor while fewer than ``total`` were
    seen; the items in order, and how many pages it took."""
    seen: list[T] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = fetch(cursor)
        assert len(page.items) <= limit
        seen.extend(page.items)
        pages += 1
        if len(seen) < total:
            assert page.next_cursor is not None
        cursor = page.next_cursor
        if cursor is None:
            return seen, pages
