"""The webhook endpoint rules (owners and admins, signed in): register, list, change,
rotate the secret of, and delete endpoints; read and retry their deliveries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any

from outreach.clock import Clock, SystemClock
from outreach.config import get_settings
from outreach.data.binding import ensure_models_bound
from outreach.data.pages import Page
from outreach.errors import Conflict, NotFound, ValidationFailed
from outreach.identity.domain import Caller, require_manager, require_person
from outreach.ids import is_id, new_id
from outreach.webhooks.addresses import Destination, RefusedDestination, destination
from outreach.webhooks.domain import (
    MAX_ENDPOINTS,
    ROTATION_GRACE,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointChanges,
    new_secret,
)
from outreach.webhooks.ports import WebhookStore, WorkQueue
from outreach.webhooks.queue import configured_queue
from outreach.webhooks.repository import WebhookRepository
from outreach.webhooks.worker import deliver_message

# Checks a URL as a delivery would (addresses.destination with the process's settings).
type UrlCheck = Callable[[str], Destination]


def _guard(caller: Caller) -> None:
    require_person(caller)
    require_manager(caller)


class WebhookService:
    """Every endpoint rule; routes only parse and map. ``check_url`` refuses a URL a
    delivery could not reach (:mod:`outreach.webhooks.addresses`); ``queue`` takes a
    delivery retried by hand."""

    def __init__(
        self, *, store: WebhookStore, queue: WorkQueue, check_url: UrlCheck, clock: Clock
    ) -> None:
        self._store = store
        self._queue = queue
        self._check_url = check_url
        self._clock = clock

    def _checked(self, url: str) -> str:
        try:
            self._check_url(url)
        except RefusedDestination as refused:
            raise ValidationFailed(
                str(refused), [{"loc": ["body", "url"], "msg": str(refused)}]
            ) from refused
        return url

    def create(
        self, caller: Caller, *, url: str, events: tuple[str, ...], description: str
    ) -> tuple[Endpoint, str]:
        """A new, enabled endpoint and its signing secret (shown this once). 422 for a URL
        that is not https or reaches no public address; 409 past
        :data:`MAX_ENDPOINTS` endpoints."""
        _guard(caller)
        self._checked(url)
        if len(self._store.endpoints(caller.org_id)) >= MAX_ENDPOINTS:
            raise Conflict(f"An organization has at most {MAX_ENDPOINTS} webhook endpoints.")
        now = self._clock.now()
        endpoint = Endpoint(
            id=new_id(now),
            org_id=caller.org_id,
            url=url,
            events=events,
            description=description,
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        secret = new_secret()
        self._store.create_endpoint(endpoint, secret)
        return endpoint, secret

    def list_endpoints(self, caller: Caller, *, limit: int, cursor: str | None) -> Page[Endpoint]:
        _guard(caller)
        return self._store.list_endpoints(caller.org_id, limit=limit, cursor=cursor)

    def endpoint(self, caller: Caller, webhook_id: str) -> Endpoint:
        _guard(caller)
        return self._store.endpoint(caller.org_id, self._id(webhook_id))

    def update(self, caller: Caller, webhook_id: str, changes: EndpointChanges) -> Endpoint:
        """Change the URL (checked again), events, description or ``enabled`` (enabling a
        disabled endpoint clears its reason and its failing streak)."""
        _guard(caller)
        if changes.url is not None:
            self._checked(changes.url)
        return self._store.update_endpoint(
            caller.org_id, self._id(webhook_id), changes, now=self._clock.now()
        )

    def rotate_secret(self, caller: Caller, webhook_id: str) -> tuple[Endpoint, str]:
        """A new signing secret (shown this once); the old one signs too for a day."""
        _guard(caller)
        now = self._clock.now()
        secret = new_secret()
        endpoint = self._store.rotate_secret(
            caller.org_id,
            self._id(webhook_id),
            secret,
            previous_until=now + ROTATION_GRACE,
            now=now,
        )
        return endpoint, secret

    def delete(self, caller: Caller, webhook_id: str) -> None:
        _guard(caller)
        if not self._store.delete_endpoint(caller.org_id, self._id(webhook_id)):
            raise NotFound("Webhook not found.")

    def deliveries(
        self, caller: Caller, webhook_id: str, *, limit: int, cursor: str | None
    ) -> Page[Delivery]:
        """The endpoint's recent deliveries, newest first (kept 30 days)."""
        endpoint = self.endpoint(caller, webhook_id)
        return self._store.list_deliveries(caller.org_id, endpoint.id, limit=limit, cursor=cursor)

    def retry(self, caller: Caller, webhook_id: str, delivery_id: str) -> Delivery:
        """Send a delivery again now, whatever its state: it is pending again, its
        attempts counted from 0 (a new round of retries if this attempt fails). 404 for an
        unknown delivery, 409 when the endpoint is disabled."""
        endpoint = self.endpoint(caller, webhook_id)
        found = self._store.delivery(caller.org_id, endpoint.id, delivery_id)
        if found is None:
            raise NotFound("Delivery not found.")
        if not endpoint.enabled:
            raise Conflict("The endpoint is disabled: enable it (PATCH enabled: true) first.")
        now = self._clock.now()
        again = replace(
            found, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now
        )
        self._store.save_delivery(again)
        self._queue.send(deliver_message(again))
        return again

    @staticmethod
    def _id(webhook_id: str) -> str:
        if not is_id(webhook_id):
            raise NotFound("Webhook not found.")
        return webhook_id


@lru_cache(maxsize=1)
def get_webhook_service() -> WebhookService:
    """The process-wide service on DynamoDB and the webhook work queue."""
    ensure_models_bound()
    settings = get_settings()
    return WebhookService(
        store=WebhookRepository(),
        queue=LazyQueue(),
        check_url=partial(destination, allow_loopback=settings.webhook_allow_loopback),
        clock=SystemClock(),
    )


class LazyQueue:
    """The work queue of ``WEBHOOK_QUEUE_URL``, made on first use (only a retry by hand
    queues from the API)."""

    def send(self, message: dict[str, Any], *, delay_seconds: int = 0) -> None:
        configured_queue().send(message, delay_seconds=delay_seconds)
