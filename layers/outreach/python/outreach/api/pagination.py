"""The query parameters every paginated listing takes (:data:`PageQueryDep`), and the
page it answers (:class:`PagePublic`).

Cursors are sealed and opened by the repositories (:mod:`outreach.data.pages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

from outreach.api.fields import PublicModel

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1..200).")]
CursorParam = Annotated[
    str | None,
    Query(max_length=2048, description="The previous page's `next_cursor`."),
]


@dataclass(frozen=True)
class PageQuery:
    """Which page of a listing: at most ``limit`` items, after ``cursor`` (the first page
    without one)."""

    limit: LimitParam = DEFAULT_LIMIT
    cursor: CursorParam = None


PageQueryDep = Annotated[PageQuery, Depends()]
"""A listing route's ``page: PageQueryDep``: the ``limit`` and ``cursor`` query parameters."""


class PagePublic[ItemT: BaseModel](PublicModel):
    """A page of a listing, read from a :class:`~outreach.data.pages.Page` (its items by
    name too); ``next_cursor`` is ``null`` on the last page."""

    items: list[ItemT]
    next_cursor: str | None
