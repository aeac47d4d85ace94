"""What the API key rules need from storage."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from outreach.api_keys.domain import ApiKey
from outreach.data.pages import Page


class ApiKeyStore(Protocol):
    """An organization's API keys, each keyed by organization and key id."""

    def create(self, api_key: ApiKey, secret_hash: str) -> None:
        """Store a new key (its id is new: no other key has it)."""
        ...

    def list_keys(self, org_id: str, *, limit: int, cursor: str | None) -> Page[ApiKey]:
        """One page of the organization's keys, oldest first; :class:`BadRequest` for a
        cursor not sealed for this listing and organization."""
        ...

    def credentials(self, org_id: str, key_id: str) -> tuple[ApiKey, str] | None:
        """The key and its stored secret hash, read consistently (a revoked key is never
        seen again); ``None`` if there is none."""
        ...

    def revoke(self, org_id: str, key_id: str) -> bool:
        """Delete the key; ``False`` if the organization has no such key."""
        ...

    def note_used(self, org_id: str, key_id: str, *, now: datetime, every: timedelta) -> bool:
        """Set ``last_used_at`` to ``now`` unless it moved less than ``every`` ago, in one
        conditional write (at most one writer wins per ``every``); ``False`` when it did not
        move (recent, or the key is gone)."""
        ...
