"""Steps several bench scripts take: an owner's registration through the identity
handler, and the raw ``BatchWriteItem`` baseline a write-heavy handler is compared to.

Import it after :func:`bench._setup.use_bench_environment` (it imports the project).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.api import http_event

PASSWORD = "correct horse battery staple"  # noqa: S105 - the bench accounts' password
# DynamoDB's limit of put requests in one BatchWriteItem.
BATCH_WRITE_LIMIT = 25


def register(
    identity: Callable[[dict[str, Any], Any], dict[str, Any]],
    context: Any,
    email: str,
    organization_name: str,
    *,
    full_name: str = "B",
) -> None:
    """Register ``email`` (password :data:`PASSWORD`) as the owner of a new organization."""
    body = {
        "email": email,
        "password": PASSWORD,
        "full_name": full_name,
        "organization_name": organization_name,
    }
    response = identity(http_event("POST", "/v1/auth/register", body=body), context)
    assert response["statusCode"] == 201, response


def write_raw(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> int:
    """Put ``items`` into ``table`` with plain ``BatchWriteItem`` calls, the unprocessed
    ones again until none is left; the number of calls."""
    calls = 0
    for offset in range(0, len(items), BATCH_WRITE_LIMIT):
        chunk = items[offset : offset + BATCH_WRITE_LIMIT]
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        while pending:
            calls += 1
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems", {})
    return calls
