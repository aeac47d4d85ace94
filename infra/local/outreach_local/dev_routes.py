"""The ``/v1/dev/*`` routes: only the local stack serves them; template.yaml never routes them.

Each acts for the caller's organization only: a tick moves its campaigns on its
own timeline, the outbox lists its messages, an inbound text must be addressed
to its sender number, and a receipt for another organization's message is
answered like one for a message that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pynamodb.exceptions import DoesNotExist
from starlette.concurrency import run_in_threadpool

from outreach.api.auth import CallerDep
from outreach.campaigns.domain import RecipientStatus
from outreach.clock import to_iso
from outreach.data.binding import ensure_models_bound
from outreach.data.models import OutboxMessageModel
from outreach.data.pynamo import raw_map
from outreach.errors import NotFound, ValidationFailed
from outreach.identity.repository import IdentityRepository
from outreach.inbound.service import DeliveryReceipt, InboundText, build_inbound_service
from outreach.phones import InvalidPhoneNumber, to_e164
from outreach.sms.providers import sandbox_box
from outreach_local.runtime import service_name, service_scope
from outreach_local.ticks import get_timelines, run_organization_tick

router = APIRouter(prefix="/v1/dev", tags=["dev (local stack only)"])


# Simulated instants a tick accepts: room for the organization's clock to run on.
EARLIEST_TICK = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TICK = datetime(9000, 1, 1, tzinfo=UTC)


def _within_tick_range(instant: datetime | None) -> datetime | None:
    if instant is None:
        return None
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    if not EARLIEST_TICK <= aware < LATEST_TICK:
        raise ValueError("must be from 1970-01-01 to before 9000-01-01")
    return aware.astimezone(UTC)


class TickRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: Annotated[datetime | None, AfterValidator(_within_tick_range)] = None


@router.post("/tick")
async def tick(caller: CallerDep, body: TickRequest | None = None) -> dict[str, Any]:
    """Run one scheduled dispatch of the caller's organization at `now` (default: the real
    clock), synchronously, to the end: the cloud's dispatch and send code, paced on the
    organization's simulated clock. At most 60 times `messages_per_second` texts leave per tick.
    Afterwards the organization's time is this tick's: inbound texts, receipts, confirmations,
    opt-outs and `sends_today` follow it."""
    instant = body.now if body and body.now else datetime.now(UTC)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    result = await run_in_threadpool(run_organization_tick, caller.org_id, instant.astimezone(UTC))
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
        for item in OutboxMessageModel.query(sandbox_box(caller.org_id))
    ]
    items.sort(key=lambda item: (item["sent_at"], item["message_id"]))
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
    """Handled exactly like a text from the carrier (STOP, START, HELP, replies), at the
    organization's time. `to` must be the caller's organization's sender number: 422 when it
    is not a phone number, 404 when it is not that number."""
    try:
        to_number = to_e164(body.to)
    except InvalidPhoneNumber as error:
        raise ValidationFailed(
            "`to` is not a valid phone number.", [{"loc": ["body", "to"], "msg": str(error)}]
        ) from error
    organization = IdentityRepository().get_organization(caller.org_id)
    if organization.sender_number != to_number:
        raise NotFound(f"{to_number} is not your organization's sender number.")
    service = build_inbound_service(get_timelines().clock(caller.org_id))
    with service_scope(service_name("inbound")):
        outcome = service.handle_text(
            InboundText(from_number=body.from_, to_number=to_number, body=body.body)
        )
    return {"outcome": outcome.value}


@router.post("/delivery")
def delivery(body: DeliveryRequest, caller: CallerDep) -> dict[str, str]:
    """Handled exactly like a carrier delivery receipt (which carries the message's context),
    at the organization's time. Another organization's message is an unknown one."""
    ensure_models_bound()
    try:
        sent = OutboxMessageModel.get(sandbox_box(caller.org_id), body.message_id)
        context = {str(k): str(v) for k, v in raw_map(sent.context).items()}
    except DoesNotExist:
        context = {}
    service = build_inbound_service(get_timelines().clock(caller.org_id))
    with service_scope(service_name("inbound")):
        outcome = service.handle_receipt(
            DeliveryReceipt(
                message_id=body.message_id,
                status=RecipientStatus(body.status),
                error_code=body.error_code,
                context=context,
            )
        )
    return {"outcome": outcome.value}
