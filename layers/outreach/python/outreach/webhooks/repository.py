"""Webhook endpoints and deliveries on DynamoDB (``webhooks``, ``webhook_deliveries``).
Every read and write keys by the organization id it is given."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from outreach.data.keys import webhook_endpoint_key
from outreach.data.models import WebhookDeliveryModel, WebhookModel
from outreach.data.pages import Page, decode_cursor, sealed_page
from outreach.data.pynamo import condition_failed, delete_if_present, from_item, to_item
from outreach.errors import NotFound
from outreach.webhooks.domain import (
    DELIVERIES_KEPT,
    MAX_ENDPOINTS,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointChanges,
    EndpointSecrets,
)

WEBHOOKS_LISTING = "webhooks"
DELIVERIES_LISTING = "webhook_deliveries"
NOT_FOUND = "Webhook not found."


def _endpoint(item: WebhookModel) -> Endpoint:
    return from_item(Endpoint, item, id=item.webhook_id, events=tuple(item.events))


def _delivery(item: WebhookDeliveryModel) -> Delivery:
    return from_item(
        Delivery,
        item,
        id=item.delivery_id,
        status=DeliveryStatus(item.status),
        attempts=int(item.attempts),
        status_code=None if item.status_code is None else int(item.status_code),
        duration_ms=None if item.duration_ms is None else int(item.duration_ms),
    )


class WebhookRepository:
    """:class:`~outreach.webhooks.ports.WebhookStore` on DynamoDB."""

    def create_endpoint(self, endpoint: Endpoint, secret: str) -> None:
        to_item(
            WebhookModel,
            endpoint,
            webhook_id=endpoint.id,
            events=list(endpoint.events),
            secret=secret,
            previous_secret=None,
            previous_until=None,
        ).save(condition=WebhookModel.webhook_id.does_not_exist())

    def list_endpoints(self, org_id: str, *, limit: int, cursor: str | None) -> Page[Endpoint]:
        start = decode_cursor(cursor, org_id=org_id, listing=WEBHOOKS_LISTING)
        result = WebhookModel.query(org_id, limit=limit, last_evaluated_key=start)
        return sealed_page(result, _endpoint, org_id=org_id, listing=WEBHOOKS_LISTING)

    def endpoints(self, org_id: str) -> list[Endpoint]:
        return [_endpoint(item) for item in WebhookModel.query(org_id, limit=MAX_ENDPOINTS + 1)]

    def _item(self, org_id: str, webhook_id: str) -> WebhookModel:
        try:
            return WebhookModel.get(org_id, webhook_id, consistent_read=True)
        except DoesNotExist as error:
            raise NotFound(NOT_FOUND) from error

    def endpoint(self, org_id: str, webhook_id: str) -> Endpoint:
        return _endpoint(self._item(org_id, webhook_id))

    def endpoint_and_secrets(
        self, org_id: str, webhook_id: str
    ) -> tuple[Endpoint, EndpointSecrets]:
        item = self._item(org_id, webhook_id)
        return _endpoint(item), EndpointSecrets(
            item.secret, item.previous_secret, item.previous_until
        )

    def _update(self, org_id: str, webhook_id: str, actions: list[Any]) -> WebhookModel:
        item = WebhookModel(org_id, webhook_id)
        try:
            item.update(actions=actions, condition=WebhookModel.webhook_id.exists())
        except UpdateError as error:
            if condition_failed(error):
                raise NotFound(NOT_FOUND) from error
            raise
        return item

    def update_endpoint(
        self, org_id: str, webhook_id: str, changes: EndpointChanges, *, now: datetime
    ) -> Endpoint:
        actions: list[Any] = [WebhookModel.updated_at.set(now)]
        if changes.url is not None:
            actions.append(WebhookModel.url.set(changes.url))
        if changes.events is not None:
            actions.append(WebhookModel.events.set(list(changes.events)))
        if changes.description is not None:
            actions.append(WebhookModel.description.set(changes.description))
        if changes.enabled is not None:
            actions.append(WebhookModel.enabled.set(changes.enabled))
            if changes.enabled:
                actions += [
                    WebhookModel.disabled_reason.remove(),
                    WebhookModel.failing_since.remove(),
                ]
        return _endpoint(self._update(org_id, webhook_id, actions))

    def rotate_secret(
        self, org_id: str, webhook_id: str, secret: str, *, previous_until: datetime, now: datetime
    ) -> Endpoint:
        current = self._item(org_id, webhook_id).secret
        item = self._update(
            org_id,
            webhook_id,
            [
                WebhookModel.secret.set(secret),
                WebhookModel.previous_secret.set(current),
                WebhookModel.previous_until.set(previous_until),
                WebhookModel.updated_at.set(now),
            ],
        )
        return _endpoint(item)

    def delete_endpoint(self, org_id: str, webhook_id: str) -> bool:
        return delete_if_present(WebhookModel(org_id, webhook_id))

    def note_outcome(
        self, org_id: str, webhook_id: str, *, succeeded: bool, now: datetime
    ) -> datetime | None:
        action: Any = (
            WebhookModel.failing_since.remove()
            if succeeded
            else WebhookModel.failing_since.set(WebhookModel.failing_since | now)
        )
        try:
            item = self._update(org_id, webhook_id, [action])
        except NotFound:
            return None
        return item.failing_since

    def disable(self, org_id: str, webhook_id: str, reason: str, *, now: datetime) -> None:
        try:
            self._update(
                org_id,
                webhook_id,
                [
                    WebhookModel.enabled.set(False),
                    WebhookModel.disabled_reason.set(reason),
                    WebhookModel.updated_at.set(now),
                ],
            )
        except NotFound:
            return

    def create_delivery(self, delivery: Delivery) -> bool:
        try:
            self._delivery_item(delivery).save(
                condition=WebhookDeliveryModel.delivery_id.does_not_exist()
            )
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def _delivery_item(self, delivery: Delivery) -> WebhookDeliveryModel:
        return to_item(
            WebhookDeliveryModel,
            delivery,
            endpoint_key=webhook_endpoint_key(delivery.org_id, delivery.webhook_id),
            delivery_id=delivery.id,
            status=delivery.status.value,
            expires_at=delivery.created_at + DELIVERIES_KEPT,
        )

    def delivery(self, org_id: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        try:
            item = WebhookDeliveryModel.get(
                webhook_endpoint_key(org_id, webhook_id), delivery_id, consistent_read=True
            )
        except DoesNotExist:
            return None
        return _delivery(item)

    def save_delivery(self, delivery: Delivery) -> None:
        self._delivery_item(delivery).save()

    def list_deliveries(
        self, org_id: str, webhook_id: str, *, limit: int, cursor: str | None
    ) -> Page[Delivery]:
        listing = f"{DELIVERIES_LISTING}:{webhook_id}"
        start = decode_cursor(cursor, org_id=org_id, listing=listing)
        result = WebhookDeliveryModel.query(
            webhook_endpoint_key(org_id, webhook_id),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
        )
        return sealed_page(result, _delivery, org_id=org_id, listing=listing)
