"""Query parameters every paginated listing takes.

Cursors are sealed and opened by the repositories (:mod:`outreach.data.pages`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1..200).")]
CursorParam = Annotated[
    str | None,
    Query(max_length=2048, description="The previous page's `next_cursor`."),
]
