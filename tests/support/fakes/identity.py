"""In-memory fakes of the identity ports (:mod:`outreach.identity.ports`).

They keep what the identity rules depend on: product-wide unique emails (keyed
exactly as given, as the repository does: the service lowercases) and sender
numbers (a released one held for its organization for ``SENDER_NUMBER_HOLD``),
users scoped to their organization, oldest-first pages with sealed cursors,
refresh-token rotation that fails unless both token and login are active,
revocation, attempt counting in fixed windows, and expiries kept in whole seconds
(DynamoDB TTL attributes).
``tests/integration/test_identity_contract.py`` runs the same calls on these and
on the DynamoDB repositories.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from outreach.api_keys.service import ApiKeyService
from outreach.clock import Clock
from outreach.config import get_settings
from outreach.data.pages import Page, decode_cursor, encode_cursor
from outreach.errors import Conflict, NotFound
from outreach.identity import domain
from outreach.identity.passwords import Passwords
from outreach.identity.repository import USERS_LISTING, sender_taken
from outreach.identity.service import IdentityService
from outreach.identity.tokens import AccessTokens
from outreach.ids import is_id
from outreach.secrets import get_signing_key
from tests.support.fakes.api_keys import InMemoryApiKeyStore

EMAIL_TAKEN = "An account with this email already exists."


@dataclass(frozen=True)
class SenderGuard:
    """A sender number's guard: the organization it routes to, and when it was
    released, the instant from which another organization may claim it."""

    org_id: str
    available_at: datetime | None = None

    def claimable_by(self, org_id: str, *, now: datetime) -> bool:
        """What the repository's conditional put allows: a hold that has ended, or the
        organization's own released number."""
        if self.available_at is None:
            return False
        return self.org_id == org_id or self.available_at <= now


def _ttl(instant: datetime) -> datetime:
    """An expiry as a DynamoDB TTL attribute keeps it: whole epoch seconds."""
    return instant.replace(microsecond=0)


class InMemoryIdentityStore:
    """Organizations, users and the email and sender-number guards, in dicts."""

    def __init__(self) -> None:
        self.organizations: dict[str, domain.Organization] = {}
        # (org_id, user_id) -> the user and their password hash
        self.users: dict[tuple[str, str], tuple[domain.User, str]] = {}
        self.emails: dict[str, tuple[str, str]] = {}  # email -> (org_id, user_id)
        self.senders: dict[str, SenderGuard] = {}  # sender number -> who holds it

    def create_organization_with_owner(
        self, organization: domain.Organization, owner: domain.User, password_hash: str
    ) -> None:
        if owner.email in self.emails:
            raise Conflict(EMAIL_TAKEN)
        if organization.id in self.organizations:
            raise AssertionError(f"organization {organization.id} already exists")
        self.organizations[organization.id] = organization
        self._add_user(owner, password_hash)

    def get_organization(self, org_id: str) -> domain.Organization:
        try:
            return self.organizations[org_id]
        except KeyError:
            raise NotFound("Organization not found.") from None

    def update_organization(
        self,
        org_id: str,
        changes: domain.OrganizationChanges,
        *,
        now: datetime,
        old_sender: str | None,
    ) -> domain.Organization:
        current = self.get_organization(org_id)
        if current.sender_number != old_sender:
            raise Conflict(
                "The organization's sender number changed while this change was made; "
                "read it again and retry.",
                extra={"field": "sender_number"},
            )
        updated = changes.applied_to(current, now=now)
        new_sender = changes.sender_after(old_sender)
        if new_sender != old_sender:
            guard = self.senders.get(new_sender) if new_sender is not None else None
            if guard is not None and not guard.claimable_by(org_id, now=now):
                held = guard.available_at
                raise sender_taken(held if held is not None and held > now else None)
            if old_sender is not None:
                # Released, not forgotten: inbound texts still reach this organization.
                self.senders[old_sender] = SenderGuard(org_id, now + domain.SENDER_NUMBER_HOLD)
            if new_sender is not None:
                self.senders[new_sender] = SenderGuard(org_id)
        self.organizations[org_id] = updated
        return updated

    def create_user(self, user: domain.User, password_hash: str) -> None:
        if user.email in self.emails:
            raise Conflict(EMAIL_TAKEN)
        self._add_user(user, password_hash)

    def get_user(self, org_id: str, user_id: str) -> domain.User:
        found = self.users.get((org_id, user_id)) if is_id(user_id) else None
        if found is None:
            raise NotFound("User not found.")
        return found[0]

    def find_credentials(self, email: str) -> tuple[domain.User, str] | None:
        guard = self.emails.get(email)
        return self.users.get(guard) if guard is not None else None

    def update_password_hash(self, org_id: str, user_id: str, password_hash: str) -> None:
        user, _ = self.users[(org_id, user_id)]  # the repository's update is conditional too
        self.users[(org_id, user_id)] = (user, password_hash)

    def list_users(self, org_id: str, *, limit: int, cursor: str | None) -> Page[domain.User]:
        start = decode_cursor(cursor, org_id=org_id, listing=USERS_LISTING)
        after = start["user_id"]["S"] if start else ""
        ids = sorted(user_id for org, user_id in self.users if org == org_id and user_id > after)
        chosen = ids[:limit]
        last_key = (
            {"org_id": {"S": org_id}, "user_id": {"S": chosen[-1]}} if len(ids) > limit else None
        )
        return Page(
            [self.users[(org_id, user_id)][0] for user_id in chosen],
            encode_cursor(last_key, org_id=org_id, listing=USERS_LISTING),
        )

    def update_user(
        self,
        org_id: str,
        user_id: str,
        *,
        full_name: str | None,
        role: domain.Role | None,
        now: datetime,
    ) -> domain.User:
        user, password_hash = self.users.get((org_id, user_id)) or (None, "")
        if user is None:
            raise NotFound("User not found.")
        updated = replace(
            user,
            full_name=user.full_name if full_name is None else full_name,
            role=user.role if role is None else role,
            updated_at=now,
        )
        self.users[(org_id, user_id)] = (updated, password_hash)
        return updated

    def delete_user(self, user: domain.User) -> None:
        if (user.org_id, user.id) not in self.users or self.emails.get(user.email) != (
            user.org_id,
            user.id,
        ):
            raise NotFound("User not found.")
        del self.users[(user.org_id, user.id)]
        del self.emails[user.email]

    def _add_user(self, user: domain.User, password_hash: str) -> None:
        self.users[(user.org_id, user.id)] = (user, password_hash)
        self.emails[user.email] = (user.org_id, user.id)


@dataclass
class _Session:
    org_id: str
    user_id: str
    family_id: str
    state: domain.SessionState
    expires_at: datetime


def _session(record: domain.RefreshRecord) -> _Session:
    """A login or refresh token as stored: ``record``'s fields, the expiry as a TTL."""
    return _Session(
        record.org_id, record.user_id, record.family_id, record.state, _ttl(record.expires_at)
    )


class InMemorySessionStore:
    """Logins ("families") and refresh tokens by hash, as the sessions table holds them."""

    def __init__(self) -> None:
        self.families: dict[str, _Session] = {}
        self.tokens: dict[str, _Session] = {}

    def start(self, *, token_hash: str, record: domain.RefreshRecord, now: datetime) -> None:
        if record.family_id in self.families or token_hash in self.tokens:
            raise AssertionError("a login or refresh token was started twice")
        for table, key in ((self.families, record.family_id), (self.tokens, token_hash)):
            table[key] = _session(record)

    def refresh_record(self, token_hash: str) -> domain.RefreshRecord | None:
        found = self.tokens.get(token_hash)
        if found is None:
            return None
        return domain.RefreshRecord(
            found.org_id, found.user_id, found.family_id, found.state, found.expires_at
        )

    def family_is_active(self, family_id: str, *, now: datetime) -> bool:
        family = self.families.get(family_id)
        return (
            family is not None
            and family.state is domain.SessionState.ACTIVE
            and family.expires_at > now
        )

    def rotate(
        self, *, old_hash: str, new_hash: str, record: domain.RefreshRecord, now: datetime
    ) -> bool:
        old = self.tokens.get(old_hash)
        family = self.families.get(record.family_id)
        if (
            old is None
            or old.state is not domain.SessionState.ACTIVE
            or family is None
            or family.state is not domain.SessionState.ACTIVE
            or new_hash in self.tokens
        ):
            return False
        old.state = domain.SessionState.ROTATED
        family.expires_at = _ttl(record.expires_at)
        self.tokens[new_hash] = _session(record)
        return True

    def revoke_family(self, family_id: str) -> None:
        family = self.families.get(family_id)
        if family is not None:
            family.state = domain.SessionState.REVOKED


class InMemoryLoginFailureStore:
    """Sign-in attempts per email in fixed windows."""

    def __init__(self) -> None:
        self.windows: dict[str, domain.AttemptWindow] = {}

    def count_attempt(
        self, email: str, *, now: datetime, window: timedelta
    ) -> domain.AttemptWindow:
        current = self.windows.get(email)
        counted = (
            replace(current, attempts=current.attempts + 1)
            if current is not None and current.ends_at > now
            else domain.AttemptWindow(attempts=1, ends_at=_ttl(now + window))
        )
        self.windows[email] = counted
        return counted

    def clear(self, email: str) -> None:
        self.windows.pop(email, None)


def fast_passwords() -> Passwords:
    """argon2id at its smallest cost (8 KiB, one pass): the same code path as production's
    :class:`Passwords` in a fraction of the time. Tests only."""
    return Passwords(memory_kib=8, time_cost=1, parallelism=1)


class CountingPasswords(Passwords):
    """:func:`fast_passwords` that counts its verifications (thread-safe) and, to let
    concurrent sign-ins overlap as production's ~50 ms argon2id does, can take
    ``delay`` seconds more per verification. Tests only."""

    def __init__(self, *, delay: float = 0.0) -> None:
        super().__init__(memory_kib=8, time_cost=1, parallelism=1)
        self.verifications = 0
        self._delay = delay
        self._lock = threading.Lock()

    def verify(self, stored_hash: str | None, password: str) -> bool:
        with self._lock:
            self.verifications += 1
        if self._delay:
            time.sleep(self._delay)
        return super().verify(stored_hash, password)


def in_memory_identity_service(
    clock: Clock,
    *,
    users: InMemoryIdentityStore | None = None,
    sessions: InMemorySessionStore | None = None,
    login_failures: InMemoryLoginFailureStore | None = None,
    passwords: Passwords | None = None,
    api_keys: InMemoryApiKeyStore | None = None,
) -> IdentityService:
    """An :class:`IdentityService` as ``get_identity_service()`` builds it (the settings'
    token lifetimes, issuer, audience and signing key), on the in-memory stores given
    (fresh ones otherwise) and :func:`fast_passwords`; API keys on ``api_keys``."""
    settings = get_settings()
    return IdentityService(
        users=users if users is not None else InMemoryIdentityStore(),
        sessions=sessions if sessions is not None else InMemorySessionStore(),
        login_failures=login_failures
        if login_failures is not None
        else InMemoryLoginFailureStore(),
        passwords=passwords if passwords is not None else fast_passwords(),
        tokens=AccessTokens(
            get_signing_key(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        ),
        clock=clock,
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        api_keys=ApiKeyService(
            keys=api_keys if api_keys is not None else InMemoryApiKeyStore(), clock=clock
        ),
    )
