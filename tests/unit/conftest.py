"""Unit tests run on the fakes alone: any AWS call (moto or not) fails the test at once.

Rules are tested through the services with ``tests/support/fakes``; what needs
DynamoDB, SQS or SNS is an integration test (``tests/integration``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest


@pytest.fixture(autouse=True)
def no_aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(self: Any, operation_name: str, api_params: Any) -> Any:
        raise AssertionError(f"a unit test called AWS: {operation_name}; use the fakes")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    yield
