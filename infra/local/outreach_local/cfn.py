"""CloudFormation's condition functions, evaluated as CloudFormation does. Stdlib only.

Shared by ``infra/lambda_load.py`` (a template's local values) and the tests' IAM
replay (``tests/support/iam_replay.py``): each resolves ``Ref``/``Fn::Sub``/... its
own way and hands its resolver to :class:`Conditions`, which evaluates the
template's ``Conditions`` section (``Fn::Equals``, ``Fn::Not``, ``Fn::And``,
``Fn::Or``, ``Condition``). ``infra/lambda_load.py`` imports this module only in its
parent process: keep it free of third-party imports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Conditions", "text"]


def text(value: Any) -> str:
    """A resolved value as ``Fn::Equals`` compares it: CloudFormation compares strings.

    A parameter's value is always a string (``Number`` parameters included), so a YAML
    ``30`` equals ``"30"``, and a YAML ``true`` is ``"true"``, not Python's ``"True"``.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Conditions:
    """The template's named conditions, evaluated with ``resolve`` for their operands.

    ``resolve`` gives a template value (``{"Ref": "SmsProvider"}``, a literal, ...)
    its value for the stack at hand. ``{"Ref": name}`` naming a condition (not a parameter)
    is read as ``{"Condition": name}``, for loaders that map ``!Condition`` to ``Ref``.
    """

    def __init__(self, conditions: Mapping[str, Any], resolve: Callable[[Any], Any]) -> None:
        self.conditions = conditions
        self.resolve = resolve
        self._evaluating: list[str] = []

    def __contains__(self, name: object) -> bool:
        return name in self.conditions

    def condition(self, name: str) -> bool:
        """The named condition's value."""
        if name not in self.conditions:
            raise KeyError(f"no condition {name!r} in the template")
        if name in self._evaluating:
            cycle = " -> ".join([*self._evaluating, name])
            raise ValueError(f"circular conditions: {cycle}")
        self._evaluating.append(name)
        try:
            return self.truth(self.conditions[name])
        finally:
            self._evaluating.pop()

    def truth(self, node: Any) -> bool:
        """The value of a condition function (or a reference to a named condition)."""
        if isinstance(node, Mapping) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Fn::Equals":
                left, right = _operands(key, arg, 2, 2)
                return text(self.resolve(left)) == text(self.resolve(right))
            if key == "Fn::Not":
                (only,) = _operands(key, arg, 1, 1)
                return not self.truth(only)
            if key == "Fn::And":
                return all(self.truth(item) for item in _operands(key, arg, 2, 10))
            if key == "Fn::Or":
                return any(self.truth(item) for item in _operands(key, arg, 2, 10))
            if key == "Condition" or (key == "Ref" and arg in self.conditions):
                return self.condition(arg)
        raise ValueError(f"unsupported condition {node!r}")


def _operands(key: str, arg: Any, least: int, most: int) -> list[Any]:
    if not isinstance(arg, list) or not least <= len(arg) <= most:
        count = str(least) if least == most else f"{least} to {most}"
        raise ValueError(f"{key} takes a list of {count} operands, not {arg!r}")
    return arg
