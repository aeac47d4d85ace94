"""Fixtures the integration tests share: the identity function on moto and a logged-in owner."""

from __future__ import annotations

import pytest

from outreach_local.runtime import LocalLambdaContext
from tests.integration.identity_support import Account, register
from tests.support.api import ApiClient


@pytest.fixture
def identity(aws: None, lambda_context: LocalLambdaContext) -> ApiClient:
    """The identity function's handler, on moto's tables."""
    return ApiClient("identity", lambda_context)


@pytest.fixture
def owner(identity: ApiClient) -> Account:
    """The owner of a new organization ("Acme Foundations"), registered and logged in."""
    return register(identity, "owner@acme.test")
