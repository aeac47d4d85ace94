"""How the bench scripts say whether a figure meets its goal (an upper bound)."""

from __future__ import annotations


def verdict(value: float, goal: float, unit: str) -> str:
    """``goal met (1.42 <= 1.5x)``, or how far over the goal ``value`` is (``unit``: what
    follows the numbers, ``"x"`` or ``" units"``)."""
    if value <= goal:
        return f"goal met ({value:.2f} <= {goal:g}{unit})"
    return (
        f"goal not met: {value:.2f} vs <= {goal:g}{unit}, "
        f"{value - goal:.2f}{unit} over ({value / goal:.1f}x the goal)"
    )
