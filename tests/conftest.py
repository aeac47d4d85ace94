"""Shared fixtures: a test environment, moto-backed tables built from template.yaml, the
send queue and a Lambda context; every test starts with no process-wide object cached.

Helpers tests import live in ``tests/support/`` (the API client in ``api.py``, the cache
reset in ``caches.py``), never here.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto.core.botocore_stubber import BotocoreStubber

from outreach_local.environment import (  # imports no `outreach` module
    embedded_environment,
    use_environment,
)

# The environment the handlers read, set before any settings are built: what
# template.yaml's Globals give every function in the cloud (so a variable the
# template lacks is missing here too), plus the test stack's own values.
TEST_ENVIRONMENT = {
    **embedded_environment(
        table_prefix="test-", credentials="testing", service_name="outreach-tests"
    ),
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "JWT_SECRET": "test-signing-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "POWERTOOLS_DEV": "false",
}
use_environment(TEST_ENVIRONMENT)

# Every botocore session (moto gives each test a new default one; PynamoDB opens one
# per connection) builds its own loader, which parses the service models' JSON again:
# about 0.3 s per client. One loader for the process parses each file once. The
# models are read-only data, and the sessions and clients stay new for every test.
botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.loaders.create_loader)

# PynamoDB's models and every boto3 client share the process's botocore session
# (outreach.aws), made again for each test (it is an environment factory).

# DynamoDB applies each request atomically; moto in-process lets two threads' requests
# interleave inside each other (a failed transaction restores the copies of its tables
# it took before, erasing another thread's write made meanwhile). One request at a time,
# as tests/support/serial_moto_server.py serves them: threads still race, request by
# request, exactly as clients do against DynamoDB.
_moto_request = threading.RLock()
_process_request = BotocoreStubber.process_request


def _one_request_at_a_time(self: BotocoreStubber, request: Any) -> Any:
    with _moto_request:
        return _process_request(self, request)


BotocoreStubber.process_request = _one_request_at_a_time  # type: ignore[method-assign]

import outreach.observability  # noqa: E402, F401 - the logger and metrics, configured once
from outreach.config import get_settings  # noqa: E402
from outreach.data.binding import bind_models  # noqa: E402
from outreach_local.runtime import LocalLambdaContext  # noqa: E402
from outreach_local.template import create_tables  # noqa: E402
from tests.support.caches import clear_caches  # noqa: E402
from tests.support.iam_replay import (  # noqa: E402, F401 - autouse fixtures
    _iam_recorder,
    iam_replay,
)


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the test environment with no cached settings, keys or services."""
    for name, value in TEST_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process, with every table of template.yaml created and the models bound.

    Each test gets new, empty tables: moto starts empty, and the tables are put in as
    copies of the ones :func:`create_tables` made the first time in this process (18
    ``CreateTable``/``UpdateTimeToLive`` calls cost about 0.25 s; a copy, 2 ms).
    """
    from moto import mock_aws

    with mock_aws():
        settings = get_settings()
        _put_empty_tables(settings.aws_region, settings.table_prefix)
        bind_models(settings)
        yield
    bind_models(get_settings())


_empty_tables: dict[tuple[str, str], dict[str, Any]] = {}


def _put_empty_tables(region: str, prefix: str) -> None:
    """Every table of template.yaml, empty, in the running moto's DynamoDB."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
    if (region, prefix) not in _empty_tables:
        create_tables(boto3.client("dynamodb", region_name=region), prefix)
        _empty_tables[region, prefix] = copy.deepcopy(dict(backend.tables))
    else:
        backend.tables.update(copy.deepcopy(_empty_tables[region, prefix]))


@pytest.fixture
def send_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The FIFO send queue, in moto, with SEND_QUEUE_URL pointing at it."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="test-send.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    monkeypatch.setenv("SEND_QUEUE_URL", url)
    get_settings.cache_clear()
    return url


@pytest.fixture
def imports_bucket(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The imports bucket, in moto, with IMPORTS_BUCKET naming it."""
    name = "test-imports"
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=name)
    monkeypatch.setenv("IMPORTS_BUCKET", name)
    get_settings.cache_clear()
    return name


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    """A Lambda context like the runtime's."""
    return LocalLambdaContext(function_name="test-function")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the slowest tests first, so one worker takes them while the other runs the rest."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1)
