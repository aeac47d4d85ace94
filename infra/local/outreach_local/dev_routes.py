"""The ``/v1/dev/*`` routes: only the local stack serves them; template.yaml never routes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from pynamodb.exceptions import DoesNotExist
from starlette.concurrency import run_in_threadpool

from outreach.api.auth import CallerDep
from outreach.campaigns.domain import RecipientStatus
from outreach.clock import to_iso
from outreach.data.binding import ensure_models_bound
from outreach.data.models import OutboxMessageModel
from outreach.data.pynamo import raw_map
from outreach.inbound.service import DeliveryReceipt, InboundText, get_inbound_service
from outreach.sms.providers import SANDBOX_BOX
from outreach_local.ticks import run_tick

router = APIRouter(prefix="/v1/dev", tags=["dev (local stack only)"])


class TickRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: datetime | None = None


@router.post("/tick")
async def tick(caller: CallerDep, body: TickRequest | None = None) -> dict[str, Any]:
    """Run one scheduled dispatch at `now` (default: the real clock), synchronously, to the
    end: the same dispatch and send code as the cloud, with pacing on a simulated clock."""
    del caller
    instant = body.now if body and body.now else datetime.now(UTC)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    result = await run_in_threadpool(run_tick, instant.astimezone(UTC))
    return result.as_dict()


@router.get("/outbox")
def outbox(caller: CallerDep) -> dict[str, Any]:
    """What the sandbox SMS provider has "sent" for the caller's organization, oldest first."""
    ensure_models_bound()
    items = [
        {
            "message_id": item.message_id,
            "from": item.from_number,
            "to": item.to_number,
            "body": item.body,
            "sent_at": to_iso(item.sent_at),
        }
        for item in OutboxMessageModel.query(SANDBOX_BOX)
        if item.org_id == caller.org_id
    ]
    return {"items": items}


class InboundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from", min_length=1, max_length=40)
    to: str = Field(min_length=1, max_length=40)
    body: str = Field(max_length=2000)


class DeliveryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: str = Field(min_length=1, max_length=200)
    status: Literal["delivered", "failed"]
    error_code: str | None = Field(default=None, max_length=100)


@router.post("/inbound")
def inbound(body: InboundRequest, caller: CallerDep) -> dict[str, str]:
    """Handled exactly like a text from the carrier (STOP, START, HELP, replies)."""
    del caller
    outcome = get_inbound_service().handle_text(
        InboundText(from_number=body.from_, to_number=body.to, body=body.body)
    )
    return {"outcome": outcome.value}


@router.post("/delivery")
def delivery(body: DeliveryRequest, caller: CallerDep) -> dict[str, str]:
    """Handled exactly like a carrier delivery receipt (which carries the message's context)."""
    del caller
    ensure_models_bound()
    try:
        sent = OutboxMessageModel.get(SANDBOX_BOX, body.message_id)
        context = {str(k): str(v) for k, v in raw_map(sent.context).items()}
    except DoesNotExist:
        context = {}
    outcome = get_inbound_service().handle_receipt(
        DeliveryReceipt(
            message_id=body.message_id,
            status=RecipientStatus(body.status),
            error_code=body.error_code,
            context=context,
        )
    )
    return {"outcome": outcome.value}
