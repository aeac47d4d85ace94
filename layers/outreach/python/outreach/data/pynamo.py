"""Small readings of PynamoDB's values and errors that every repository needs."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from pynamodb.constants import NONE
from pynamodb.exceptions import DeleteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


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


def delete_if_present(item: Model) -> bool:
    """Delete ``item``'s key on condition that it exists; ``False`` when it did not (a
    conditional delete, so a concurrent delete leaves exactly one ``True``)."""
    hash_key = next(a for a in type(item).get_attributes().values() if a.is_hash_key)
    try:
        item.delete(condition=hash_key.exists())
    except DeleteError as error:
        if condition_failed(error):
            return False
        raise
    return True


def from_item[T: DataclassInstance](cls: type[T], item: Model, **converted: Any) -> T:
    """The domain dataclass ``cls`` read from ``item``: each field from the item's attribute
    of the same name, but for those given in ``converted`` (renamed or converted ones)."""
    same = (f.name for f in fields(cls) if f.name not in converted)
    return cls(**{name: getattr(item, name) for name in same}, **converted)


def to_item[M: Model](model: type[M], source: object, **converted: Any) -> M:
    """A ``model`` item written from ``source``: each attribute from the field of the same
    name, but for those given in ``converted`` (renamed or converted ones)."""
    same = (name for name in model.get_attributes() if name not in converted)
    return model(**{name: getattr(source, name) for name in same}, **converted)
