"""What the contract tests share: each port's fixture runs once on its in-memory fake and
once on the real repository over moto."""

from __future__ import annotations

import pytest

IMPLEMENTATIONS = ["in_memory", "dynamodb"]


def use_dynamodb(request: pytest.FixtureRequest) -> bool:
    """Whether this run of a fixture parametrized by :data:`IMPLEMENTATIONS` is the
    DynamoDB one (then moto is started for it)."""
    if request.param == "dynamodb":
        request.getfixturevalue("aws")
        return True
    return False
