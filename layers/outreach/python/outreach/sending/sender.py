"""The sender: one campaign's sends for one tick, keeping every promise of the sending rules.

For each open recipient, in order: the time rules (campaign window and days,
dates, the recipient's quiet hours in every zone the number may be in), a slot
of the day's cap, the claim, the opt-out list and the campaign's status read
at the moment of sending, then the provider, then the outcome recorded with
its counters. See :mod:`outreach.sending.repository` for the claim protocol.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from outreach.campaigns.domain import (
    SEND_DEADLINE_SECONDS,
    Campaign,
    CampaignStatus,
    RecipientStatus,
)
from outreach.campaigns.templates import parse_template, render_for_contact
from outreach.clock import Clock, SystemClock
from outreach.identity.domain import Organization
from outreach.identity.repository import IdentityRepository
from outreach.observability import logger
from outreach.sending.dispatch import CampaignWork
from outreach.sending.repository import Candidate, SendingRepository
from outreach.sending.rules import (
    QuietHours,
    SendWindow,
    campaign_window_allows,
    quiet_hours_allow,
    recipient_zones,
    within_dates,
)
from outreach.sms.providers import (
    OutboundMessage,
    PermanentSendError,
    SmsProvider,
    TransientSendError,
    UnknownOutcomeError,
    get_sms_provider,
)

MAX_ATTEMPTS = 3
# A claim not recorded within the lease ends "unknown" (the worker died).
CLAIM_LEASE = timedelta(minutes=5)
# Candidates are read WINDOW at a time and tried PAGE at a time (one batch read each).
WINDOW = 500
PAGE = 50


@dataclass
class SendReport:
    """What one campaign's tick did."""

    org_id: str
    campaign_id: str
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    unknown: int = 0
    retried: int = 0
    quiet_hours_deferred: int = 0
    cap_reached: bool = False
    completed: bool = False
    stopped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "unknown": self.unknown,
            "retried": self.retried,
            "quiet_hours_deferred": self.quiet_hours_deferred,
            "cap_reached": self.cap_reached,
            "completed": self.completed,
        }


@dataclass
class FaultHooks:
    """Points where tests inject crashes (a worker killed mid-send). Empty in production."""

    after_claim: Callable[[Candidate], None] | None = None
    after_provider: Callable[[Candidate], None] | None = None


def retry_delay(attempt: int) -> timedelta:
    """Backoff before attempt ``attempt + 1``: 1, 2, 4 minutes."""
    return timedelta(minutes=2 ** max(0, attempt - 1))


class CampaignSender:
    """Sends for one organization's campaigns, paced by its sender number's rate."""

    def __init__(
        self,
        *,
        repository: SendingRepository,
        organizations: IdentityRepository,
        provider: SmsProvider,
        clock: Clock,
        hooks: FaultHooks | None = None,
    ) -> None:
        self._repo = repository
        self._organizations = organizations
        self._provider = provider
        self._clock = clock
        self._hooks = hooks or FaultHooks()
        self._last_send: datetime | None = None
        self._random = random.Random()  # noqa: S311 - spreading work, not security

    def run(self, work: CampaignWork, *, budget: int | None = None) -> SendReport:
        """Send what the rules allow now, at most ``budget`` (default: a minute at the rate)."""
        report = SendReport(org_id=work.org_id, campaign_id=work.campaign_id)
        campaign = self._repo.campaign(work.org_id, work.campaign_id)
        if campaign is None or campaign.status is not CampaignStatus.ACTIVE:
            report.stopped = "not active"
            return report
        organization = self._organizations.get_organization(work.org_id)
        now = self._clock.now()
        if campaign.end_at is not None and now >= campaign.end_at:
            self._finish(campaign, now, report, reason="campaign ended")
            return report
        if not organization.sender_number:
            report.stopped = "no sender number"
            return report
        window = SendWindow.from_hhmm(
            campaign.timezone, campaign.window.start, campaign.window.end, campaign.window.days
        )
        if not (
            within_dates(now, campaign.start_at, campaign.end_at)
            and campaign_window_allows(now, window)
        ):
            report.stopped = "outside the campaign's window"
            return report
        limit = budget if budget is not None else 60 * organization.messages_per_second
        self._send_open_recipients(campaign, organization, limit, report)
        if (
            not report.cap_reached
            and report.stopped is None
            and self._repo.open_count(campaign.org_id, campaign.id) == 0
        ):
            report.completed = self._repo.complete(campaign.org_id, campaign.id, self._clock.now())
        return report

    def _send_open_recipients(
        self, campaign: Campaign, organization: Organization, limit: int, report: SendReport
    ) -> None:
        quiet = QuietHours.from_hhmm(organization.quiet_hours_start, organization.quiet_hours_end)
        templates = {v.name: parse_template(v.body) for v in campaign.variants}
        candidates = self._repo.open_recipients(campaign.org_id, campaign.id)
        while window := list(islice(candidates, WINDOW)):
            # Concurrent workers of one campaign (a duplicated delivery) read the
            # same index page: shuffled, they rarely reach for the same recipient.
            self._random.shuffle(window)
            for start in range(0, len(window), PAGE):
                page = window[start : start + PAGE]
                if not self._send_page(
                    campaign, organization, quiet, templates, page, limit, report
                ):
                    return

    def _send_page(  # noqa: PLR0917 - one page of one campaign's state
        self,
        campaign: Campaign,
        organization: Organization,
        quiet: QuietHours,
        templates: dict[str, Any],
        page: list[Candidate],
        limit: int,
        report: SendReport,
    ) -> bool:
        """Try each candidate of a page; ``False`` once the tick must stop."""
        now = self._clock.now()
        self._expire_leases(page, now, report)
        ready = [
            c
            for c in page
            if c.status is RecipientStatus.PENDING and not (c.retry_at and c.retry_at > now)
        ]
        if not ready:
            return True
        contacts = self._repo.contacts(campaign.org_id, (c.contact_id for c in ready))
        texted = self._repo.texted_before(campaign.org_id, (c.phone for c in ready))
        for candidate in ready:
            if report.sent >= limit:
                report.stopped = "budget used"
                return False
            contact = contacts.get(candidate.contact_id)
            if contact is None:
                if self._repo.record(
                    candidate,
                    outcome=RecipientStatus.SKIPPED,
                    now=self._clock.now(),
                    token=None,
                    error="contact deleted",
                ):
                    report.skipped += 1
                continue
            zones = recipient_zones(contact.timezone, candidate.phone, organization.timezone)
            if not quiet_hours_allow(self._clock.now(), quiet, zones):
                report.quiet_hours_deferred += 1
                continue
            body = render_for_contact(templates[candidate.variant], contact.values)
            if candidate.phone not in texted and organization.opt_out_footer:
                body = f"{body}\n{organization.opt_out_footer}"
            if not self._send_one(campaign, organization, candidate, body, report):
                return False
            texted.add(candidate.phone)
        return True

    def _send_one(
        self,
        campaign: Campaign,
        organization: Organization,
        candidate: Candidate,
        body: str,
        report: SendReport,
    ) -> bool:
        """Claim, slot, checks, provider, outcome. ``False`` when the tick must stop."""
        assert organization.sender_number is not None
        self._pace(organization.messages_per_second)
        now = self._clock.now()
        day = now.astimezone(ZoneInfo(campaign.timezone)).date().isoformat()
        token = uuid.uuid4().hex
        # Claim first: a recipient another worker holds costs one call, not three.
        if not self._repo.claim(candidate, token=token, now=now, lease=CLAIM_LEASE):
            return True
        if not self._repo.reserve_slot(
            campaign.org_id, campaign.id, day, campaign.daily_limit, now
        ):
            self._repo.release(candidate, token=token, now=now, retry_at=None)
            report.cap_reached = True
            report.stopped = "daily limit reached"
            return False
        if self._hooks.after_claim:
            self._hooks.after_claim(candidate)
        # At the moment of sending: the opt-out list and the campaign's status.
        if self._repo.is_opted_out(campaign.org_id, candidate.phone):
            self._repo.record(
                candidate, outcome=RecipientStatus.SKIPPED, now=now, token=token, error="opted out"
            )
            self._repo.release_slot(campaign.org_id, campaign.id, day)
            report.skipped += 1
            return True
        status = self._repo.campaign_status(campaign.org_id, campaign.id)
        checked = time.monotonic()
        if status is not CampaignStatus.ACTIVE:
            self._abandon(candidate, token=token, status=status, now=now, day=day, report=report)
            return False
        message = OutboundMessage(
            org_id=campaign.org_id,
            from_number=organization.sender_number,
            to_number=candidate.phone,
            body=body,
            context={"campaign_id": campaign.id, "contact_id": candidate.contact_id},
        )
        if time.monotonic() - checked > SEND_DEADLINE_SECONDS:
            # Stalled past the deadline a pause relies on: give this one back, go on.
            self._repo.release(candidate, token=token, now=now, retry_at=None)
            self._repo.release_slot(campaign.org_id, campaign.id, day)
            return True
        self._deliver(candidate, message, token=token, now=now, day=day, report=report)
        return True

    def _deliver(
        self,
        candidate: Candidate,
        message: OutboundMessage,
        *,
        token: str,
        now: datetime,
        day: str,
        report: SendReport,
    ) -> None:
        """Call the provider and record what happened."""
        org_id, campaign_id = candidate.org_id, candidate.campaign_id
        try:
            result = self._provider.send(message, sent_at=now)
        except PermanentSendError as error:
            self._repo.record(
                candidate, outcome=RecipientStatus.FAILED, now=now, token=token, error=error.code
            )
            self._repo.release_slot(org_id, campaign_id, day)
            report.failed += 1
            return
        except TransientSendError as error:
            self._repo.release_slot(org_id, campaign_id, day)
            if candidate.attempts + 1 >= MAX_ATTEMPTS:
                self._repo.record(
                    candidate,
                    outcome=RecipientStatus.FAILED,
                    now=now,
                    token=token,
                    error=error.code,
                )
                report.failed += 1
            else:
                retry_at = now + retry_delay(candidate.attempts + 1)
                self._repo.release(candidate, token=token, now=now, retry_at=retry_at)
                report.retried += 1
            return
        except UnknownOutcomeError as error:
            # It may have been sent: report it, never send it again.
            self._repo.record(
                candidate, outcome=RecipientStatus.UNKNOWN, now=now, token=token, error=error.code
            )
            report.unknown += 1
            return
        if self._hooks.after_provider:
            self._hooks.after_provider(candidate)
        self._repo.record(
            candidate,
            outcome=RecipientStatus.SENT,
            now=now,
            token=token,
            message_id=result.message_id,
        )
        self._repo.note_first_and_last_send(candidate, now=now)
        self._last_send = now
        report.sent += 1

    def _abandon(
        self,
        candidate: Candidate,
        *,
        token: str,
        status: CampaignStatus | None,
        now: datetime,
        day: str,
        report: SendReport,
    ) -> None:
        """The campaign stopped after our claim: give the recipient back, or skip it if ended."""
        if status is CampaignStatus.PAUSED:
            self._repo.release(candidate, token=token, now=now, retry_at=None)
        else:
            self._repo.record(
                candidate,
                outcome=RecipientStatus.SKIPPED,
                now=now,
                token=token,
                error=f"campaign {status}",
            )
            report.skipped += 1
        self._repo.release_slot(candidate.org_id, candidate.campaign_id, day)
        report.stopped = f"campaign {status.value if status else 'gone'}"

    def _pace(self, per_second: int) -> None:
        """Keep the sender number under its messages per second."""
        if self._last_send is None:
            return
        gap = 1.0 / max(1, per_second)
        elapsed = (self._clock.now() - self._last_send).total_seconds()
        if elapsed < gap:
            self._clock.sleep(gap - elapsed)

    def _expire_leases(self, page: list[Candidate], now: datetime, report: SendReport) -> None:
        """Claims whose worker died end ``unknown``: maybe sent, never re-sent blindly.

        Done on the pages the tick walks anyway; a campaign completes only once
        a walk has passed every open recipient, so none is left behind.
        """
        for candidate in page:
            expired = candidate.lease_until is not None and candidate.lease_until < now
            if not (candidate.status is RecipientStatus.SENDING and expired):
                continue
            if self._repo.record(
                candidate,
                outcome=RecipientStatus.UNKNOWN,
                now=now,
                token=None,
                error="claim expired",
            ):
                report.unknown += 1

    def _finish(
        self, campaign: Campaign, now: datetime, report: SendReport, *, reason: str
    ) -> None:
        """The campaign's end passed: complete it, then skip whoever was not reached."""
        report.completed = self._repo.complete(campaign.org_id, campaign.id, now)
        for candidate in self._repo.open_recipients(campaign.org_id, campaign.id):
            if candidate.status is RecipientStatus.PENDING and self._repo.record(
                candidate, outcome=RecipientStatus.SKIPPED, now=now, token=None, error=reason
            ):
                report.skipped += 1
        report.stopped = reason


@dataclass
class SenderFactory:
    """Builds a sender per unit of work (each paces its own sender number)."""

    clock: Clock = field(default_factory=SystemClock)
    provider: SmsProvider | None = None
    hooks: FaultHooks | None = None

    def __call__(self) -> CampaignSender:
        return CampaignSender(
            repository=SendingRepository(),
            organizations=IdentityRepository(),
            provider=self.provider or get_sms_provider(),
            clock=self.clock,
            hooks=self.hooks,
        )


@lru_cache(maxsize=1)
def get_sender_factory() -> SenderFactory:
    return SenderFactory()


def log_report(report: SendReport) -> None:
    logger.info(
        "campaign tick",
        extra={
            "org_id": report.org_id,
            "campaign_id": report.campaign_id,
            **report.as_dict(),
            "stopped": report.stopped,
        },
    )
