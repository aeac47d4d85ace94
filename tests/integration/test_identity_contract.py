"""The identity fakes and the DynamoDB repositories answer the same calls the same way.

Every fixture runs once on ``tests/support/fakes/identity.py`` and once on the
real repository over moto, so a rule tested with the fakes holds on DynamoDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.errors import BadRequest, Conflict, NotFound
from outreach.identity import domain
from outreach.identity.ports import IdentityStore, LoginFailureStore, SessionStore
from outreach.identity.repository import (
    IdentityRepository,
    LoginFailureRepository,
    SessionRepository,
)
from outreach.ids import new_id
from tests.support import builders
from tests.support.contract import IMPLEMENTATIONS, use_dynamodb, walk_pages
from tests.support.fakes.identity import (
    InMemoryIdentityStore,
    InMemoryLoginFailureStore,
    InMemorySessionStore,
)

NOW = datetime(2026, 3, 2, 15, 0, 0, 123000, tzinfo=UTC)
WHOLE_SECOND = NOW.replace(microsecond=0)  # expiries are TTL attributes: whole seconds
LATER = NOW + timedelta(minutes=5)


@pytest.fixture(params=IMPLEMENTATIONS)
def store(request: pytest.FixtureRequest) -> Iterator[IdentityStore]:
    yield IdentityRepository() if use_dynamodb(request) else InMemoryIdentityStore()


@pytest.fixture(params=IMPLEMENTATIONS)
def sessions(request: pytest.FixtureRequest) -> Iterator[SessionStore]:
    yield SessionRepository() if use_dynamodb(request) else InMemorySessionStore()


@pytest.fixture(params=IMPLEMENTATIONS)
def failures(request: pytest.FixtureRequest) -> Iterator[LoginFailureStore]:
    yield LoginFailureRepository() if use_dynamodb(request) else InMemoryLoginFailureStore()


def _user(
    org: domain.Organization, email: str, role: domain.Role = domain.Role.MEMBER, at: datetime = NOW
) -> domain.User:
    return domain.User(
        id=new_id(at),
        org_id=org.id,
        email=email,
        full_name="Pat Doe",
        role=role,
        created_at=at,
        updated_at=at,
    )


def _tenant(
    store: IdentityStore, email: str, name: str = "Acme"
) -> tuple[domain.Organization, domain.User]:
    organization = builders.organization(name, at=NOW)
    owner = _user(organization, email, domain.Role.OWNER)
    store.create_organization_with_owner(organization, owner, "hash-of-" + email)
    return organization, owner


# --- IdentityStore: organizations and users ----------------------------------------------


def test_an_organization_and_its_owner_read_back(store: IdentityStore) -> None:
    organization, owner = _tenant(store, "owner@acme.test")
    assert store.get_organization(organization.id) == organization
    assert store.get_user(organization.id, owner.id) == owner
    assert store.find_credentials("owner@acme.test") == (owner, "hash-of-owner@acme.test")


def test_unknown_organizations_users_and_emails(store: IdentityStore) -> None:
    organization, _ = _tenant(store, "owner@acme.test")
    with pytest.raises(NotFound):
        store.get_organization(new_id(NOW))
    with pytest.raises(NotFound):
        store.get_user(organization.id, new_id(NOW))
    with pytest.raises(NotFound):
        store.get_user(organization.id, "not-a-ulid")
    assert store.find_credentials("nobody@acme.test") is None


def test_a_user_is_found_only_in_their_own_organization(store: IdentityStore) -> None:
    _, alice = _tenant(store, "alice@a.test", "A Corp")
    other, _ = _tenant(store, "bob@b.test", "B Corp")
    with pytest.raises(NotFound):
        store.get_user(other.id, alice.id)
    with pytest.raises(NotFound):
        store.update_user(other.id, alice.id, full_name="Pwned", role=None, now=LATER)


def test_emails_are_unique_across_the_product(store: IdentityStore) -> None:
    organization, _ = _tenant(store, "owner@acme.test")
    other = builders.organization("Other Co", at=NOW)
    with pytest.raises(Conflict):
        store.create_organization_with_owner(
            other, _user(other, "owner@acme.test", domain.Role.OWNER), "hash"
        )
    with pytest.raises(NotFound):  # nothing of the refused registration was written
        store.get_organization(other.id)
    with pytest.raises(Conflict):
        store.create_user(_user(organization, "owner@acme.test"), "hash")


def test_a_deleted_user_frees_their_email(store: IdentityStore) -> None:
    organization, _ = _tenant(store, "owner@acme.test")
    member = _user(organization, "member@acme.test")
    store.create_user(member, "hash")
    store.delete_user(member)
    with pytest.raises(NotFound):
        store.get_user(organization.id, member.id)
    assert store.find_credentials("member@acme.test") is None
    with pytest.raises(NotFound):
        store.delete_user(member)
    again = _user(organization, "member@acme.test")
    store.create_user(again, "hash-2")
    assert store.find_credentials("member@acme.test") == (again, "hash-2")


def test_update_password_hash(store: IdentityStore) -> None:
    _, owner = _tenant(store, "owner@acme.test")
    store.update_password_hash(owner.org_id, owner.id, "stronger-hash")
    assert store.find_credentials("owner@acme.test") == (owner, "stronger-hash")


def test_update_user_sets_what_is_given(store: IdentityStore) -> None:
    organization, owner = _tenant(store, "owner@acme.test")
    member = _user(organization, "member@acme.test")
    store.create_user(member, "hash")
    renamed = store.update_user(organization.id, member.id, full_name="Sam", role=None, now=LATER)
    assert renamed == domain.User(
        member.id, organization.id, member.email, "Sam", domain.Role.MEMBER, NOW, LATER
    )
    promoted = store.update_user(
        organization.id, member.id, full_name=None, role=domain.Role.ADMIN, now=LATER
    )
    assert (promoted.full_name, promoted.role) == ("Sam", domain.Role.ADMIN)
    assert store.get_user(organization.id, member.id) == promoted
    with pytest.raises(NotFound):
        store.update_user(organization.id, new_id(NOW), full_name="X", role=None, now=LATER)
    assert store.get_user(organization.id, owner.id) == owner


def test_users_page_oldest_first_with_sealed_cursors(store: IdentityStore) -> None:
    organization, owner = _tenant(store, "owner@acme.test")
    users = [owner]
    for index in range(4):
        user = _user(organization, f"user{index}@acme.test", at=NOW + timedelta(seconds=index + 1))
        store.create_user(user, "hash")
        users.append(user)
    _tenant(store, "else@other.test", "Other Co")  # never in Acme's pages
    seen, pages = walk_pages(
        lambda cursor: store.list_users(organization.id, limit=2, cursor=cursor),
        limit=2,
        total=len(users),
    )
    assert seen == users
    assert pages >= 3


def test_a_users_cursor_is_bound_to_its_organization_and_sealed(store: IdentityStore) -> None:
    organization, _ = _tenant(store, "owner@acme.test")
    store.create_user(_user(organization, "member@acme.test"), "hash")
    other, _ = _tenant(store, "bob@b.test", "B Corp")
    cursor = store.list_users(organization.id, limit=1, cursor=None).next_cursor
    assert cursor is not None
    with pytest.raises(BadRequest):
        store.list_users(other.id, limit=1, cursor=cursor)
    with pytest.raises(BadRequest):
        store.list_users(organization.id, limit=1, cursor="abc.def")


def test_update_organization_applies_the_changes(store: IdentityStore) -> None:
    organization, _ = _tenant(store, "owner@acme.test")
    changes = builders.CHICAGO_SETTINGS
    updated = store.update_organization(organization.id, changes, now=LATER, old_sender=None)
    expected = domain.Organization(
        id=organization.id,
        name="Acme Repair",
        timezone="America/Chicago",
        sender_number=None,
        messages_per_second=5,
        quiet_hours_start="09:00",
        quiet_hours_end="20:00",
        help_texts={"en": "Call us."},
        opt_out_footer="",
        created_at=NOW,
        updated_at=LATER,
    )
    assert updated == expected
    assert store.get_organization(organization.id) == expected


def test_the_issue_15_settings_are_stored_merged_and_reset(store: IdentityStore) -> None:
    organization, _ = _tenant(store, "owner@acme.test")
    assert store.get_organization(organization.id).fallback_time_zones == (
        domain.DEFAULT_FALLBACK_TIME_ZONES
    )
    changes = domain.OrganizationChanges(
        fallback_time_zones=("America/Phoenix", "Pacific/Honolulu"),
        support_contact="call 555-0100",
        help_text="Call us.",
        help_texts={"es": "Llámenos."},
        opt_out_confirmations={"fr": "C'est noté."},
    )
    updated = store.update_organization(organization.id, changes, now=LATER, old_sender=None)
    expected = replace(
        organization,
        fallback_time_zones=("America/Phoenix", "Pacific/Honolulu"),
        support_contact="call 555-0100",
        help_texts={"en": "Call us.", "es": "Llámenos."},
        opt_out_confirmations={"fr": "C'est noté."},
        updated_at=LATER,
    )
    assert updated == expected
    assert store.get_organization(organization.id) == expected
    # Languages not named stay; None takes one back to the default; the line is cleared.
    reset = domain.OrganizationChanges(
        clear_support_contact=True,
        help_texts={"en": None, "fr": "Appelez-nous."},
        opt_out_confirmations={"fr": None},
    )
    after = store.update_organization(organization.id, reset, now=LATER, old_sender=None)
    assert after == replace(
        expected,
        support_contact=None,
        help_texts={"es": "Llámenos.", "fr": "Appelez-nous."},
        opt_out_confirmations={},
    )
    assert store.get_organization(organization.id) == after


def test_sender_numbers_are_claimed_once_and_freed_on_change_or_release(
    store: IdentityStore,
) -> None:
    # Issue 14 point 8 changed "freed" to "freed once its 30-day hold has ended".
    acme, _ = _tenant(store, "owner@acme.test")
    other, _ = _tenant(store, "boss@other.test", "Other Co")
    claim = domain.OrganizationChanges(sender_number="+16175550123")
    assert (
        store.update_organization(acme.id, claim, now=LATER, old_sender=None).sender_number
        == "+16175550123"
    )
    store.update_organization(
        other.id,
        domain.OrganizationChanges(sender_number="+16175550124"),
        now=LATER,
        old_sender=None,
    )
    with pytest.raises(Conflict) as taken:
        store.update_organization(other.id, claim, now=LATER, old_sender="+16175550124")
    assert taken.value.extra == {"field": "sender_number"}
    assert store.get_organization(other.id).sender_number == "+16175550124"
    # Switching frees the old number once its hold ends; releasing frees the new one.
    store.update_organization(
        acme.id,
        domain.OrganizationChanges(sender_number="+16175550125"),
        now=LATER,
        old_sender="+16175550123",
    )
    after_hold = LATER + domain.SENDER_NUMBER_HOLD
    store.update_organization(other.id, claim, now=after_hold, old_sender="+16175550124")
    released = store.update_organization(
        acme.id,
        domain.OrganizationChanges(release_sender_number=True),
        now=after_hold,
        old_sender="+16175550125",
    )
    assert released.sender_number is None
    store.update_organization(
        other.id,
        domain.OrganizationChanges(sender_number="+16175550125"),
        now=after_hold + domain.SENDER_NUMBER_HOLD,
        old_sender="+16175550123",
    )
    # The number other gave up is free again for acme.
    store.update_organization(
        acme.id, claim, now=after_hold + 2 * domain.SENDER_NUMBER_HOLD, old_sender=None
    )
    assert store.get_organization(acme.id).sender_number == "+16175550123"


def test_a_released_number_is_held_for_its_organization_for_30_days(
    store: IdentityStore,
) -> None:
    acme, _ = _tenant(store, "owner@acme.test")
    other, _ = _tenant(store, "boss@other.test", "Other Co")
    number = "+16175550123"
    claim = domain.OrganizationChanges(sender_number=number)
    release = domain.OrganizationChanges(release_sender_number=True)
    store.update_organization(acme.id, claim, now=NOW, old_sender=None)
    store.update_organization(acme.id, release, now=NOW, old_sender=number)
    held_until = "2026-04-01T15:00:00.123Z"  # NOW + 30 days
    # Another organization is refused until the hold ends, told until when.
    for at in (NOW, NOW + domain.SENDER_NUMBER_HOLD - timedelta(milliseconds=1)):
        with pytest.raises(Conflict) as held:
            store.update_organization(other.id, claim, now=at, old_sender=None)
        assert held.value.extra == {"field": "sender_number", "available_at": held_until}
        assert held_until in held.value.detail
    assert store.get_organization(other.id).sender_number is None
    # The organization that released it takes it back at once, and releases it again.
    assert store.update_organization(acme.id, claim, now=LATER, old_sender=None).sender_number
    store.update_organization(acme.id, release, now=LATER, old_sender=number)
    # The hold restarts from the last release: still refused 30 days after the first.
    with pytest.raises(Conflict):
        store.update_organization(
            other.id, claim, now=NOW + domain.SENDER_NUMBER_HOLD, old_sender=None
        )
    # A second after it ends, anyone may claim it; then it is held outright again.
    after = LATER + domain.SENDER_NUMBER_HOLD + timedelta(seconds=1)
    assert store.update_organization(other.id, claim, now=after, old_sender=None).sender_number
    with pytest.raises(Conflict) as taken:
        store.update_organization(acme.id, claim, now=after, old_sender=None)
    assert taken.value.extra == {"field": "sender_number"}


def test_a_change_made_on_a_stale_sender_number_is_refused(store: IdentityStore) -> None:
    acme, _ = _tenant(store, "owner@acme.test")
    store.update_organization(
        acme.id, domain.OrganizationChanges(sender_number="+16175550123"), now=NOW, old_sender=None
    )
    # A second change read the organization before the first: it would release nothing
    # and leave +16175550123 claimed but unused.
    for changes in (
        domain.OrganizationChanges(sender_number="+16175550124"),
        domain.OrganizationChanges(name="Renamed"),
    ):
        with pytest.raises(Conflict) as stale:
            store.update_organization(acme.id, changes, now=LATER, old_sender=None)
        assert stale.value.extra == {"field": "sender_number"}
    assert store.get_organization(acme.id).sender_number == "+16175550123"
    assert store.get_organization(acme.id).name == "Acme"
    with pytest.raises(NotFound):
        store.update_organization(
            new_id(NOW), domain.OrganizationChanges(name="x"), now=LATER, old_sender=None
        )


# --- SessionStore ------------------------------------------------------------------------


def _start(sessions: SessionStore) -> str:
    family_id = new_id(NOW)
    sessions.start(
        token_hash="hash-1",
        record=domain.RefreshRecord(
            "org-1", "user-1", family_id, domain.SessionState.ACTIVE, NOW + timedelta(days=1)
        ),
        now=NOW,
    )
    return family_id


def test_a_started_login_is_active_until_it_expires(sessions: SessionStore) -> None:
    family_id = _start(sessions)
    assert sessions.refresh_record("hash-1") == domain.RefreshRecord(
        "org-1", "user-1", family_id, domain.SessionState.ACTIVE, WHOLE_SECOND + timedelta(days=1)
    )
    assert sessions.family_is_active(family_id, now=NOW)
    assert not sessions.family_is_active(family_id, now=NOW + timedelta(days=1))
    assert not sessions.family_is_active(new_id(NOW), now=NOW)
    assert sessions.refresh_record("unknown") is None


def test_rotation_retires_the_old_token_once(sessions: SessionStore) -> None:
    family_id = _start(sessions)
    record = sessions.refresh_record("hash-1")
    assert record is not None
    extended = NOW + timedelta(days=2)
    assert sessions.rotate(
        old_hash="hash-1", new_hash="hash-2", record=replace(record, expires_at=extended), now=LATER
    )
    old = sessions.refresh_record("hash-1")
    assert old is not None
    assert old.state is domain.SessionState.ROTATED
    assert sessions.refresh_record("hash-2") == domain.RefreshRecord(
        "org-1", "user-1", family_id, domain.SessionState.ACTIVE, WHOLE_SECOND + timedelta(days=2)
    )
    assert sessions.family_is_active(family_id, now=NOW + timedelta(days=1, hours=1))
    # The same token cannot be rotated twice (a concurrent use lost the race).
    assert not sessions.rotate(
        old_hash="hash-1", new_hash="hash-3", record=replace(record, expires_at=extended), now=LATER
    )
    assert sessions.refresh_record("hash-3") is None


def test_a_revoked_login_is_inactive_and_cannot_rotate(sessions: SessionStore) -> None:
    family_id = _start(sessions)
    record = sessions.refresh_record("hash-1")
    assert record is not None
    sessions.revoke_family(family_id)
    assert not sessions.family_is_active(family_id, now=NOW)
    assert not sessions.rotate(
        old_hash="hash-1", new_hash="hash-2", record=replace(record, expires_at=LATER), now=LATER
    )
    assert sessions.refresh_record("hash-2") is None
    sessions.revoke_family(new_id(NOW))  # unknown: a no-op


# --- LoginFailureStore ----------------------------------------------------------------------


def test_attempts_count_in_a_fixed_window(failures: LoginFailureStore) -> None:
    window = timedelta(minutes=15)
    counted = [
        failures.count_attempt("pat@acme.test", now=NOW + timedelta(minutes=minute), window=window)
        for minute in range(3)
    ]
    assert counted == [domain.AttemptWindow(n, WHOLE_SECOND + window) for n in (1, 2, 3)]
    assert failures.count_attempt("other@acme.test", now=LATER, window=window) == (
        domain.AttemptWindow(1, WHOLE_SECOND + timedelta(minutes=5) + window)
    )
    # At the window's end it is gone; the next attempt starts a new one.
    assert failures.count_attempt(
        "pat@acme.test", now=WHOLE_SECOND + window, window=window
    ) == domain.AttemptWindow(1, WHOLE_SECOND + 2 * window)


def test_clearing_forgets_the_attempts(failures: LoginFailureStore) -> None:
    window = timedelta(minutes=15)
    failures.count_attempt("pat@acme.test", now=NOW, window=window)
    failures.clear("pat@acme.test")
    assert failures.count_attempt("pat@acme.test", now=LATER, window=window) == (
        domain.AttemptWindow(1, WHOLE_SECOND + timedelta(minutes=5) + window)
    )
    failures.clear("nobody@acme.test")  # nothing to forget: a no-op
