"""Identity persistence: organizations, users, uniqueness guards, sessions, failed sign-ins.

Only storage lives here; the rules (session states, the throttle policy, what a
PATCH changes) are in :mod:`outreach.identity.domain`. Every tenant read or write
keys by the organization id it is given. The email and sender-number guards are
product-wide by design (``unique_keys``). The models must be bound first
(``ensure_models_bound()``, which the ``get_*_service()`` factories call).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from outreach.clock import to_iso
from outreach.data.keys import email_key, sender_key
from outreach.data.models import (
    AuthSessionModel,
    CounterModel,
    OrganizationModel,
    UniqueKeyModel,
    UserModel,
)
from outreach.data.pages import Page, decode_cursor, sealed_page
from outreach.data.pynamo import condition_failed, from_item, raw_map, to_item
from outreach.data.transactions import ConditionsFailed, Transaction
from outreach.errors import Conflict, DomainError, NotFound
from outreach.identity.domain import (
    DEFAULT_FALLBACK_TIME_ZONES,
    SENDER_NUMBER_HOLD,
    AttemptWindow,
    Organization,
    OrganizationChanges,
    RefreshRecord,
    Role,
    SessionState,
    User,
)
from outreach.ids import is_id
from outreach.replies import LEGACY_HELP_TEXT
from outreach.spend import (
    DEFAULT_AUTO_REPLY_HOURLY_LIMIT,
    DEFAULT_CONTACT_DAILY_LIMIT,
    DEFAULT_DAILY_MESSAGE_LIMIT,
)

_NO_USER = "-"
# The listing name sealed into the users cursor (a cursor of another listing is a 400).
USERS_LISTING = "users"


def _claim_email(transaction: Transaction, user: User) -> None:
    """Claim the user's email product-wide, in the transaction that creates the user."""
    transaction.save(
        UniqueKeyModel(
            email_key(user.email), org_id=user.org_id, user_id=user.id, created_at=user.created_at
        ),
        condition=UniqueKeyModel.key.does_not_exist(),
        label="email",
    )


def sender_taken(held_until: datetime | None) -> Conflict:
    """The refusal of a sender number another organization holds: outright
    (``held_until`` is ``None``), or released less than :data:`SENDER_NUMBER_HOLD` ago,
    in which case the detail and ``available_at`` (ISO instant) say when it becomes
    free (issue 14, point 8: a number's replies and opt-outs stay with the organization
    that used it)."""
    if held_until is None:
        return Conflict(
            "This sender number belongs to another organization.",
            extra={"field": "sender_number"},
        )
    available_at = to_iso(held_until)
    return Conflict(
        "This sender number was released by another organization less than "
        f"{SENDER_NUMBER_HOLD.days} days ago; its replies and opt-outs stay with that "
        f"organization until {available_at}, when it may be claimed.",
        extra={"field": "sender_number", "available_at": available_at},
    )


def _raise_if_email_taken(failed: ConditionsFailed) -> None:
    if "email" in failed.labels:
        raise Conflict("An account with this email already exists.") from failed


def _organization(item: OrganizationModel) -> Organization:
    return from_item(
        Organization,
        item,
        id=item.org_id,
        messages_per_second=int(item.messages_per_second),
        allowed_countries=tuple(item.allowed_countries or ()),
        fallback_time_zones=tuple(item.fallback_time_zones or DEFAULT_FALLBACK_TIME_ZONES),
        help_texts=_help_texts(item),
        opt_out_confirmations={
            str(key): str(value) for key, value in raw_map(item.opt_out_confirmations).items()
        },
        daily_message_limit=_number(item.daily_message_limit, DEFAULT_DAILY_MESSAGE_LIMIT),
        contact_daily_limit=_number(item.contact_daily_limit, DEFAULT_CONTACT_DAILY_LIMIT),
        auto_reply_hourly_limit=_number(
            item.auto_reply_hourly_limit, DEFAULT_AUTO_REPLY_HOURLY_LIMIT
        ),
    )


def _help_texts(item: OrganizationModel) -> dict[str, str]:
    """The HELP answers the organization wrote: English in ``help_text`` unless it is the
    default every organization was given before issue 15 (under the name it had then,
    which a rename since may have changed), the others in ``help_texts``."""
    texts = {str(key): str(value) for key, value in raw_map(item.help_texts).items()}
    english = item.help_text
    if english and not english.endswith(LEGACY_HELP_TEXT.removeprefix("{name}")):
        texts["en"] = english
    return texts


def _help_text_fields(organization: Organization) -> dict[str, Any]:
    """The item's ``help_text`` (English) and ``help_texts`` (the other languages)."""
    others = {key: value for key, value in organization.help_texts.items() if key != "en"}
    return {"help_text": organization.help_texts.get("en"), "help_texts": others or None}


def _number(stored: float | None, default: int) -> int:
    return default if stored is None else int(stored)


def _user(item: UserModel) -> User:
    return from_item(User, item, id=item.user_id, role=Role(item.role))


class IdentityRepository:
    """Organizations and users (implements :class:`~outreach.identity.ports.IdentityStore`)."""

    def create_organization_with_owner(
        self, organization: Organization, owner: User, password_hash: str
    ) -> None:
        """Create both atomically; :class:`Conflict` if the email is taken."""
        transaction = Transaction()
        _claim_email(transaction, owner)
        transaction.save(
            self._organization_item(organization),
            condition=OrganizationModel.org_id.does_not_exist(),
        )
        transaction.save(self._user_item(owner, password_hash))
        try:
            transaction.commit()
        except ConditionsFailed as failed:
            _raise_if_email_taken(failed)
            raise

    def get_organization(self, org_id: str) -> Organization:
        """The organization ``org_id``; :class:`NotFound` if there is none."""
        try:
            return _organization(OrganizationModel.get(org_id))
        except DoesNotExist as error:
            raise NotFound("Organization not found.") from error

    def update_organization(
        self, org_id: str, changes: OrganizationChanges, *, now: datetime, old_sender: str | None
    ) -> Organization:
        """Apply ``changes``; a new sender number is claimed product-wide and ``old_sender``
        released in one transaction.

        The sender number's ``unique_keys`` item is never deleted: releasing it sets its
        ``available_at`` to ``now`` + :data:`SENDER_NUMBER_HOLD`, so inbound routing
        (which reads the item's ``org_id``) keeps reaching this organization, and a claim
        is a conditional put that succeeds only on a free number, a hold that has ended,
        or this organization's own released number. The organization item is written on
        condition that its sender number is still ``old_sender``, so two concurrent
        changes cannot both release the same number or leave a claimed one orphaned.

        :class:`Conflict` (``field: sender_number``, with ``available_at`` during a hold
        of another organization; :func:`sender_taken`) leaving everything unchanged;
        :class:`Conflict` if the sender number changed meanwhile; :class:`NotFound` if
        the organization is gone.
        """
        try:
            item = OrganizationModel.get(org_id, consistent_read=True)
        except DoesNotExist as error:
            raise NotFound("Organization not found.") from error
        # The whole item is written again (a put): the changed organization, as created.
        item = self._organization_item(changes.applied_to(_organization(item), now=now))
        unchanged = OrganizationModel.org_id.exists() & (
            OrganizationModel.sender_number == old_sender
            if old_sender is not None
            else OrganizationModel.sender_number.does_not_exist()
        )
        new_sender = changes.sender_after(old_sender)
        if new_sender == old_sender:
            try:
                item.save(condition=unchanged)
            except PutError as error:
                if not condition_failed(error):
                    raise
                raise self._changed_meanwhile(org_id) from error
            return _organization(item)
        transaction = Transaction()
        if new_sender is not None:
            transaction.save(
                UniqueKeyModel(sender_key(new_sender), org_id=org_id, created_at=now),
                condition=UniqueKeyModel.key.does_not_exist()
                | (UniqueKeyModel.available_at <= now)
                | ((UniqueKeyModel.org_id == org_id) & UniqueKeyModel.available_at.exists()),
                label="sender",
            )
        transaction.save(item, condition=unchanged, label="organization")
        if old_sender is not None:
            transaction.update(
                UniqueKeyModel(sender_key(old_sender)),
                actions=[UniqueKeyModel.available_at.set(now + SENDER_NUMBER_HOLD)],
                condition=UniqueKeyModel.org_id == org_id,
                label="release",
            )
        try:
            transaction.commit()
        except ConditionsFailed as failed:
            if "sender" in failed.labels and new_sender is not None:
                raise sender_taken(self._hold_of_another(new_sender, org_id, now)) from failed
            if "organization" in failed.labels:
                raise self._changed_meanwhile(org_id) from failed
            raise
        return _organization(item)

    @staticmethod
    def _hold_of_another(number: str, org_id: str, now: datetime) -> datetime | None:
        """When ``number`` becomes free, if another organization released it and its hold
        has not ended at ``now``; ``None`` if it is held outright (or changed since)."""
        try:
            guard = UniqueKeyModel.get(sender_key(number), consistent_read=True)
        except DoesNotExist:
            return None
        held_until = guard.available_at
        if guard.org_id == org_id or held_until is None or held_until <= now:
            return None
        return held_until

    def _changed_meanwhile(self, org_id: str) -> DomainError:
        """The error for a write whose organization condition failed: gone, or its sender
        number changed after it was read."""
        self.get_organization(org_id)  # NotFound if it was deleted
        return Conflict(
            "The organization's sender number changed while this change was made; "
            "read it again and retry.",
            extra={"field": "sender_number"},
        )

    def create_user(self, user: User, password_hash: str) -> None:
        """Create a user; :class:`Conflict` if the email is taken anywhere."""
        transaction = Transaction()
        _claim_email(transaction, user)
        transaction.save(
            self._user_item(user, password_hash), condition=UserModel.user_id.does_not_exist()
        )
        try:
            transaction.commit()
        except ConditionsFailed as failed:
            _raise_if_email_taken(failed)
            raise

    def get_user(self, org_id: str, user_id: str) -> User:
        """The user ``user_id`` of ``org_id``; :class:`NotFound` if not in that organization."""
        if not is_id(user_id):  # ids are ULIDs; anything else would only upset DynamoDB
            raise NotFound("User not found.")
        try:
            return _user(UserModel.get(org_id, user_id))
        except DoesNotExist as error:
            raise NotFound("User not found.") from error

    def find_credentials(self, email: str) -> tuple[User, str] | None:
        """The user signing in with ``email`` and their password hash, if any."""
        try:
            guard = UniqueKeyModel.get(email_key(email))
            org_id, user_id = guard.org_id, guard.user_id or _NO_USER
        except DoesNotExist:
            # Read a user anyway, so an unknown email costs the same two reads as a
            # known one (no account enumeration by timing).
            org_id, user_id = _NO_USER, _NO_USER
        try:
            item = UserModel.get(org_id, user_id)
        except DoesNotExist:
            return None
        return _user(item), item.password_hash

    def update_password_hash(self, org_id: str, user_id: str, password_hash: str) -> None:
        """Store a stronger hash of the same password (rehash on sign-in)."""
        UserModel(org_id, user_id).update(
            actions=[UserModel.password_hash.set(password_hash)],
            condition=UserModel.user_id.exists(),
        )

    def list_users(self, org_id: str, *, limit: int, cursor: str | None) -> Page[User]:
        """One page of at most ``limit`` of the organization's users, oldest first (ids are
        ULIDs); :class:`~outreach.errors.BadRequest` for a cursor not sealed for this listing."""
        start = decode_cursor(cursor, org_id=org_id, listing=USERS_LISTING)
        result = UserModel.query(org_id, limit=limit, last_evaluated_key=start)
        return sealed_page(result, _user, org_id=org_id, listing=USERS_LISTING)

    def update_user(
        self, org_id: str, user_id: str, *, full_name: str | None, role: Role | None, now: datetime
    ) -> User:
        """Set the fields that are not ``None``; :class:`NotFound` if the user is gone."""
        actions: list[Any] = [UserModel.updated_at.set(now)]
        if full_name is not None:
            actions.append(UserModel.full_name.set(full_name))
        if role is not None:
            actions.append(UserModel.role.set(role.value))
        item = UserModel(org_id, user_id)
        try:
            item.update(actions=actions, condition=UserModel.user_id.exists())
        except UpdateError as error:
            if condition_failed(error):
                raise NotFound("User not found.") from error
            raise
        return _user(item)

    def delete_user(self, user: User) -> None:
        """Delete the user and free their email."""
        transaction = Transaction()
        transaction.delete(
            UserModel(user.org_id, user.id), condition=UserModel.user_id.exists(), label="user"
        )
        transaction.delete(
            UniqueKeyModel(email_key(user.email)), condition=UniqueKeyModel.user_id == user.id
        )
        try:
            transaction.commit()
        except ConditionsFailed as failed:
            raise NotFound("User not found.") from failed

    @staticmethod
    def _organization_item(organization: Organization) -> OrganizationModel:
        return to_item(
            OrganizationModel,
            organization,
            org_id=organization.id,
            allowed_countries=list(organization.allowed_countries) or None,
            fallback_time_zones=list(organization.fallback_time_zones),
            opt_out_confirmations=dict(organization.opt_out_confirmations) or None,
            **_help_text_fields(organization),
        )

    @staticmethod
    def _user_item(user: User, password_hash: str) -> UserModel:
        return to_item(
            UserModel, user, user_id=user.id, role=user.role.value, password_hash=password_hash
        )


def _session_item(key: str, record: RefreshRecord, *, now: datetime) -> AuthSessionModel:
    """A login's or a refresh token's item (``family#<id>``, ``refresh#<hash>``)."""
    return to_item(AuthSessionModel, record, key=key, state=record.state.value, created_at=now)


class SessionRepository:
    """Logins ("families") and their refresh tokens, stored by hash only
    (implements :class:`~outreach.identity.ports.SessionStore`)."""

    def start(self, *, token_hash: str, record: RefreshRecord, now: datetime) -> None:
        """Record a new login and its first refresh token."""
        transaction = Transaction()
        for key in (f"family#{record.family_id}", f"refresh#{token_hash}"):
            transaction.save(
                _session_item(key, record, now=now),
                condition=AuthSessionModel.key.does_not_exist(),
            )
        transaction.commit()

    def refresh_record(self, token_hash: str) -> RefreshRecord | None:
        """The stored record of a refresh token (read consistently), or ``None``."""
        try:
            item = AuthSessionModel.get(f"refresh#{token_hash}", consistent_read=True)
        except DoesNotExist:
            return None
        return from_item(RefreshRecord, item, state=SessionState(item.state))

    def family_is_active(self, family_id: str, *, now: datetime) -> bool:
        """Whether the login ``family_id`` exists, is not revoked and has not expired."""
        try:
            item = AuthSessionModel.get(f"family#{family_id}")
        except DoesNotExist:
            return False
        return item.state == SessionState.ACTIVE and item.expires_at > now

    def rotate(self, *, old_hash: str, new_hash: str, record: RefreshRecord, now: datetime) -> bool:
        """Retire ``old_hash`` and issue ``new_hash`` atomically; ``False`` if it lost a race."""
        transaction = Transaction()
        transaction.update(
            AuthSessionModel(f"refresh#{old_hash}"),
            actions=[AuthSessionModel.state.set(SessionState.ROTATED.value)],
            condition=AuthSessionModel.state == SessionState.ACTIVE.value,
            label="token",
        )
        transaction.update(
            AuthSessionModel(f"family#{record.family_id}"),
            actions=[AuthSessionModel.expires_at.set(record.expires_at)],
            condition=AuthSessionModel.state == SessionState.ACTIVE.value,
            label="family",
        )
        transaction.save(
            _session_item(f"refresh#{new_hash}", record, now=now),
            condition=AuthSessionModel.key.does_not_exist(),
            label="new-token",
        )
        try:
            transaction.commit()
        except ConditionsFailed:
            return False
        return True

    def revoke_family(self, family_id: str) -> None:
        """End a login: its refresh tokens and access tokens stop working."""
        try:
            AuthSessionModel(f"family#{family_id}").update(
                actions=[AuthSessionModel.state.set(SessionState.REVOKED.value)],
                condition=AuthSessionModel.key.exists(),
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise


class LoginFailureRepository:
    """Sign-in attempts per email, one counter per fixed window in the counters table
    (its TTL removes old windows); implements :class:`~outreach.identity.ports.LoginFailureStore`.
    """

    @staticmethod
    def _key(email: str) -> str:
        return f"login#{email}"

    def count_attempt(self, email: str, *, now: datetime, window: timedelta) -> AttemptWindow:
        """Add 1 to the window open at ``now`` (a conditional ADD answering the new value:
        DynamoDB serializes the ADDs, so concurrent attempts get distinct numbers), or
        start a window of ``window`` with 1 if none is open. One write in the usual case."""
        key = self._key(email)
        ends_at = (now + window).replace(microsecond=0)
        counter = CounterModel(key)
        try:
            counter.update(
                actions=[CounterModel.value.add(1)], condition=CounterModel.expires_at > now
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise
        else:
            return _attempt_window(counter)
        started = CounterModel(key, value=1, expires_at=ends_at)
        try:
            started.save(
                condition=CounterModel.key.does_not_exist() | (CounterModel.expires_at <= now)
            )
        except PutError as put_error:
            if not condition_failed(put_error):
                raise
            # A concurrent attempt started the window first: count into it (and should a
            # success have cleared it meanwhile, start it again rather than leave a
            # counter without an end).
            counter.update(
                actions=[
                    CounterModel.value.add(1),
                    CounterModel.expires_at.set(CounterModel.expires_at | ends_at),
                ]
            )
            return _attempt_window(counter)
        return _attempt_window(started)

    def clear(self, email: str) -> None:
        """Forget ``email``'s attempts (after a successful sign-in)."""
        CounterModel(self._key(email)).delete()


def _attempt_window(counter: CounterModel) -> AttemptWindow:
    """The window a counter holds after a write (``update`` answers every attribute).

    Every login counter is written with an end; ``ValueError`` for one without.
    """
    if counter.expires_at is None:
        raise ValueError(f"login counter {counter.key} has no end")
    return AttemptWindow(attempts=int(counter.value), ends_at=counter.expires_at)
