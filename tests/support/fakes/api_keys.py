"""An in-memory fake of :class:`outreach.api_keys.ports.ApiKeyStore`: keys per organization,
oldest first in sealed pages, ``last_used_at`` moved by one conditional write at a time.
``tests/integration/test_api_keys_contract.py`` runs the same calls on it and on DynamoDB."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta

from outreach.api_keys.domain import ApiKey
from outreach.api_keys.repository import API_KEYS_LISTING
from outreach.data.pages import Page, decode_cursor, encode_cursor


class InMemoryApiKeyStore:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], tuple[ApiKey, str]] = {}
        self.used_writes = 0  # note_used writes that moved last_used_at
        self._lock = threading.Lock()

    def create(self, api_key: ApiKey, secret_hash: str) -> None:
        with self._lock:
            key = (api_key.org_id, api_key.id)
            if key in self.keys:
                raise AssertionError(f"API key {api_key.id} made twice")
            self.keys[key] = (api_key, secret_hash)

    def list_keys(self, org_id: str, *, limit: int, cursor: str | None) -> Page[ApiKey]:
        start = decode_cursor(cursor, org_id=org_id, listing=API_KEYS_LISTING)
        after = start["key_id"]["S"] if start else ""
        with self._lock:
            ids = sorted(k for (org, k) in self.keys if org == org_id and k > after)
            page = [self.keys[(org_id, k)][0] for k in ids[:limit]]
        more = len(ids) > limit
        last = {"org_id": {"S": org_id}, "key_id": {"S": page[-1].id}} if more else None
        return Page(page, encode_cursor(last, org_id=org_id, listing=API_KEYS_LISTING))

    def credentials(self, org_id: str, key_id: str) -> tuple[ApiKey, str] | None:
        with self._lock:
            return self.keys.get((org_id, key_id))

    def revoke(self, org_id: str, key_id: str) -> bool:
        with self._lock:
            return self.keys.pop((org_id, key_id), None) is not None

    def note_used(self, org_id: str, key_id: str, *, now: datetime, every: timedelta) -> bool:
        with self._lock:
            found = self.keys.get((org_id, key_id))
            if found is None:
                return False
            api_key, secret_hash = found
            if api_key.last_used_at is not None and api_key.last_used_at > now - every:
                return False
            self.keys[(org_id, key_id)] = (replace(api_key, last_used_at=now), secret_hash)
            self.used_writes += 1
            return True
