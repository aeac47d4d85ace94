"""Webhook request and answer shapes (`api-contract.md`, Integrations)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from outreach.api.fields import PublicModel, StrictModel, UtcInstant, model_schema
from outreach.api.pagination import PagePublic
from outreach.webhooks.addresses import MAX_URL_LENGTH
from outreach.webhooks.domain import (
    EVENT_TYPES,
    MAX_DESCRIPTION,
    DeliveryStatus,
    Endpoint,
    EndpointChanges,
    EventType,
)


def _distinct(events: list[str]) -> list[str]:
    return list(dict.fromkeys(events))


Url = Annotated[
    str,
    Field(
        min_length=9,
        max_length=MAX_URL_LENGTH,
        json_schema_extra={"pattern": "^https://", "format": "uri"},
        description="An https URL whose host resolves to public addresses only (checked "
        "when it is saved and at every delivery: no private, loopback, link-local, "
        "multicast or metadata address).",
    ),
]
Events = Annotated[
    list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES)), AfterValidator(_distinct)
]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]


class WebhookCreate(StrictModel):
    """``POST /v1/webhooks``: where to deliver, and which events."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[
                {
                    "url": "https://crm.example.com/hooks/outreach",
                    "events": ["message.received", "contact.opted_out"],
                    "description": "CRM sync",
                }
            ]
        )
    )

    url: Url
    events: Events
    description: Description = ""


class WebhookUpdate(StrictModel):
    """``PATCH /v1/webhooks/{id}``: the fields to change. Setting ``enabled`` to true
    again clears a disabled endpoint's reason and its failing streak."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[{"events": ["message.received", "message.delivered"], "enabled": True}]
        )
    )

    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    enabled: bool | None = None

    def to_domain(self) -> EndpointChanges:
        return EndpointChanges(
            url=self.url,
            events=None if self.events is None else tuple(self.events),
            description=self.description,
            enabled=self.enabled,
        )


class WebhookPublic(PublicModel):
    """A webhook endpoint (never its secret). ``disabled_reason`` says why Outreach
    disabled it (every delivery failing for 3 days); ``failing_since`` when its current
    run of failures began."""

    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    failing_since: UtcInstant | None
    created_at: UtcInstant
    updated_at: UtcInstant


class WebhookWithSecretPublic(WebhookPublic):
    """An endpoint just made or whose secret was just rotated: ``secret`` (Standard
    Webhooks form, ``whsec_`` + base64) is shown in this answer only."""

    secret: str

    @classmethod
    def with_secret(cls, endpoint: Endpoint, secret: str) -> WebhookWithSecretPublic:
        return cls(**WebhookPublic.of(endpoint).model_dump(), secret=secret)


class WebhooksPublic(PagePublic[WebhookPublic]):
    """A page of endpoints, oldest first."""


class DeliveryPublic(PublicModel):
    """One event's delivery to the endpoint and its last attempt: the answer's
    ``status_code`` (null: none, e.g. a timeout), ``duration_ms``, ``error``, the
    answer's first 1 kB, and ``next_attempt_at`` while it is ``pending``."""

    id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    status_code: int | None
    duration_ms: int | None
    error: str | None
    response_excerpt: str | None
    next_attempt_at: UtcInstant | None
    created_at: UtcInstant
    updated_at: UtcInstant


class DeliveriesPublic(PagePublic[DeliveryPublic]):
    """A page of deliveries, newest first (kept 30 days)."""
