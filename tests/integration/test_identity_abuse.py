"""Issue 14's identity attacks on DynamoDB (moto): 30 parallel wrong passwords get
exactly 5 verifications (point 7), and a released sender number is held for its
organization for 30 days, exactly under racing claims, with the STOPs sent to it
during the hold landing on that organization's opt-out list (point 8)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from outreach.clock import SimulatedClock
from outreach.contacts.repository import OptOutRepository
from outreach.errors import Conflict, TooManyRequests, Unauthorized
from outreach.identity import domain
from outreach.identity.passwords import Passwords
from outreach.identity.repository import (
    IdentityRepository,
)
from outreach.identity.service import IdentityService, build_identity_service, get_identity_service
from outreach.ids import new_id
from outreach.inbound.domain import InboundText
from outreach.inbound.service import build_inbound_service
from tests.integration.identity_support import PASSWORD, Account, login, register
from tests.support import builders
from tests.support.api import ApiClient
from tests.support.fakes.identity import CountingPasswords
from tests.support.in_memory_api import api_with

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NUMBER = "+16175550123"


def _service_on_dynamodb(clock: SimulatedClock, passwords: Passwords) -> IdentityService:
    """The service as ``get_identity_service()`` builds it, on the DynamoDB repositories,
    with ``clock`` and ``passwords``."""
    return build_identity_service(clock, passwords=passwords)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


# --- Point 7: 30 parallel wrong passwords ----------------------------------------------------


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("email", ["owner@acme.test", "nobody@acme.test"])
def test_thirty_parallel_wrong_passwords_get_exactly_five_verifications(
    clock: SimulatedClock, email: str
) -> None:
    # Each verification takes 50 ms, as production's argon2id does, so the 30 attempts
    # overlap: the old check-then-record lockout verified 10 to 20 of them.
    passwords = CountingPasswords(delay=0.05)
    service = _service_on_dynamodb(clock, passwords)
    service.register(
        email="owner@acme.test", password=PASSWORD, full_name="Pat", organization_name="Acme"
    )
    passwords.verifications = 0
    start = threading.Barrier(30)

    def attempt(_: int) -> str:
        start.wait()
        try:
            service.login(email=email, password="wrong password!")
        except TooManyRequests as refused:
            assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60 + 1
            return "429"
        except Unauthorized:
            return "401"
        return "200"

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = sorted(pool.map(attempt, range(30)))
    assert passwords.verifications == 5
    assert outcomes == ["401"] * 5 + ["429"] * 25
    # The window still refuses the right password, verifying nothing.
    with pytest.raises(TooManyRequests):
        service.login(email=email, password=PASSWORD)
    assert passwords.verifications == 5


@pytest.mark.usefixtures("aws")
def test_a_success_gives_the_attempts_back(clock: SimulatedClock) -> None:
    passwords = CountingPasswords()
    service = _service_on_dynamodb(clock, passwords)
    service.register(
        email="owner@acme.test", password=PASSWORD, full_name="Pat", organization_name="Acme"
    )
    for _ in range(3):
        for _ in range(4):
            with pytest.raises(Unauthorized):
                service.login(email="owner@acme.test", password="wrong password!")
        service.login(email="owner@acme.test", password=PASSWORD)
    assert passwords.verifications == 15


# --- Point 8: the sender-number hold ---------------------------------------------------------


def _organizations(count: int) -> list[str]:
    store = IdentityRepository()
    ids = []
    for index in range(count):
        organization = builders.organization(f"Org {index}", at=START)
        owner = domain.User(
            id=new_id(START),
            org_id=organization.id,
            email=f"owner{index}@org.test",
            full_name="Pat",
            role=domain.Role.OWNER,
            created_at=START,
            updated_at=START,
        )
        store.create_organization_with_owner(organization, owner, "hash")
        ids.append(organization.id)
    return ids


def _race_for(number: str, org_ids: list[str], *, now: datetime) -> list[str]:
    """Every organization of ``org_ids`` claims ``number`` at once; the winners."""
    store = IdentityRepository()
    start = threading.Barrier(len(org_ids))

    def claim(org_id: str) -> str | None:
        start.wait()
        try:
            store.update_organization(
                org_id, domain.OrganizationChanges(sender_number=number), now=now, old_sender=None
            )
        except Conflict:
            return None
        return org_id

    with ThreadPoolExecutor(max_workers=len(org_ids)) as pool:
        return [org_id for org_id in pool.map(claim, org_ids) if org_id is not None]


@pytest.mark.usefixtures("aws")
def test_racing_claims_of_a_number_have_one_winner() -> None:
    first, *others = _organizations(6)
    # A free number: one of all six wins.
    winners = _race_for(NUMBER, [first, *others], now=START)
    assert len(winners) == 1
    store = IdentityRepository()
    assert [store.get_organization(org).sender_number for org in [first, *others]].count(
        NUMBER
    ) == 1
    # Released by its winner: during the hold no other organization wins...
    store.update_organization(
        winners[0],
        domain.OrganizationChanges(release_sender_number=True),
        now=START,
        old_sender=NUMBER,
    )
    rest = [org for org in [first, *others] if org != winners[0]]
    assert _race_for(NUMBER, rest, now=START + timedelta(days=29)) == []
    # ...and once it has ended, exactly one does.
    after = _race_for(NUMBER, rest, now=START + domain.SENDER_NUMBER_HOLD + timedelta(seconds=1))
    assert len(after) == 1


@pytest.fixture
def api(aws: None, clock: SimulatedClock) -> Iterator[ApiClient]:
    """The identity function on moto with the service on ``clock``."""
    service = _service_on_dynamodb(clock, CountingPasswords())
    with api_with("identity", {get_identity_service: lambda: service}) as client:
        yield client


def _relogin(api: ApiClient, account: Account) -> Account:
    """A fresh login for ``account`` (its access token expired while the clock ran)."""
    account.access_token = login(api, account.email).json()["access_token"]
    return account


def _stop(clock: SimulatedClock, phone: str) -> None:
    build_inbound_service(clock).handle_text(
        InboundText(from_number=phone, to_number=NUMBER, body="STOP")
    )


def test_a_released_number_stays_with_its_organization_for_30_days(
    api: ApiClient, clock: SimulatedClock
) -> None:
    acme = register(api, "owner@acme.test")
    other = register(api, "boss@other.test", "Other Co")
    acme_id, other_id = acme.organization["id"], other.organization["id"]
    opt_outs = OptOutRepository()
    patch = "/v1/organization"
    assert api.call("PATCH", patch, headers=acme.auth, body={"sender_number": NUMBER}).status == 200
    released = api.call("PATCH", patch, headers=acme.auth, body={"sender_number": None})
    assert released.json()["sender_number"] is None  # acme no longer sends from it
    # The attack: another organization claims the number at once.
    problem = api.call(
        "PATCH", patch, headers=other.auth, body={"sender_number": NUMBER}
    ).assert_problem(409)
    assert problem["field"] == "sender_number"
    assert problem["available_at"] == "2026-04-01T15:00:00.000Z"
    assert problem["available_at"] in problem["detail"]
    # A STOP to the number during the hold lands on acme's list, not the other's.
    clock.advance(timedelta(days=29))
    _stop(clock, "+16175559001")
    assert opt_outs.get(acme_id, "+16175559001") is not None
    assert opt_outs.get(other_id, "+16175559001") is None
    # 30 days and one second after the release, the other organization claims it...
    clock.advance(timedelta(days=1, seconds=1))
    claimed = api.call(
        "PATCH", patch, headers=_relogin(api, other).auth, body={"sender_number": NUMBER}
    )
    assert claimed.status == 200, claimed.text
    assert claimed.json()["sender_number"] == NUMBER
    # ...from when its texts reach that organization, and acme cannot take it back.
    _stop(clock, "+16175559002")
    assert opt_outs.get(other_id, "+16175559002") is not None
    assert opt_outs.get(acme_id, "+16175559002") is None
    api.call(
        "PATCH", patch, headers=_relogin(api, acme).auth, body={"sender_number": NUMBER}
    ).assert_problem(409)
