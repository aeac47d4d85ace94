"""A conditional write on a dictionary of items, as the fakes emulate DynamoDB's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def update_if[K, V: DataclassInstance](
    items: dict[K, V], key: K, holds: Callable[[V], bool], **changes: Any
) -> bool:
    """Apply ``changes`` to the item at ``key`` if there is one and ``holds`` says yes.

    ``False`` (nothing written) otherwise, like an ``UpdateItem`` whose condition failed.
    """
    found = items.get(key)
    if found is None or not holds(found):
        return False
    items[key] = replace(found, **changes)
    return True
