"""API keys on DynamoDB (``api_keys``: organization, key id). Every read and write keys by
the organization id it is given."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, UpdateError

from outreach.api_keys.domain import ApiKey
from outreach.data.models import ApiKeyModel
from outreach.data.pages import Page, decode_cursor, sealed_page
from outreach.data.pynamo import condition_failed, delete_if_present, from_item, to_item
from outreach.identity.domain import Role

# The listing name sealed into the keys' cursor (a cursor of another listing is a 400).
API_KEYS_LISTING = "api_keys"


def _api_key(item: ApiKeyModel) -> ApiKey:
    return from_item(ApiKey, item, id=item.key_id, role=Role(item.role))


class ApiKeyRepository:
    """:class:`~outreach.api_keys.ports.ApiKeyStore` on DynamoDB."""

    def create(self, api_key: ApiKey, secret_hash: str) -> None:
        to_item(
            ApiKeyModel,
            api_key,
            key_id=api_key.id,
            role=api_key.role.value,
            secret_hash=secret_hash,
        ).save(condition=ApiKeyModel.key_id.does_not_exist())

    def list_keys(self, org_id: str, *, limit: int, cursor: str | None) -> Page[ApiKey]:
        start = decode_cursor(cursor, org_id=org_id, listing=API_KEYS_LISTING)
        result = ApiKeyModel.query(org_id, limit=limit, last_evaluated_key=start)
        return sealed_page(result, _api_key, org_id=org_id, listing=API_KEYS_LISTING)

    def credentials(self, org_id: str, key_id: str) -> tuple[ApiKey, str] | None:
        try:
            item = ApiKeyModel.get(org_id, key_id, consistent_read=True)
        except DoesNotExist:
            return None
        return _api_key(item), item.secret_hash

    def revoke(self, org_id: str, key_id: str) -> bool:
        return delete_if_present(ApiKeyModel(org_id, key_id))

    def note_used(self, org_id: str, key_id: str, *, now: datetime, every: timedelta) -> bool:
        try:
            ApiKeyModel(org_id, key_id).update(
                actions=[ApiKeyModel.last_used_at.set(now)],
                condition=ApiKeyModel.key_id.exists()
                & (
                    ApiKeyModel.last_used_at.does_not_exist()
                    | (ApiKeyModel.last_used_at <= now - every)
                ),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True
