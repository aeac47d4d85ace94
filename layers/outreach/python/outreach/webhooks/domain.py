"""Webhook endpoints and deliveries: the events, the signing, when to retry and give up.

Deliveries follow the Standard Webhooks specification (https://www.standardwebhooks.com):
a POST of ``{"type", "timestamp", "data"}`` with the headers ``webhook-id`` (the event's
id, the same on every attempt: receivers deduplicate by it), ``webhook-timestamp`` (Unix
seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>``, computed by the
``standardwebhooks`` library, so any of its implementations verifies it). After a
secret's rotation the old secret signs too, for :data:`ROTATION_GRACE`, so a receiver
can switch without losing deliveries.

An attempt fails on a timeout, a connection error, or an answer other than 2xx. A
timeout, a connection error, a 5xx or a 429 is retried (after ``Retry-After`` when the
endpoint gives one and it is later than the schedule's), on :data:`RETRY_DELAYS`: more
than 24 hours in all; then the delivery is given up. Any other answer is final. An
endpoint whose deliveries have failed without a success for :data:`DISABLE_AFTER` is
disabled, with its reason.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Literal, get_args

from standardwebhooks import Webhook as StandardWebhook

from outreach.clock import to_iso

EventType = Literal[
    "message.received",
    "message.sent",
    "message.delivered",
    "message.failed",
    "contact.opted_out",
    "contact.opted_in",
    "campaign.started",
    "campaign.paused",
    "campaign.completed",
    "import.completed",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the form's prefix, not a secret
SECRET_BYTES = 32
ATTEMPT_TIMEOUT_SECONDS = 5.0
RESPONSE_KEPT_BYTES = 1024
# Waits after attempts 1, 2, ...: 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 8 h, 10 h (25.6 h).
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (5, 60, 300, 1800, 7200, 18000, 28800, 36000))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = timedelta(days=3)
ROTATION_GRACE = timedelta(hours=24)
MAX_ENDPOINTS = 20  # per organization
MAX_DESCRIPTION = 500
DELIVERIES_KEPT = timedelta(days=30)


class DeliveryStatus(StrEnum):
    """A delivery's state: ``pending`` (an attempt is due), ``succeeded``, ``failed``
    (a final answer, not retried), ``given_up`` (retries spent)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    GIVEN_UP = "given_up"


@dataclass(frozen=True)
class Endpoint:
    """An organization's webhook endpoint (never its secrets: :class:`EndpointSecrets`)."""

    id: str
    org_id: str
    url: str
    events: tuple[str, ...]
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    disabled_reason: str | None = None
    failing_since: datetime | None = None


@dataclass(frozen=True)
class EndpointChanges:
    """A PATCH of an endpoint: the fields to set (``None``: unchanged)."""

    url: str | None = None
    events: tuple[str, ...] | None = None
    description: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True)
class Delivery:
    """One event's delivery to one endpoint (its ``id`` is the event's id) and its last
    attempt: status code, duration, error, the answer's first bytes, the next try."""

    id: str
    org_id: str
    webhook_id: str
    event_type: str
    body: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    updated_at: datetime
    status_code: int | None = None
    duration_ms: int | None = None
    error: str | None = None
    response_excerpt: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class EndpointSecrets:
    """The secret that signs, and the one it replaced until ``previous_until``."""

    current: str = field(repr=False)
    previous: str | None = field(default=None, repr=False)
    previous_until: datetime | None = None

    def signing(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign at ``now``: the current one, and the previous one within
        its grace."""
        if self.previous and self.previous_until and now < self.previous_until:
            return (self.current, self.previous)
        return (self.current,)


@dataclass(frozen=True)
class Event:
    """A fact to tell: its stable id (``webhook-id``), type, organization, when, data."""

    id: str
    type: str
    org_id: str
    occurred_at: datetime
    data: dict[str, Any]

    def body(self) -> str:
        """The JSON body every delivery of the event sends."""
        return json.dumps(
            {"type": self.type, "timestamp": to_iso(self.occurred_at), "data": self.data},
            separators=(",", ":"),
            sort_keys=True,
        )


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: ``whsec_`` + base64 of 32 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_headers(
    event_id: str, body: str, signing_secrets: tuple[str, ...], now: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers of a delivery sent at ``now``: one ``v1``
    signature per secret, space-separated (the specification's form)."""
    signatures = [
        StandardWebhook(secret).sign(msg_id=event_id, timestamp=now, data=body)
        for secret in signing_secrets
    ]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


@dataclass(frozen=True)
class AttemptResult:
    """One attempt's outcome: the answer's status (``None``: no answer), how long it
    took, the error (``None`` on a 2xx), the answer's first bytes, its ``Retry-After``."""

    status_code: int | None
    duration_ms: int
    error: str | None = None
    response_excerpt: str = ""
    retry_after: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """A timeout or connection error (no status), a 5xx or a 429."""
        code = self.status_code
        return code is None or code >= 500 or code == 429


def retry_after_delay(header: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as a delay from ``now``;
    ``None`` when absent or unreadable."""
    if not header:
        return None
    text = header.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(when - now, timedelta(0)) if when.tzinfo else None


def next_attempt_at(attempts: int, result: AttemptResult, now: datetime) -> datetime | None:
    """When the next attempt of a delivery is due after its ``attempts``-th failed with
    ``result``; ``None`` when it is not retried (a final answer, or retries spent)."""
    if result.succeeded or not result.retryable or attempts >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[attempts - 1]
    asked = retry_after_delay(result.retry_after, now)
    if asked is not None:
        delay = max(delay, min(asked, RETRY_DELAYS[-1]))
    return now + delay


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    """Whether an endpoint failing since ``failing_since`` (no success since) is to be
    disabled at ``now``."""
    return failing_since is not None and now - failing_since >= DISABLE_AFTER
