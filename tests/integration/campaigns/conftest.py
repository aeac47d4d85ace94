"""Fixtures of the campaign tests, on one of two backends.

By default a test drives the real campaigns handler (routes, validation, problem
details) with its service on the in-memory fakes, and a caller per bearer token.
A test marked ``dynamodb`` drives every handler on moto instead, with real
registrations and logins: the full paths, the audience snapshot, and the stats
stream. The fixtures (``orgs``, ``api``, ``owner``, ``rival``, ``people``) are the
same on both, so a test reads the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from outreach_local.runtime import LocalLambdaContext
from outreach_local.streams import StatsPump
from tests.integration.campaigns.support import (
    SENDER,
    CampaignsApi,
    FakeCampaigns,
    MotoOrganizations,
    Organizations,
    mark_completed,
)
from tests.integration.identity_support import Account
from tests.support.api import ApiClient


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "dynamodb: a campaign test through the handlers on moto, with real logins "
        "(otherwise the campaigns handler runs on the in-memory fakes)",
    )


def _context(request: pytest.FixtureRequest) -> LocalLambdaContext | None:
    """The Lambda context on moto (``dynamodb`` tests), ``None`` on the fakes."""
    if request.node.get_closest_marker("dynamodb") is None:
        return None
    request.getfixturevalue("aws")
    context: LocalLambdaContext = request.getfixturevalue("lambda_context")
    return context


@pytest.fixture
def orgs(request: pytest.FixtureRequest) -> Organizations:
    """Where the test's organizations, users and contacts come from."""
    context = _context(request)
    if context is None:
        return FakeCampaigns()
    return MotoOrganizations(ApiClient("identity", context), ApiClient("contacts", context))


@pytest.fixture
def api(request: pytest.FixtureRequest, orgs: Organizations) -> Iterator[CampaignsApi]:
    """The campaigns handler: on moto, a stats read first counts the recipients' stream."""
    if isinstance(orgs, FakeCampaigns):
        with orgs.api() as fake_api:
            yield fake_api
        return
    context = _context(request)
    assert context is not None
    yield CampaignsApi(
        ApiClient("campaigns", context), drain=StatsPump().drain, complete=mark_completed
    )


@pytest.fixture
def fake(orgs: Organizations) -> FakeCampaigns:
    """The in-memory stores under the handler (tests on the fakes only)."""
    assert isinstance(orgs, FakeCampaigns), "a dynamodb test has no fakes"
    return orgs


@pytest.fixture
def owner(orgs: Organizations) -> Account:
    """Organization A, with a sender number."""
    return orgs.account("owner@acme.test", "Acme Foundations", sender_number=SENDER)


@pytest.fixture
def rival(orgs: Organizations) -> Account:
    """Organization B, with a sender number of its own."""
    return orgs.account("owner@rival.test", "Rival Basements", sender_number="+16175550199")


@pytest.fixture
def people(orgs: Organizations, owner: Account) -> dict[str, dict[str, Any]]:
    """Five contacts of organization A; Hal is on the opt-out list."""
    made = {
        "dana": orgs.add_contact(owner, "+16175550101", first_name="Dana", tags=["leads"]),
        "eli": orgs.add_contact(owner, "+16175550102", first_name="Eli", tags=["customers"]),
        "fay": orgs.add_contact(
            owner, "+16175550103", first_name="Fay", tags=["leads", "customers"]
        ),
        "gus": orgs.add_contact(owner, "+16175550104", first_name="Gus"),
        "hal": orgs.add_contact(owner, "+16175550105", first_name="Hal", tags=["leads"]),
    }
    orgs.opt_out(owner, "(617) 555-0105")
    return made
