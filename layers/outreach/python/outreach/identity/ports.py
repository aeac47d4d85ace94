"""What the identity service needs from storage, as small Protocols.

The DynamoDB implementations are in :mod:`outreach.identity.repository`; the
in-memory ones the unit tests use are in ``tests/support/fakes/identity.py``, and
``tests/integration/test_identity_contract.py`` holds both to the same behaviour.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from outreach.data.pages import Page
from outreach.identity.domain import (
    AttemptWindow,
    Caller,
    Organization,
    OrganizationChanges,
    RefreshRecord,
    Role,
    User,
)


class OrganizationReader(Protocol):
    """Reading an organization's settings: what the campaign, inbound and sending
    services need of identity."""

    def get_organization(self, org_id: str) -> Organization:
        """The organization ``org_id``; :class:`~outreach.errors.NotFound` if there is none."""
        ...


class IdentityStore(OrganizationReader, Protocol):
    """Organizations, their users, and the product-wide email and sender-number guards.

    Emails are stored as given (the service lowercases them) and are unique across
    the product; a sender number belongs to at most one organization.
    """

    def create_organization_with_owner(
        self, organization: Organization, owner: User, password_hash: str
    ) -> None:
        """Create both at once, or neither; :class:`~outreach.errors.Conflict` if the
        owner's email is taken."""
        ...

    def update_organization(
        self, org_id: str, changes: OrganizationChanges, *, now: datetime, old_sender: str | None
    ) -> Organization:
        """Apply ``changes`` (``updated_at`` becomes ``now``) and answer the result.

        A new sender number is claimed and ``old_sender`` released at once, all or
        nothing. A released number stays with this organization for
        :data:`~outreach.identity.domain.SENDER_NUMBER_HOLD` after ``now`` (inbound
        routing still finds it; this organization may take it back at once).
        :class:`~outreach.errors.Conflict` with ``extra={"field": "sender_number"}``
        if another organization holds the number, plus ``"available_at"`` (ISO
        instant) if that organization released it and its hold has not ended; also a
        :class:`~outreach.errors.Conflict` if the organization's sender number is no
        longer ``old_sender`` (a concurrent change). :class:`~outreach.errors.NotFound`
        if the organization is gone.
        """
        ...

    def create_user(self, user: User, password_hash: str) -> None:
        """Create ``user``; :class:`~outreach.errors.Conflict` if the email is taken anywhere."""
        ...

    def get_user(self, org_id: str, user_id: str) -> User:
        """The user ``user_id`` of ``org_id``; :class:`~outreach.errors.NotFound` otherwise
        (also for a user of another organization, or an id that is not a ULID)."""
        ...

    def find_credentials(self, email: str) -> tuple[User, str] | None:
        """The user who signs in with ``email`` and their password hash, or ``None``."""
        ...

    def update_password_hash(self, org_id: str, user_id: str, password_hash: str) -> None:
        """Replace the user's password hash (a rehash with today's parameters)."""
        ...

    def list_users(self, org_id: str, *, limit: int, cursor: str | None) -> Page[User]:
        """At most ``limit`` of the organization's users, oldest first, after ``cursor``
        (sealed for ``org_id`` and the "users" listing; otherwise
        :class:`~outreach.errors.BadRequest`)."""
        ...

    def update_user(
        self, org_id: str, user_id: str, *, full_name: str | None, role: Role | None, now: datetime
    ) -> User:
        """Set the fields that are not ``None`` and ``updated_at``; answer the user;
        :class:`~outreach.errors.NotFound` if there is no such user."""
        ...

    def delete_user(self, user: User) -> None:
        """Delete the user and free their email; :class:`~outreach.errors.NotFound` if gone."""
        ...


class ApiKeyAuthenticator(Protocol):
    """Who an API key presented as a bearer token stands for
    (:class:`outreach.api_keys.service.ApiKeyService`)."""

    def authenticate(self, token: str) -> Caller:
        """The key's caller, or :class:`~outreach.errors.Unauthorized`."""
        ...


class SessionStore(Protocol):
    """Logins ("families") and their refresh tokens, known only by the tokens' hashes."""

    def start(self, *, token_hash: str, record: RefreshRecord, now: datetime) -> None:
        """Record a new login (``record.family_id``) and its first refresh token ``token_hash``,
        both as ``record`` says (active, until ``record.expires_at``)."""
        ...

    def refresh_record(self, token_hash: str) -> RefreshRecord | None:
        """The refresh token's record, as last written (strongly consistent), or ``None``."""
        ...

    def family_is_active(self, family_id: str, *, now: datetime) -> bool:
        """Whether the login exists, is still active and has not expired at ``now``."""
        ...

    def rotate(self, *, old_hash: str, new_hash: str, record: RefreshRecord, now: datetime) -> bool:
        """Mark ``old_hash`` rotated, extend the login to ``record.expires_at`` and add
        ``new_hash`` with ``record`` (the new token's: the login's ids, active), all at once;
        ``False`` (and no change) unless both the old token and the login were still active."""
        ...

    def revoke_family(self, family_id: str) -> None:
        """End the login (a no-op for an unknown one): its tokens stop working."""
        ...


class LoginFailureStore(Protocol):
    """Sign-in attempts counted per email in fixed windows (the policy is
    :class:`~outreach.identity.domain.LoginThrottlePolicy`)."""

    def count_attempt(self, email: str, *, now: datetime, window: timedelta) -> AttemptWindow:
        """Count one attempt atomically and answer the window with its number in it.

        With no window open at ``now`` for ``email``, start one of ``window`` (its end in
        whole seconds, a TTL attribute) and answer 1; otherwise add 1 to the open one.
        Concurrent calls get distinct numbers.
        """
        ...

    def clear(self, email: str) -> None:
        """Forget the email's attempts (after a successful sign-in)."""
        ...
