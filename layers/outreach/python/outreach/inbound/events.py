"""Parse what AWS End User Messaging SMS publishes to SNS: two-way texts and delivery events."""

from __future__ import annotations

import json
from typing import Any

from outreach.campaigns.statuses import RecipientStatus
from outreach.inbound.domain import DeliveryReceipt, InboundText

# Event types of pinpoint-sms-voice-v2's ``EventType`` enum (template.yaml's
# configuration set subscribes to exactly these; tests/infra checks both).
DELIVERED = {"TEXT_DELIVERED"}
# Final failures (the carrier or the service gave up on the message).
FAILED = {
    "TEXT_BLOCKED",
    "TEXT_CARRIER_BLOCKED",
    "TEXT_CARRIER_UNREACHABLE",
    "TEXT_INVALID",
    "TEXT_INVALID_MESSAGE",
    "TEXT_PROTECT_BLOCKED",
    "TEXT_SPAM",
    "TEXT_TTL_EXPIRED",
    "TEXT_UNREACHABLE",
}


def parse_sns_message(message: str) -> InboundText | DeliveryReceipt | None:
    """One SNS message body: a text, a receipt that changes a status, or ``None`` (ignore).

    Progress events (``TEXT_SUCCESSFUL``, ``TEXT_PENDING``, ``TEXT_QUEUED``) and the
    service's ``TEXT_UNKNOWN`` after 72 hours change nothing: the send stays ``sent``.
    """
    try:
        data: Any = json.loads(message)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if "originationNumber" in data and "messageBody" in data:
        return InboundText(
            from_number=str(data["originationNumber"]),
            to_number=str(data.get("destinationNumber", "")),
            body=str(data["messageBody"]),
            message_id=str(data["inboundMessageId"]) if data.get("inboundMessageId") else None,
        )
    event_type = str(data.get("eventType", ""))
    message_id = data.get("messageId")
    if not message_id:
        return None
    raw_context = data.get("context")
    context = (
        {str(k): str(v) for k, v in raw_context.items()} if isinstance(raw_context, dict) else {}
    )
    if event_type in DELIVERED:
        return DeliveryReceipt(
            message_id=str(message_id), status=RecipientStatus.DELIVERED, context=context
        )
    if event_type in FAILED:
        return DeliveryReceipt(
            message_id=str(message_id),
            status=RecipientStatus.FAILED,
            error_code=event_type,
            context=context,
        )
    return None
