"""Every test starts with no process-wide object cached (``clear_caches`` of
``tests/support/caches.py``, run by ``tests/conftest.py``).

The package builds its settings, signing key, provider, dispatcher and services once per
process, behind ``lru_cache`` factories. A factory that kept its object from one test to
the next would carry that test's environment (its tables, queue, provider) into the
next one. The factories are found by walking the package, so a new or renamed one is
covered without naming it here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest

import outreach
import outreach_local
from outreach.config import get_settings
from tests.support.caches import clear_caches, environment_factories


def every_factory() -> list[Any]:
    """The factories of every module of the package and the local stack, all imported first."""
    for package in (outreach, outreach_local):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name != "outreach_local.__main__":  # running it starts the stack
                importlib.import_module(module.name)
    return environment_factories()


def sizes(factories: Any) -> dict[str, int]:
    """Each factory's number of cached objects, by its dotted name."""
    return {f"{f.__module__}.{f.__qualname__}": f.cache_info().currsize for f in factories}


def test_the_walk_finds_the_factories() -> None:
    factories = every_factory()
    # Given the whole package imported, then the settings factory is among those found,
    assert get_settings in factories
    # and so is one factory per environment-built object: settings, key, provider,
    # dispatcher, the services the handlers use, and the local stack's.
    assert len(factories) >= 13, sizes(factories)


def test_no_factory_keeps_its_instance_across_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given every factory built once (queue URLs set, so that the dispatcher and the
    # webhooks worker build too;
    # the local stack's per-organization services for one organization),
    monkeypatch.setenv("SEND_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/test-send.fifo")
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/test-webhooks")

    def build(factory: Any) -> Any:
        return factory(*(["ORG1"] * len(inspect.signature(factory.__wrapped__).parameters)))

    built = {factory: build(factory) for factory in every_factory()}
    assert sizes(built) == dict.fromkeys(sizes(built), 1)
    # when a test ends and the next one starts,
    clear_caches()
    # then no factory holds an object, and each builds a new one.
    assert sizes(built) == dict.fromkeys(sizes(built), 0)
    for factory, first in built.items():
        assert build(factory) is not first, factory.__qualname__


def test_each_test_starts_with_every_factory_empty() -> None:
    # Whatever ran before in this process, the autouse fixture has cleared every factory.
    found = sizes(every_factory())
    assert found == dict.fromkeys(found, 0)
