"""The identity rules through :class:`IdentityService` on in-memory stores and a
simulated clock: registration, sign-in and its throttle, refresh rotation and reuse
detection, logout, authorization, the owner's protections, organization settings and
sender numbers. The stores are held to DynamoDB by ``test_identity_contract.py``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from outreach.clock import SimulatedClock
from outreach.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from outreach.identity.domain import (
    DEFAULT_FALLBACK_TIME_ZONES,
    SENDER_NUMBER_HOLD,
    Caller,
    NewUser,
    OrganizationChanges,
    Role,
    TokenPair,
    User,
    UserChanges,
)
from outreach.identity.passwords import Passwords
from outreach.identity.service import INVALID_CREDENTIALS, IdentityService
from outreach.secrets import get_signing_key
from tests.support import builders
from tests.support.fakes.identity import (
    InMemoryIdentityStore,
    InMemoryLoginFailureStore,
    InMemorySessionStore,
    in_memory_identity_service,
)

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
WRONG = "wrong password!"


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def store() -> InMemoryIdentityStore:
    return InMemoryIdentityStore()


@pytest.fixture
def sessions() -> InMemorySessionStore:
    return InMemorySessionStore()


@pytest.fixture
def failures() -> InMemoryLoginFailureStore:
    return InMemoryLoginFailureStore()


@pytest.fixture
def service(
    clock: SimulatedClock,
    store: InMemoryIdentityStore,
    sessions: InMemorySessionStore,
    failures: InMemoryLoginFailureStore,
) -> IdentityService:
    return in_memory_identity_service(
        clock, users=store, sessions=sessions, login_failures=failures
    )


def _register(service: IdentityService, email: str = "owner@acme.test", name: str = "Acme") -> User:
    owner, _ = service.register(
        email=email, password=PASSWORD, full_name="Pat Owner", organization_name=name
    )
    return owner


def _bearer(service: IdentityService, email: str) -> str:
    """Sign in as ``email``: the ``Authorization`` header of the new login."""
    return f"Bearer {service.login(email=email, password=PASSWORD).access_token}"


def _caller(service: IdentityService, email: str) -> Caller:
    """Sign in as ``email`` and authenticate the access token, as a request would."""
    return service.authenticate(_bearer(service, email))


def _add(service: IdentityService, by: Caller, email: str, role: Role = Role.MEMBER) -> User:
    return service.create_user(
        by, NewUser(email=email, password=PASSWORD, full_name="Sam Staff", role=role)
    )


@pytest.fixture
def owner(service: IdentityService) -> Caller:
    _register(service)
    return _caller(service, "owner@acme.test")


@pytest.fixture
def other(service: IdentityService, owner: Caller) -> Caller:
    """The owner of a second organization, registered after ``owner``'s."""
    _register(service, "boss@other.test", "Other Co")
    return _caller(service, "boss@other.test")


# --- Registration ------------------------------------------------------------------------


def test_registering_creates_an_organization_with_defaults_and_its_owner(
    service: IdentityService, store: InMemoryIdentityStore
) -> None:
    # When someone registers with a mixed-case, padded email
    user, organization = service.register(
        email="  Pat@Acme.TEST ", password=PASSWORD, full_name="Pat", organization_name="Acme"
    )
    # Then they own a new organization with the product's default settings
    assert user.email == "pat@acme.test"
    assert user.role is Role.OWNER
    assert user.org_id == organization.id
    assert user.created_at == START
    assert organization.timezone == "America/New_York"
    assert organization.sender_number is None
    assert organization.messages_per_second == 1
    assert (organization.quiet_hours_start, organization.quiet_hours_end) == ("08:00", "21:00")
    assert organization.opt_out_footer == "Reply STOP to opt out"
    assert organization.help_texts == {}  # every language's default (outreach.replies)
    # And only a hash of the password is stored
    found = store.find_credentials("pat@acme.test")
    assert found is not None
    assert found[1].startswith("$argon2id$")
    assert PASSWORD not in found[1]


def test_an_email_registers_once_whatever_its_case(service: IdentityService) -> None:
    _register(service, "owner@acme.test")
    with pytest.raises(Conflict):
        _register(service, "OWNER@acme.test", "Other Co")


# --- Sign-in and its throttle ------------------------------------------------------------------


def test_login_issues_a_pair_for_the_user(service: IdentityService, owner: Caller) -> None:
    pair = service.login(email="Owner@Acme.test", password=PASSWORD)
    assert pair.expires_in == 900
    claims = jwt.decode(  # expiry is the service's clock's business, not the machine's
        pair.access_token,
        get_signing_key(),
        algorithms=["HS256"],
        audience="outreach-api",
        options={"verify_exp": False},
    )
    assert claims["exp"] - claims["iat"] == 900
    assert (claims["org"], claims["sub"], claims["role"]) == (owner.org_id, owner.user_id, "owner")


def test_a_wrong_password_and_an_unknown_email_fail_alike(
    service: IdentityService, owner: Caller
) -> None:
    with pytest.raises(Unauthorized) as wrong:
        service.login(email="owner@acme.test", password=WRONG)
    with pytest.raises(Unauthorized) as unknown:
        service.login(email="nobody@acme.test", password=WRONG)
    assert wrong.value.detail == unknown.value.detail == INVALID_CREDENTIALS


def test_five_failures_lock_the_email_until_the_window_ends(
    service: IdentityService, owner: Caller, clock: SimulatedClock
) -> None:
    # Given five failed sign-ins within 15 minutes
    for _ in range(5):
        with pytest.raises(Unauthorized):
            service.login(email="owner@acme.test", password=WRONG)
        clock.advance(timedelta(minutes=1))
    # When the right password comes, in any case, it is refused with a retry delay
    for email in ("owner@acme.test", "OWNER@acme.test"):
        with pytest.raises(TooManyRequests) as locked:
            service.login(email=email, password=PASSWORD)
        assert 1 <= int(locked.value.headers["Retry-After"]) <= 15 * 60 + 1
    # Another email is not affected
    _register(service, "other@acme.test", "Other Co")
    service.login(email="other@acme.test", password=PASSWORD)
    # And once the window (started by the first failure) ends, the email may sign in
    clock.advance(timedelta(minutes=10))
    service.login(email="owner@acme.test", password=PASSWORD)


def test_unknown_emails_are_throttled_too(service: IdentityService) -> None:
    for _ in range(5):
        with pytest.raises(Unauthorized):
            service.login(email="ghost@acme.test", password="whatever12345")
    with pytest.raises(TooManyRequests):
        service.login(email="ghost@acme.test", password="whatever12345")


def test_a_success_clears_earlier_failures(
    service: IdentityService, owner: Caller, failures: InMemoryLoginFailureStore
) -> None:
    for _ in range(2):
        for _ in range(4):
            with pytest.raises(Unauthorized):
                service.login(email="owner@acme.test", password=WRONG)
        service.login(email="owner@acme.test", password=PASSWORD)
        assert "owner@acme.test" not in failures.windows


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in(
    clock: SimulatedClock, store: InMemoryIdentityStore
) -> None:
    weak = Passwords(memory_kib=8, time_cost=1, parallelism=1)
    stronger = Passwords(memory_kib=16, time_cost=1, parallelism=1)
    in_memory_identity_service(clock, users=store, passwords=weak).register(
        email="pat@acme.test", password=PASSWORD, full_name="Pat", organization_name="Acme"
    )
    in_memory_identity_service(clock, users=store, passwords=stronger).login(
        email="pat@acme.test", password=PASSWORD
    )
    found = store.find_credentials("pat@acme.test")
    assert found is not None
    assert not stronger.needs_rehash(found[1])
    assert stronger.verify(found[1], PASSWORD)


# --- Refresh, reuse detection, logout -------------------------------------------------------


def _login(service: IdentityService, email: str = "owner@acme.test") -> TokenPair:
    return service.login(email=email, password=PASSWORD)


def test_refresh_rotates_the_pair(service: IdentityService, owner: Caller) -> None:
    first = _login(service)
    second = service.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert service.authenticate(f"Bearer {second.access_token}").user_id == owner.user_id
    service.refresh(second.refresh_token)


def test_reusing_a_rotated_refresh_token_revokes_the_whole_login(
    service: IdentityService, owner: Caller
) -> None:
    # Given a login whose first refresh token was rotated, and another login
    first = _login(service)
    rotated = service.refresh(first.refresh_token)
    other = _login(service)
    # When the rotated token comes back, it is refused
    with pytest.raises(Unauthorized):
        service.refresh(first.refresh_token)
    # Then every token of that login is dead: the newer refresh token and both access tokens
    with pytest.raises(Unauthorized):
        service.refresh(rotated.refresh_token)
    for token in (first.access_token, rotated.access_token):
        with pytest.raises(Unauthorized):
            service.authenticate(f"Bearer {token}")
    # And the other login lives on
    assert service.authenticate(f"Bearer {other.access_token}").user_id == owner.user_id


def test_losing_a_concurrent_rotation_counts_as_reuse(
    clock: SimulatedClock, store: InMemoryIdentityStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another request rotates the same token between our read and our rotation.
    sessions = InMemorySessionStore()
    rotate = sessions.rotate

    def raced_rotate(**call: Any) -> bool:
        rotate(**{**call, "new_hash": "winner"})
        return rotate(**call)

    monkeypatch.setattr(sessions, "rotate", raced_rotate)
    service = in_memory_identity_service(clock, users=store, sessions=sessions)
    _register(service)
    pair = _login(service)
    with pytest.raises(Unauthorized):
        service.refresh(pair.refresh_token)
    with pytest.raises(Unauthorized):  # the winner's login is revoked too
        service.authenticate(f"Bearer {pair.access_token}")


@pytest.mark.parametrize("token", ["", "garbage", "x" * 512])
def test_unknown_refresh_tokens_are_refused(service: IdentityService, token: str) -> None:
    with pytest.raises(Unauthorized):
        service.refresh(token)


def test_an_expired_refresh_token_is_refused(
    service: IdentityService, owner: Caller, clock: SimulatedClock
) -> None:
    pair = _login(service)
    clock.advance(timedelta(days=400))
    with pytest.raises(Unauthorized):
        service.refresh(pair.refresh_token)


def test_logout_ends_the_login(service: IdentityService, owner: Caller) -> None:
    pair = _login(service)
    caller = service.authenticate(f"Bearer {pair.access_token}")
    service.logout(caller, pair.refresh_token)
    with pytest.raises(Unauthorized):
        service.refresh(pair.refresh_token)
    with pytest.raises(Unauthorized):
        service.authenticate(f"Bearer {pair.access_token}")


def test_logging_out_with_someone_elses_refresh_token_changes_nothing(
    service: IdentityService, owner: Caller
) -> None:
    alice = _login(service)
    _register(service, "bob@b.test", "B Corp")
    bob_bearer = _bearer(service, "bob@b.test")
    service.logout(service.authenticate(bob_bearer), alice.refresh_token)
    service.refresh(alice.refresh_token)
    assert service.authenticate(bob_bearer).org_id != owner.org_id  # Bob's login stays too


@pytest.mark.parametrize("token", ["", "garbage", "x" * 86])
def test_logging_out_with_a_token_that_is_no_refresh_token_changes_nothing(
    service: IdentityService, owner: Caller, token: str
) -> None:
    pair = _login(service)
    bearer = f"Bearer {pair.access_token}"
    service.logout(service.authenticate(bearer), token)
    assert service.authenticate(bearer).user_id == owner.user_id
    service.refresh(pair.refresh_token)


def test_logging_out_with_ones_rotated_or_expired_token_changes_nothing(
    service: IdentityService, owner: Caller, clock: SimulatedClock
) -> None:
    first = _login(service)
    second = service.refresh(first.refresh_token)  # first is rotated now
    bearer = f"Bearer {second.access_token}"
    service.logout(service.authenticate(bearer), first.refresh_token)
    assert service.authenticate(bearer).user_id == owner.user_id
    third = service.refresh(second.refresh_token)  # the login goes on
    # An expired token of another login of the same user ends nothing either.
    old = _login(service)
    clock.advance(timedelta(days=31))
    fresh = _login(service)
    fresh_bearer = f"Bearer {fresh.access_token}"
    service.logout(service.authenticate(fresh_bearer), old.refresh_token)
    assert service.authenticate(fresh_bearer).user_id == owner.user_id
    assert third.refresh_token != second.refresh_token


def test_logging_out_with_the_token_of_another_of_ones_logins_ends_that_login_only(
    service: IdentityService, owner: Caller
) -> None:
    phone, laptop = _login(service), _login(service)
    laptop_bearer = f"Bearer {laptop.access_token}"
    service.logout(service.authenticate(laptop_bearer), phone.refresh_token)
    with pytest.raises(Unauthorized):
        service.refresh(phone.refresh_token)
    with pytest.raises(Unauthorized):
        service.authenticate(f"Bearer {phone.access_token}")
    assert service.authenticate(laptop_bearer).user_id == owner.user_id


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer not.a.jwt"])
def test_authenticate_needs_a_valid_bearer_token(
    service: IdentityService, header: str | None
) -> None:
    with pytest.raises(Unauthorized):
        service.authenticate(header)


# --- Authorization and the owner -------------------------------------------------------------


def test_members_cannot_change_settings_or_manage_users(
    service: IdentityService, owner: Caller
) -> None:
    _add(service, owner, "member@acme.test")
    member = _caller(service, "member@acme.test")
    assert service.get_organization(member).name == "Acme"
    with pytest.raises(Forbidden):
        service.update_organization(member, OrganizationChanges(name="Mine"))
    with pytest.raises(Forbidden):
        _add(service, member, "x@acme.test")
    with pytest.raises(Forbidden):
        service.update_user(member, owner.user_id, UserChanges(full_name="Y"))
    with pytest.raises(Forbidden):
        service.delete_user(member, owner.user_id)
    assert service.get_organization(owner).name == "Acme"


def test_admins_manage_users(service: IdentityService, owner: Caller) -> None:
    # Given an admin added by the owner, and a member added by the admin
    admin_user = _add(service, owner, "admin@acme.test", Role.ADMIN)
    assert admin_user.role is Role.ADMIN
    admin = _caller(service, "admin@acme.test")
    member = _add(service, admin, "Member@Acme.test")
    assert member.email == "member@acme.test"
    assert service.get_user(admin, member.id) == member
    # When the admin renames and promotes the member
    changed = service.update_user(
        admin, member.id, UserChanges(full_name="Renamed", role=Role.ADMIN)
    )
    # Then both changes hold
    assert (changed.full_name, changed.role) == ("Renamed", Role.ADMIN)
    assert service.get_user(owner, member.id) == changed
    # And a PATCH that changes nothing answers the user as they are
    assert service.update_user(admin, member.id, UserChanges()) == changed


def test_a_demotion_takes_effect_at_once(service: IdentityService, owner: Caller) -> None:
    # Given an admin signed in
    _add(service, owner, "admin@acme.test", Role.ADMIN)
    bearer = _bearer(service, "admin@acme.test")
    admin = service.authenticate(bearer)
    # When the owner demotes them
    service.update_user(owner, admin.user_id, UserChanges(role=Role.MEMBER))
    # Then the same access token now acts as a member
    demoted = service.authenticate(bearer)
    assert demoted.role is Role.MEMBER
    with pytest.raises(Forbidden):
        service.update_organization(demoted, OrganizationChanges(name="Mine"))


def test_the_owner_cannot_be_deleted_or_demoted(service: IdentityService, owner: Caller) -> None:
    _add(service, owner, "admin@acme.test", Role.ADMIN)
    admin = _caller(service, "admin@acme.test")
    with pytest.raises(Conflict):
        service.delete_user(admin, owner.user_id)
    with pytest.raises(Conflict):
        service.update_user(admin, owner.user_id, UserChanges(role=Role.MEMBER))
    with pytest.raises(Conflict):
        service.update_user(owner, owner.user_id, UserChanges(role=Role.ADMIN))
    # Renaming the owner, or "changing" them to owner, is no demotion
    renamed = service.update_user(admin, owner.user_id, UserChanges(full_name="Boss"))
    assert renamed.full_name == "Boss"
    service.update_user(owner, owner.user_id, UserChanges(role=Role.OWNER))
    assert service.me(owner).role is Role.OWNER


def test_a_deleted_user_is_gone_and_their_email_is_free(
    service: IdentityService, owner: Caller
) -> None:
    # Given a signed-in member
    member_user = _add(service, owner, "member@acme.test")
    bearer = _bearer(service, "member@acme.test")
    # When the owner deletes them
    service.delete_user(owner, member_user.id)
    # Then they are not found, their token and password stop working, and the email is free
    with pytest.raises(NotFound):
        service.get_user(owner, member_user.id)
    with pytest.raises(Unauthorized):
        service.authenticate(bearer)
    with pytest.raises(Unauthorized):
        service.login(email="member@acme.test", password=PASSWORD)
    _add(service, owner, "member@acme.test")


def test_user_emails_are_unique_across_the_product(
    service: IdentityService, owner: Caller, other: Caller
) -> None:
    with pytest.raises(Conflict):
        _add(service, other, "Owner@acme.test")


def test_another_organizations_users_are_not_found(service: IdentityService, owner: Caller) -> None:
    member = _add(service, owner, "member@acme.test")
    _register(service, "bob@b.test", "B Corp")
    bob = _caller(service, "bob@b.test")
    for user_id in (owner.user_id, member.id):
        with pytest.raises(NotFound):
            service.get_user(bob, user_id)
        with pytest.raises(NotFound):
            service.update_user(bob, user_id, UserChanges(full_name="Pwned", role=Role.ADMIN))
        with pytest.raises(NotFound):
            service.delete_user(bob, user_id)
    assert service.get_user(owner, member.id) == member
    assert [user.email for user in service.list_users(bob, limit=50, cursor=None).items] == [
        "bob@b.test"
    ]


def test_users_are_listed_oldest_first_in_pages(
    service: IdentityService, owner: Caller, clock: SimulatedClock
) -> None:
    for index in range(4):
        clock.advance(timedelta(seconds=1))
        _add(service, owner, f"user{index}@acme.test")
    seen: list[str] = []
    cursor = None
    while True:
        page = service.list_users(owner, limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen.extend(user.email for user in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["owner@acme.test"] + [f"user{i}@acme.test" for i in range(4)]
    with pytest.raises(BadRequest):
        service.list_users(owner, limit=2, cursor="abc.def")


# --- Organization settings and sender numbers --------------------------------------------------


def test_managers_change_the_organization_settings(
    service: IdentityService, owner: Caller, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(hours=1))
    updated = service.update_organization(
        owner,
        replace(builders.CHICAGO_SETTINGS, sender_number="+16175550123"),
    )
    assert updated.sender_number == "+16175550123"
    assert updated.timezone == "America/Chicago"
    assert (updated.quiet_hours_start, updated.quiet_hours_end) == ("09:00", "20:00")
    assert updated.opt_out_footer == ""
    assert updated.updated_at == START + timedelta(hours=1)
    assert service.get_organization(owner) == updated


def test_an_empty_change_writes_nothing(
    service: IdentityService, owner: Caller, clock: SimulatedClock
) -> None:
    before = service.get_organization(owner)
    clock.advance(timedelta(hours=1))
    assert service.update_organization(owner, OrganizationChanges()) == before
    assert service.get_organization(owner).updated_at == before.updated_at


def _set_sender(service: IdentityService, caller: Caller, number: str | None) -> str | None:
    changes = (
        OrganizationChanges(release_sender_number=True)
        if number is None
        else OrganizationChanges(sender_number=number)
    )
    return service.update_organization(caller, changes).sender_number


def test_a_sender_number_belongs_to_one_organization_until_released(
    service: IdentityService, owner: Caller, other: Caller, clock: SimulatedClock
) -> None:
    assert _set_sender(service, owner, "+16175550123") == "+16175550123"
    with pytest.raises(Conflict) as taken:
        _set_sender(service, other, "+16175550123")
    assert taken.value.extra == {"field": "sender_number"}
    # Releasing the number lets the other organization take it once the hold has ended
    # (issue 14 point 8: it used to be at once).
    assert _set_sender(service, owner, None) is None
    clock.advance(SENDER_NUMBER_HOLD)
    assert _set_sender(service, other, "+16175550123") == "+16175550123"


def test_switching_to_a_taken_number_fails_and_keeps_the_old_one_guarded(
    service: IdentityService, owner: Caller, other: Caller
) -> None:
    _set_sender(service, owner, "+16175550123")
    _set_sender(service, other, "+16175550124")
    with pytest.raises(Conflict):
        _set_sender(service, other, "+16175550123")
    assert service.get_organization(other).sender_number == "+16175550124"
    with pytest.raises(Conflict):
        _set_sender(service, owner, "+16175550124")


def test_changing_the_sender_number_frees_the_old_one(
    service: IdentityService, owner: Caller, other: Caller, clock: SimulatedClock
) -> None:
    _set_sender(service, owner, "+16175550123")
    _set_sender(service, owner, "+16175550124")
    clock.advance(SENDER_NUMBER_HOLD)  # issue 14 point 8: freed once the hold ends
    assert _set_sender(service, other, "+16175550123") == "+16175550123"


# --- Issue 15: fallback zones, the support line and the auto-replies' texts ---------------


def test_a_new_organization_has_the_default_fallback_zones_and_no_texts_of_its_own(
    service: IdentityService, owner: Caller
) -> None:
    organization = service.get_organization(owner)
    assert organization.fallback_time_zones == (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
    )
    assert organization.fallback_time_zones == DEFAULT_FALLBACK_TIME_ZONES
    assert organization.support_contact is None
    assert (organization.help_texts, organization.opt_out_confirmations) == ({}, {})


def test_managers_set_the_fallback_zones_support_line_and_texts(
    service: IdentityService, owner: Caller, clock: SimulatedClock
) -> None:
    admin = _caller_added(service, owner, "admin@acme.test", Role.ADMIN)
    clock.advance(timedelta(hours=1))
    updated = service.update_organization(
        admin,
        OrganizationChanges(
            fallback_time_zones=("America/Phoenix", "Pacific/Honolulu"),
            support_contact="call 555-0100",
            help_texts={"es": "Acme: llame al 555-0100."},
            opt_out_confirmations={"fr": "Acme : c'est noté."},
        ),
    )
    assert updated.fallback_time_zones == ("America/Phoenix", "Pacific/Honolulu")
    assert updated.support_contact == "call 555-0100"
    assert updated.help_texts == {"es": "Acme: llame al 555-0100."}
    assert updated.opt_out_confirmations == {"fr": "Acme : c'est noté."}
    assert updated.updated_at == START + timedelta(hours=1)
    assert service.get_organization(owner) == updated


def test_texts_per_language_merge_and_null_goes_back_to_the_default(
    service: IdentityService, owner: Caller
) -> None:
    service.update_organization(
        owner, OrganizationChanges(help_text="Acme: call us.", help_texts={"es": "Ayuda."})
    )
    # A language not named stays; one named with None goes back to the default.
    merged = service.update_organization(
        owner, OrganizationChanges(help_texts={"fr": "Aide.", "es": None})
    )
    assert merged.help_texts == {"en": "Acme: call us.", "fr": "Aide."}
    assert service.update_organization(
        owner, OrganizationChanges(help_texts={"en": None})
    ).help_texts == {"fr": "Aide."}
    confirmations = service.update_organization(
        owner, OrganizationChanges(opt_out_confirmations={"en": "Done.", "es": "Hecho."})
    )
    assert confirmations.opt_out_confirmations == {"en": "Done.", "es": "Hecho."}
    assert confirmations.help_texts == {"fr": "Aide."}  # the other texts are untouched
    assert service.update_organization(
        owner, OrganizationChanges(opt_out_confirmations={"en": None, "fr": None})
    ).opt_out_confirmations == {"es": "Hecho."}


def test_the_support_line_is_kept_until_cleared(service: IdentityService, owner: Caller) -> None:
    service.update_organization(owner, OrganizationChanges(support_contact="call 555-0100"))
    renamed = service.update_organization(owner, OrganizationChanges(name="Acme Repair"))
    assert renamed.support_contact == "call 555-0100"
    cleared = service.update_organization(owner, OrganizationChanges(clear_support_contact=True))
    assert cleared.support_contact is None
    assert service.get_organization(owner).support_contact is None


def test_members_cannot_change_the_issue_15_settings(
    service: IdentityService, owner: Caller
) -> None:
    member = _caller_added(service, owner, "member@acme.test")
    for changes in (
        OrganizationChanges(fallback_time_zones=("America/Chicago",)),
        OrganizationChanges(support_contact="call 555-0100"),
        OrganizationChanges(clear_support_contact=True),
        OrganizationChanges(help_texts={"es": "Ayuda."}),
        OrganizationChanges(opt_out_confirmations={"fr": "Noté."}),
    ):
        with pytest.raises(Forbidden):
            service.update_organization(member, changes)
    assert service.get_organization(owner) == service.get_organization(member)
    assert service.get_organization(owner).updated_at == START


def test_empty_text_objects_change_nothing(
    service: IdentityService, owner: Caller, clock: SimulatedClock
) -> None:
    before = service.get_organization(owner)
    clock.advance(timedelta(hours=1))
    empty = OrganizationChanges(help_texts={}, opt_out_confirmations={})
    assert empty.is_empty
    assert service.update_organization(owner, empty) == before
    assert service.get_organization(owner).updated_at == START


@pytest.mark.parametrize(
    "fields",
    [
        {"support_contact": "call 555-0100", "clear_support_contact": True},
        {"help_text": "Call us.", "help_texts": {"en": "Call us."}},
        {"help_text": "Call us.", "help_texts": {"en": None}},
    ],
)
def test_contradictory_changes_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="both"):
        OrganizationChanges(**fields)


def _caller_added(
    service: IdentityService, by: Caller, email: str, role: Role = Role.MEMBER
) -> Caller:
    _add(service, by, email, role)
    return _caller(service, email)
