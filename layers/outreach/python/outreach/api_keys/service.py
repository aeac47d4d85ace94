"""The API key rules: make, list and revoke an organization's keys (owners and admins,
signed in), and tell who a presented key stands for."""

from __future__ import annotations

from functools import lru_cache

from outreach.api_keys.domain import (
    LAST_USED_EVERY,
    ApiKey,
    IssuedKey,
    last_used_is_stale,
    new_key,
    read_key,
    secret_matches,
    shown_prefix,
)
from outreach.api_keys.ports import ApiKeyStore
from outreach.api_keys.repository import ApiKeyRepository
from outreach.clock import Clock, SystemClock
from outreach.data.binding import ensure_models_bound
from outreach.data.pages import Page
from outreach.errors import NotFound, Unauthorized
from outreach.identity.domain import Caller, Role, require_manager, require_person
from outreach.ids import is_id, new_id

INVALID_KEY = "Invalid API key"


class ApiKeyService:
    """Every API key rule; routes only parse and map."""

    def __init__(self, *, keys: ApiKeyStore, clock: Clock) -> None:
        self._keys = keys
        self._clock = clock

    def create(self, caller: Caller, *, name: str, role: Role) -> IssuedKey:
        """A new key of the caller's organization acting as ``role`` (``admin`` or
        ``member``; the schema refuses ``owner``). Owners and admins, signed in: an API
        key or a member gets :class:`~outreach.errors.Forbidden`. The key is in the
        answer only: what is stored is the hash of its secret."""
        require_person(caller)
        require_manager(caller)
        now = self._clock.now()
        key_id = new_id(now)
        key, secret_hash = new_key(key_id, caller.org_id)
        api_key = ApiKey(
            id=key_id,
            org_id=caller.org_id,
            name=name,
            role=role,
            prefix=shown_prefix(key),
            created_by=caller.user_id,
            created_at=now,
        )
        self._keys.create(api_key, secret_hash)
        return IssuedKey(api_key, key)

    def list_keys(self, caller: Caller, *, limit: int, cursor: str | None) -> Page[ApiKey]:
        """A page of the organization's keys, oldest first (owners and admins, signed in)."""
        require_person(caller)
        require_manager(caller)
        return self._keys.list_keys(caller.org_id, limit=limit, cursor=cursor)

    def revoke(self, caller: Caller, key_id: str) -> None:
        """Delete a key of the organization (owners and admins, signed in): the next
        request with it is a 401. :class:`~outreach.errors.NotFound` when the organization
        has no such key (another organization's included)."""
        require_person(caller)
        require_manager(caller)
        if not is_id(key_id) or not self._keys.revoke(caller.org_id, key_id):
            raise NotFound("API key not found.")

    def authenticate(self, token: str) -> Caller:
        """The caller a presented key stands for: its organization and role, ``user_id``
        and ``api_key_id`` the key's id. :class:`~outreach.errors.Unauthorized` for a
        token of the wrong shape, an unknown or revoked key, or a wrong secret (one
        answer for all). Moves ``last_used_at`` when it is a minute old or more."""
        parts = read_key(token)
        if parts is None:
            raise Unauthorized(INVALID_KEY)
        found = self._keys.credentials(parts.org_id, parts.key_id)
        if found is None or not secret_matches(parts.secret, found[1]):
            raise Unauthorized(INVALID_KEY)
        api_key = found[0]
        now = self._clock.now()
        if last_used_is_stale(api_key.last_used_at, now):
            self._keys.note_used(api_key.org_id, api_key.id, now=now, every=LAST_USED_EVERY)
        return Caller(
            user_id=api_key.id, org_id=api_key.org_id, role=api_key.role, api_key_id=api_key.id
        )


@lru_cache(maxsize=1)
def get_api_key_service() -> ApiKeyService:
    """The process-wide service on DynamoDB."""
    ensure_models_bound()
    return ApiKeyService(keys=ApiKeyRepository(), clock=SystemClock())
