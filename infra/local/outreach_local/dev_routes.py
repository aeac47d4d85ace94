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
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from outreach.api.deps import CallerDep
from outreach.api.fields import instant_text
from outreach.campaigns.statuses import RecipientStatus
from outreach.clock import to_iso
from outreach.errors import NotFound, ValidationFailed
from outreach.identity.repository import IdentityRepository
from outreach.inbound.domain import DeliveryReceipt, InboundText
from outreach.inbound.service import build_inbound_service
from outreach.phones import InvalidPhoneNumber, to_e164
from outreach.sms.outbox import outbox_repository
from outreach_local.runtime import service_name, service_scope
from outreach_local.ticks import get_timelines, run_organization_tick

router = APIRouter(prefix="/v1/dev", tags=["dev (local stack only)"])


# Simulated instants a tick accepts: room for the organization's clock to run on.
EARLIEST_TICK = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TICK = datetime(9000, 1, 1, tzinfo=UTC)


def _instant_or_none(value: object) -> object:
    return None if value is None else instant_text(value)


def _within_tick_range(instant: datetime | None) -> datetime | None:
    if instant is None:
        return None
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    if not EARLIEST_TICK <= aware < LATEST_TICK:
        raise ValueError("must be from 1970-01-01 to before 9000-01-01")
    return aware.astimezone(UTC)


class TickBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # RFC 3339 text only: a number is a 422, not seconds since 1970 (issue 18).
    now: Annotated[
        datetime | None, BeforeValidator(_instant_or_none), AfterValidator(_within_tick_range)
    ] = None


@router.post("/tick")
async def tick(caller: CallerDep, body: TickBody | None = None) -> dict[str, Any]:
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
    items = [
        {
            "message_id": message.message_id,
            "from": message.from_number,
            "to": message.to_number,
            "body": message.body,
            "sent_at": to_iso(message.sent_at),
        }
        for message in outbox_repository().messages(caller.org_id)
    ]
    return {"items": items}


class InboundBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from", min_length=1, max_length=40)
    to: str = Field(min_length=1, max_length=40)
    body: str = Field(max_length=2000)


class DeliveryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: str = Field(min_length=1, max_length=200)
    status: Literal["delivered", "failed"]
    error_code: str | None = Field(default=None, max_length=100)


@router.post("/inbound")
def inbound(body: InboundBody, caller: CallerDep) -> dict[str, str]:
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
def delivery(body: DeliveryBody, caller: CallerDep) -> dict[str, str]:
    """Handled exactly like a carrier delivery receipt (which carries the message's context),
    at the organization's time. Another organization's message is an unknown one."""
    sent = outbox_repository().get(caller.org_id, body.message_id)
    context = sent.context if sent else {}
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
