"""Small readings of PynamoDB's values and errors that every repository needs."""

from __future__ import annotations

from typing import Any

from pynamodb.constants import NONE
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model


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


def update_quietly(item: Model, actions: list[Any], condition: Condition | None = None) -> None:
    """``UpdateItem`` on ``item``'s key that asks for nothing back.

    PynamoDB's ``Model.update`` always asks for the whole new item (``ALL_NEW``)
    and reads it into the model; the sender's hot path needs none of it.
    Raises :class:`pynamodb.exceptions.UpdateError` as ``Model.update`` does.
    """
    hash_key, range_key = item._get_hash_range_key_serialized_values()
    item._get_connection().update_item(
        hash_key, range_key=range_key, actions=actions, condition=condition, return_values=NONE
    )
