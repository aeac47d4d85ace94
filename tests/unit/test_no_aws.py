"""The unit tests' guard (``tests/unit/conftest.py``) refuses every AWS call."""

from __future__ import annotations

import boto3
import pytest


def test_an_aws_call_in_a_unit_test_fails() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    with pytest.raises(AssertionError, match="a unit test called AWS: ListTables"):
        client.list_tables()
