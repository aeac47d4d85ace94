"""Webhook routes (owners and admins, signed in): parse, call one service method, map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from outreach.api.deps import CallerDep, no_store
from outreach.api.pagination import PageQueryDep
from outreach.api.problems import problem_responses
from outreach.webhooks.schemas import (
    DeliveriesPublic,
    DeliveryPublic,
    WebhookCreate,
    WebhookPublic,
    WebhooksPublic,
    WebhookUpdate,
    WebhookWithSecretPublic,
)
from outreach.webhooks.service import WebhookService, get_webhook_service

WebhookServiceDep = Annotated[WebhookService, Depends(get_webhook_service)]
FORBIDDEN = {403: "The caller is a member, or an API key (keys never manage webhooks)."}

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        described={
            **FORBIDDEN,
            409: "The organization has 20 endpoints already.",
            422: "The URL is not https, or its host resolves to a private, loopback, "
            "link-local, multicast or metadata address.",
        }
    ),
)
def create_webhook(
    body: WebhookCreate, caller: CallerDep, service: WebhookServiceDep, response: Response
) -> WebhookWithSecretPublic:
    """Register an endpoint (owner or admin). `secret` signs its deliveries (Standard
    Webhooks) and is shown in this answer only."""
    endpoint, secret = service.create(
        caller, url=body.url, events=tuple(body.events), description=body.description
    )
    no_store(response)
    return WebhookWithSecretPublic.with_secret(endpoint, secret)


@router.get("", responses=problem_responses(described=FORBIDDEN))
def list_webhooks(
    caller: CallerDep, service: WebhookServiceDep, page: PageQueryDep
) -> WebhooksPublic:
    """The organization's endpoints, oldest first."""
    return WebhooksPublic.of(service.list_endpoints(caller, limit=page.limit, cursor=page.cursor))


@router.get("/{webhook_id}", responses=problem_responses(described=FORBIDDEN))
def get_webhook(webhook_id: str, caller: CallerDep, service: WebhookServiceDep) -> WebhookPublic:
    """One endpoint, with why it was disabled, if it was."""
    return WebhookPublic.of(service.endpoint(caller, webhook_id))


@router.patch(
    "/{webhook_id}",
    responses=problem_responses(
        described={**FORBIDDEN, 422: "A URL that is not https or reaches no public address."}
    ),
)
def update_webhook(
    webhook_id: str, body: WebhookUpdate, caller: CallerDep, service: WebhookServiceDep
) -> WebhookPublic:
    """Change the URL, events, description or `enabled` (true again clears a disabled
    endpoint's reason)."""
    return WebhookPublic.of(service.update(caller, webhook_id, body.to_domain()))


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(described=FORBIDDEN),
)
def delete_webhook(webhook_id: str, caller: CallerDep, service: WebhookServiceDep) -> Response:
    """Delete an endpoint: nothing more is delivered to it."""
    service.delete(caller, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret", responses=problem_responses(described=FORBIDDEN))
def rotate_webhook_secret(
    webhook_id: str, caller: CallerDep, service: WebhookServiceDep, response: Response
) -> WebhookWithSecretPublic:
    """A new signing secret, shown in this answer only; the old one signs too (a second
    signature) for 24 hours, so the receiver can switch without losing deliveries."""
    endpoint, secret = service.rotate_secret(caller, webhook_id)
    no_store(response)
    return WebhookWithSecretPublic.with_secret(endpoint, secret)


@router.get("/{webhook_id}/deliveries", responses=problem_responses(described=FORBIDDEN))
def list_webhook_deliveries(
    webhook_id: str, caller: CallerDep, service: WebhookServiceDep, page: PageQueryDep
) -> DeliveriesPublic:
    """The endpoint's deliveries, newest first (kept 30 days): each with its last
    attempt's status code, duration, error and next retry."""
    return DeliveriesPublic.of(
        service.deliveries(caller, webhook_id, limit=page.limit, cursor=page.cursor)
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(
        described={**FORBIDDEN, 409: "The endpoint is disabled: enable it first."}
    ),
)
def retry_webhook_delivery(
    webhook_id: str, delivery_id: str, caller: CallerDep, service: WebhookServiceDep
) -> DeliveryPublic:
    """Send a delivery again now (202: queued), whatever became of it; its attempts count
    from 0 again. 409 while the endpoint is disabled."""
    return DeliveryPublic.of(service.retry(caller, webhook_id, delivery_id))


routers = [router]
