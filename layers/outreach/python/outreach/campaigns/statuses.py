"""The statuses of a campaign and of its recipients, in a module of their own.

The inbound path records delivery receipts against a recipient's status without
needing the campaign's domain objects, whose dataclasses cost a cold start some
30 ms to build (issue 16); :mod:`outreach.campaigns.domain` re-exports both.
"""

from __future__ import annotations

from enum import StrEnum


class CampaignStatus(StrEnum):
    """A campaign's ``status`` (``api-contract.md``: draft until started; start, pause,
    resume and cancel move it)."""

    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class RecipientStatus(StrEnum):
    """Where one recipient of a campaign stands. ``sending``: a pending recipient whose
    number its campaign claimed, between the claim and the outcome (the claim is on the
    number's history, :mod:`outreach.sending.repository`; ``sending-rules.md``)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


__all__ = ["CampaignStatus", "RecipientStatus"]
