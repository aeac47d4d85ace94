"""The API key store: the in-memory fake and the DynamoDB repository answer the same calls
the same way (each test runs on both)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.api_keys.domain import LAST_USED_EVERY, ApiKey, new_key, shown_prefix
from outreach.api_keys.ports import ApiKeyStore
from outreach.api_keys.repository import ApiKeyRepository
from outreach.errors import BadRequest
from outreach.identity.domain import Role
from outreach.ids import new_id
from tests.support.contract import IMPLEMENTATIONS, use_dynamodb, walk_pages
from tests.support.fakes.api_keys import InMemoryApiKeyStore

NOW = datetime(2026, 12, 1, 15, 0, 0, 123000, tzinfo=UTC)
ORG = new_id(NOW)
OTHER_ORG = new_id(NOW + timedelta(seconds=1))


@pytest.fixture(params=IMPLEMENTATIONS)
def keys(request: pytest.FixtureRequest) -> Iterator[ApiKeyStore]:
    yield ApiKeyRepository() if use_dynamodb(request) else InMemoryApiKeyStore()


def _make(store: ApiKeyStore, org_id: str = ORG, at: datetime = NOW) -> tuple[ApiKey, str]:
    key_id = new_id(at)
    key, secret_hash = new_key(key_id, org_id)
    api_key = ApiKey(
        id=key_id,
        org_id=org_id,
        name=f"key {key_id[-4:]}",
        role=Role.MEMBER,
        prefix=shown_prefix(key),
        created_by="user-1",
        created_at=at,
    )
    store.create(api_key, secret_hash)
    return api_key, secret_hash


def test_a_key_is_read_back_with_its_hash_and_only_in_its_organization(
    keys: ApiKeyStore,
) -> None:
    api_key, secret_hash = _make(keys)
    assert keys.credentials(ORG, api_key.id) == (api_key, secret_hash)
    assert keys.credentials(OTHER_ORG, api_key.id) is None
    assert keys.credentials(ORG, new_id(NOW)) is None


def test_keys_page_oldest_first_with_cursors_sealed_to_the_organization(
    keys: ApiKeyStore,
) -> None:
    made = [_make(keys, at=NOW + timedelta(seconds=i))[0] for i in range(5)]
    _make(keys, org_id=OTHER_ORG)  # never in ORG's pages
    seen, _ = walk_pages(
        lambda cursor: keys.list_keys(ORG, limit=2, cursor=cursor), limit=2, total=len(made)
    )
    assert seen == made
    first = keys.list_keys(ORG, limit=1, cursor=None).next_cursor
    assert first is not None
    with pytest.raises(BadRequest):
        keys.list_keys(OTHER_ORG, limit=1, cursor=first)


def test_revoking_deletes_once_and_never_another_organizations_key(keys: ApiKeyStore) -> None:
    api_key, _ = _make(keys)
    assert keys.revoke(OTHER_ORG, api_key.id) is False
    assert keys.credentials(ORG, api_key.id) is not None
    assert keys.revoke(ORG, api_key.id) is True
    assert keys.credentials(ORG, api_key.id) is None
    assert keys.revoke(ORG, api_key.id) is False


def test_last_used_moves_at_most_once_per_interval(keys: ApiKeyStore) -> None:
    api_key, _ = _make(keys)
    every = LAST_USED_EVERY
    assert keys.note_used(ORG, api_key.id, now=NOW, every=every) is True
    assert keys.note_used(ORG, api_key.id, now=NOW + every / 2, every=every) is False
    found = keys.credentials(ORG, api_key.id)
    assert found is not None
    assert found[0] == replace(api_key, last_used_at=NOW)
    assert keys.note_used(ORG, api_key.id, now=NOW + every, every=every) is True
    found = keys.credentials(ORG, api_key.id)
    assert found is not None
    assert found[0].last_used_at == NOW + every
    # A revoked key is not brought back by a late use.
    keys.revoke(ORG, api_key.id)
    assert keys.note_used(ORG, api_key.id, now=NOW + 3 * every, every=every) is False
    assert keys.credentials(ORG, api_key.id) is None
