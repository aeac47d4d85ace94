"""Small readings of PynamoDB's values and errors that every repository needs."""

from __future__ import annotations

from typing import Any


def condition_failed(error: Exception) -> bool:
    """Whether a PynamoDB write error is a failed ``ConditionExpression``."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def raw_map(value: Any) -> dict[str, Any]:
    """A raw map attribute as read (a ``MapAttribute``) or as set (a ``dict``); ``{}`` for none."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    result: dict[str, Any] = value.as_dict()
    return result
