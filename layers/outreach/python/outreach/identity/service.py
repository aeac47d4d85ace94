"""Identity rules: registration, sign-in, token rotation, authorization, users, settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import lru_cache

from outreach.api_keys.domain import looks_like_key
from outreach.api_keys.repository import ApiKeyRepository
from outreach.api_keys.service import ApiKeyService
from outreach.clock import Clock, SystemClock
from outreach.config import get_settings
from outreach.data.binding import ensure_models_bound
from outreach.data.pages import Page
from outreach.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized
from outreach.identity.domain import (
    DEFAULT_MESSAGES_PER_SECOND,
    DEFAULT_OPT_OUT_FOOTER,
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    DEFAULT_TIMEZONE,
    LOGIN_THROTTLE,
    Caller,
    NewUser,
    Organization,
    OrganizationChanges,
    RefreshRecord,
    Role,
    SessionState,
    TokenPair,
    User,
    UserChanges,
    require_manager,
    require_person,
)
from outreach.identity.passwords import Passwords
from outreach.identity.ports import (
    ApiKeyAuthenticator,
    IdentityStore,
    LoginFailureStore,
    SessionStore,
)
from outreach.identity.repository import (
    IdentityRepository,
    LoginFailureRepository,
    SessionRepository,
)
from outreach.identity.tokens import AccessTokens, new_refresh_token, refresh_token_hash
from outreach.ids import new_id
from outreach.observability import logger
from outreach.secrets import get_signing_key

INVALID_CREDENTIALS = "Invalid email or password."
INVALID_REFRESH = "Invalid refresh token."


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


class IdentityService:
    """Every identity rule; routes only parse and map.

    ``users`` holds organizations and users, ``sessions`` the logins and refresh
    tokens, ``login_failures`` the failed sign-ins the throttle counts
    (:data:`~outreach.identity.domain.LOGIN_THROTTLE`). ``refresh_ttl`` is how long
    a login lives without a refresh. ``api_keys`` answers for a bearer token that is an
    API key (:mod:`outreach.api_keys`).
    """

    def __init__(
        self,
        *,
        users: IdentityStore,
        sessions: SessionStore,
        login_failures: LoginFailureStore,
        passwords: Passwords,
        tokens: AccessTokens,
        clock: Clock,
        refresh_ttl: timedelta,
        api_keys: ApiKeyAuthenticator,
    ) -> None:
        self._users = users
        self._api_keys = api_keys
        self._sessions = sessions
        self._login_failures = login_failures
        self._passwords = passwords
        self._tokens = tokens
        self._clock = clock
        self._refresh_ttl = refresh_ttl

    # --- Registration and sessions -------------------------------------------------

    def register(
        self, *, email: str, password: str, full_name: str, organization_name: str
    ) -> tuple[User, Organization]:
        """Create an organization with this user as its owner, atomically."""
        now = self._clock.now()
        organization = Organization(
            id=new_id(now),
            name=organization_name,
            timezone=DEFAULT_TIMEZONE,
            sender_number=None,
            messages_per_second=DEFAULT_MESSAGES_PER_SECOND,
            quiet_hours_start=DEFAULT_QUIET_START,
            quiet_hours_end=DEFAULT_QUIET_END,
            opt_out_footer=DEFAULT_OPT_OUT_FOOTER,
            created_at=now,
            updated_at=now,
        )
        owner = User(
            id=new_id(now),
            org_id=organization.id,
            email=normalize_email(email),
            full_name=full_name,
            role=Role.OWNER,
            created_at=now,
            updated_at=now,
        )
        self._users.create_organization_with_owner(
            organization, owner, self._passwords.hash(password)
        )
        return owner, organization

    def login(self, *, email: str, password: str) -> TokenPair:
        """Exchange credentials for a token pair.

        :class:`Unauthorized` for a wrong password or an unknown email alike;
        :class:`TooManyRequests` with ``Retry-After`` once the email is throttled
        (:class:`~outreach.identity.domain.LoginThrottlePolicy`: every attempt is
        counted before its password is verified, so the limit holds under concurrency).
        """
        now = self._clock.now()
        email = normalize_email(email)
        # Counted before the password is verified, atomically: of any number of
        # concurrent attempts only the first `max_failures` are verified (issue 14,
        # point 7). A success clears the count below.
        counted = self._login_failures.count_attempt(email, now=now, window=LOGIN_THROTTLE.window)
        retry_after = LOGIN_THROTTLE.retry_after(counted, now=now)
        if retry_after is not None:
            raise TooManyRequests(
                "Too many failed sign-ins for this email; try again later.", retry_after
            )
        found = self._users.find_credentials(email)
        # An unknown email runs the same argon2 verification as a wrong password.
        if not self._passwords.verify(found[1] if found else None, password) or found is None:
            logger.warning("sign-in failed", extra={"known_user": found is not None})
            raise Unauthorized(INVALID_CREDENTIALS)
        user, stored_hash = found
        self._login_failures.clear(email)
        if self._passwords.needs_rehash(stored_hash):
            self._users.update_password_hash(user.org_id, user.id, self._passwords.hash(password))
        family_id = new_id(now)
        refresh = new_refresh_token()
        self._sessions.start(
            token_hash=refresh_token_hash(refresh),
            record=RefreshRecord(
                user.org_id, user.id, family_id, SessionState.ACTIVE, now + self._refresh_ttl
            ),
            now=now,
        )
        logger.info("signed in", extra={"org_id": user.org_id, "user_id": user.id})
        return self._pair(user, family_id, refresh)

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a refresh token. A rotated token presented again revokes the whole login."""
        now = self._clock.now()
        old_hash = refresh_token_hash(refresh_token)
        record = self._sessions.refresh_record(old_hash)
        if record is None or record.expires_at <= now:
            raise Unauthorized(INVALID_REFRESH)
        if record.state is SessionState.ROTATED:
            self._sessions.revoke_family(record.family_id)
            logger.warning(
                "rotated refresh token reused; login revoked",
                extra={"org_id": record.org_id, "user_id": record.user_id},
            )
            raise Unauthorized(INVALID_REFRESH)
        if record.state is not SessionState.ACTIVE or not self._sessions.family_is_active(
            record.family_id, now=now
        ):
            raise Unauthorized(INVALID_REFRESH)
        try:
            user = self._users.get_user(record.org_id, record.user_id)
        except NotFound as error:
            raise Unauthorized(INVALID_REFRESH) from error
        new_refresh = new_refresh_token()
        rotated = self._sessions.rotate(
            old_hash=old_hash,
            new_hash=refresh_token_hash(new_refresh),
            record=replace(record, expires_at=now + self._refresh_ttl),
            now=now,
        )
        if not rotated:
            # A concurrent use of the same token won the rotation: treat as reuse.
            self._sessions.revoke_family(record.family_id)
            raise Unauthorized(INVALID_REFRESH)
        return self._pair(user, record.family_id, new_refresh)

    def logout(self, caller: Caller, refresh_token: str) -> None:
        """End the login ``refresh_token`` belongs to, when it is a live refresh token of the
        caller (same user and organization, neither rotated, revoked nor expired): that
        login's refresh and access tokens stop working. Any other token (unknown, garbage,
        rotated, expired, another user's) changes nothing, the caller's own login included;
        the route answers 204 either way, so the answer tells nothing about the token.
        Idempotent."""
        record = self._sessions.refresh_record(refresh_token_hash(refresh_token))
        if (
            record is None
            or record.user_id != caller.user_id
            or record.org_id != caller.org_id
            or record.state is not SessionState.ACTIVE
            or record.expires_at <= self._clock.now()
        ):
            return
        self._sessions.revoke_family(record.family_id)

    def authenticate(self, bearer: str | None) -> Caller:
        """The caller an ``Authorization`` header stands for, or :class:`Unauthorized`.

        The login must still be active and the user must still exist; the role is
        read from the user, so a demotion takes effect at once. A token with the API key
        prefix is an API key, checked against its stored hash (a revoked key at once).
        """
        if not bearer:
            raise Unauthorized("Missing bearer token")
        scheme, _, token = bearer.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Missing bearer token")
        if looks_like_key(token.strip()):
            return self._api_keys.authenticate(token.strip())
        now = self._clock.now()
        claims = self._tokens.verify(token.strip(), now=now)
        if not self._sessions.family_is_active(claims.session_id, now=now):
            raise Unauthorized("Session ended")
        try:
            user = self._users.get_user(claims.org_id, claims.user_id)
        except NotFound as error:
            raise Unauthorized("Invalid access token") from error
        return Caller(
            user_id=user.id, org_id=user.org_id, role=user.role, session_id=claims.session_id
        )

    def _pair(self, user: User, family_id: str, refresh: str) -> TokenPair:
        access = self._tokens.issue(
            user_id=user.id,
            org_id=user.org_id,
            role=user.role.value,
            session_id=family_id,
            now=self._clock.now(),
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self._tokens.ttl.total_seconds()),
        )

    # --- Users and the organization ------------------------------------------------

    def me(self, caller: Caller) -> User:
        """The signed-in user (:class:`Forbidden` for an API key: it is no user)."""
        if caller.api_key_id is not None:
            raise Forbidden("An API key is no user: /v1/auth/me answers a signed-in user.")
        return self._users.get_user(caller.org_id, caller.user_id)

    def get_organization(self, caller: Caller) -> Organization:
        """The caller's organization (any role)."""
        return self._users.get_organization(caller.org_id)

    def update_organization(self, caller: Caller, changes: OrganizationChanges) -> Organization:
        """Owners and admins change settings (else :class:`Forbidden`). Raising
        ``daily_message_limit`` above its current value is the owner's alone
        (:class:`Forbidden` naming the field; `api-contract.md` Addendum 1, issue 14
        point 3); lowering it is any manager's. A sender number is unique product-wide
        and a released one is held for its last organization
        (:data:`~outreach.identity.domain.SENDER_NUMBER_HOLD`): :class:`Conflict`.
        No change asked: nothing is written."""
        require_manager(caller)
        current = self._users.get_organization(caller.org_id)
        if changes.is_empty:
            return current
        raised = changes.daily_message_limit
        if (
            raised is not None
            and raised > current.daily_message_limit
            and caller.role is not Role.OWNER
        ):
            raise Forbidden(
                "Only the owner may raise daily_message_limit "
                f"(now {current.daily_message_limit}); admins may lower it.",
                extra={"field": "daily_message_limit"},
            )
        return self._users.update_organization(
            caller.org_id, changes, now=self._clock.now(), old_sender=current.sender_number
        )

    def create_user(self, caller: Caller, new: NewUser) -> User:
        """Owners and admins add a user to their organization (else :class:`Forbidden`);
        :class:`Conflict` if the email is taken anywhere in the product. Never an API key."""
        require_person(caller)
        require_manager(caller)
        now = self._clock.now()
        user = User(
            id=new_id(now),
            org_id=caller.org_id,
            email=normalize_email(new.email),
            full_name=new.full_name,
            role=new.role,
            created_at=now,
            updated_at=now,
        )
        self._users.create_user(user, self._passwords.hash(new.password))
        return user

    def list_users(self, caller: Caller, *, limit: int, cursor: str | None) -> Page[User]:
        """A page of the caller's organization's users, oldest first (any role)."""
        return self._users.list_users(caller.org_id, limit=limit, cursor=cursor)

    def get_user(self, caller: Caller, user_id: str) -> User:
        """One user of the caller's organization; :class:`NotFound` for anyone else."""
        return self._users.get_user(caller.org_id, user_id)

    def update_user(self, caller: Caller, user_id: str, changes: UserChanges) -> User:
        """Owners and admins rename users or change their role (else :class:`Forbidden`);
        the owner cannot be demoted (:class:`Conflict`). Never an API key."""
        require_person(caller)
        require_manager(caller)
        target = self._users.get_user(caller.org_id, user_id)
        role = changes.role
        if role is not None and target.role is Role.OWNER and role is not Role.OWNER:
            raise Conflict("The owner cannot be demoted.")
        if changes.is_empty:
            return target
        return self._users.update_user(
            caller.org_id, user_id, full_name=changes.full_name, role=role, now=self._clock.now()
        )

    def delete_user(self, caller: Caller, user_id: str) -> None:
        """Owners and admins remove a user (else :class:`Forbidden`), freeing the email; the
        owner cannot be deleted (:class:`Conflict`). Never an API key."""
        require_person(caller)
        require_manager(caller)
        target = self._users.get_user(caller.org_id, user_id)
        if target.role is Role.OWNER:
            raise Conflict("The owner cannot be deleted.")
        self._users.delete_user(target)


@lru_cache(maxsize=1)
def get_identity_service() -> IdentityService:
    """The process-wide service on DynamoDB, built on first use from the settings and
    signing key."""
    return build_identity_service(SystemClock())


def build_identity_service(clock: Clock, *, passwords: Passwords | None = None) -> IdentityService:
    """The service on DynamoDB, with ``clock`` and ``passwords`` (argon2 by default), the
    settings' token lifetimes, issuer and audience, and the signing key."""
    settings = get_settings()
    ensure_models_bound()
    return IdentityService(
        users=IdentityRepository(),
        sessions=SessionRepository(),
        login_failures=LoginFailureRepository(),
        passwords=passwords or Passwords(),
        tokens=AccessTokens(
            get_signing_key(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        ),
        clock=clock,
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        api_keys=ApiKeyService(keys=ApiKeyRepository(), clock=clock),
    )
