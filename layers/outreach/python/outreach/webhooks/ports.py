"""What the webhook rules need from storage and from the work queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from outreach.data.pages import Page
from outreach.webhooks.domain import Delivery, Endpoint, EndpointChanges, EndpointSecrets


class WebhookStore(Protocol):
    """An organization's endpoints and their deliveries, keyed by organization."""

    def create_endpoint(self, endpoint: Endpoint, secret: str) -> None:
        """Store a new endpoint with its signing secret."""
        ...

    def list_endpoints(self, org_id: str, *, limit: int, cursor: str | None) -> Page[Endpoint]:
        """A page of the organization's endpoints, oldest first (:class:`BadRequest` for a
        foreign or tampered cursor)."""
        ...

    def endpoints(self, org_id: str) -> list[Endpoint]:
        """Every endpoint of the organization (at most ``MAX_ENDPOINTS``)."""
        ...

    def endpoint(self, org_id: str, webhook_id: str) -> Endpoint:
        """One endpoint; :class:`NotFound` if the organization has none of that id."""
        ...

    def endpoint_and_secrets(
        self, org_id: str, webhook_id: str
    ) -> tuple[Endpoint, EndpointSecrets]:
        """One endpoint and its signing secrets, in one read; :class:`NotFound` if it is
        gone."""
        ...

    def update_endpoint(
        self, org_id: str, webhook_id: str, changes: EndpointChanges, *, now: datetime
    ) -> Endpoint:
        """Set the given fields (enabling clears the disabled reason and the failing
        streak); :class:`NotFound` if it is gone."""
        ...

    def rotate_secret(
        self, org_id: str, webhook_id: str, secret: str, *, previous_until: datetime, now: datetime
    ) -> Endpoint:
        """Make ``secret`` the signing one; the old one signs too until ``previous_until``.
        The endpoint after it; :class:`NotFound` if it is gone."""
        ...

    def delete_endpoint(self, org_id: str, webhook_id: str) -> bool:
        """Delete it (its deliveries expire); ``False`` if there was none."""
        ...

    def note_outcome(
        self, org_id: str, webhook_id: str, *, succeeded: bool, now: datetime
    ) -> datetime | None:
        """A delivery's final or retried outcome: a success ends the failing streak, a
        failure starts one if none runs. The streak's start after it (``None``: none)."""
        ...

    def disable(self, org_id: str, webhook_id: str, reason: str, *, now: datetime) -> None:
        """Disable the endpoint with ``reason`` (shown on it)."""
        ...

    def create_delivery(self, delivery: Delivery) -> bool:
        """Store a new delivery; ``False`` if this event's delivery to the endpoint exists
        (a redelivered event is delivered once)."""
        ...

    def delivery(self, org_id: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        """One delivery, read consistently; ``None`` if none."""
        ...

    def save_delivery(self, delivery: Delivery) -> None:
        """Write the delivery's state after an attempt (or a retry asked for)."""
        ...

    def list_deliveries(
        self, org_id: str, webhook_id: str, *, limit: int, cursor: str | None
    ) -> Page[Delivery]:
        """A page of the endpoint's deliveries, newest first."""
        ...


class WorkQueue(Protocol):
    """Where delivery work waits: one message per due attempt."""

    def send(self, message: dict[str, Any], *, delay_seconds: int = 0) -> None:
        """Queue ``message`` (JSON), visible after ``delay_seconds`` (at most 900)."""
        ...
