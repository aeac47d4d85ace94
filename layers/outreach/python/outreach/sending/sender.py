"""The sender: one campaign's sends for one tick, keeping every promise of the sending rules.

Source: ``sending-rules.md``, "When a message may go out" and "What is
guaranteed". For each open recipient, in order: the time rules (campaign
window and days, dates, the recipient's quiet hours in every zone the number
may be in; :mod:`outreach.sending.rules`), a slot of the day's cap
(:mod:`outreach.sending.daily_cap`), the claim, then the campaign's status and
the opt-out list as read within the send deadline before the provider call
(:mod:`outreach.sending.checkpoint`), then the provider, then the outcome. See
:mod:`outreach.sending.repository` for the claim protocol.

Each recipient's turn ends in a :class:`Step`: go on to the next one, or stop
the tick (the report's ``stopped`` says why).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache
from itertools import islice
from typing import Any

from outreach.campaigns.domain import Campaign, CampaignStatus, RecipientStatus
from outreach.campaigns.templates import Template, parse_template, render_for_contact
from outreach.clock import Clock, SystemClock
from outreach.contacts.opt_outs import with_footer
from outreach.contacts.ports import OptOutList
from outreach.contacts.repository import OptOutRepository
from outreach.data.binding import ensure_models_bound
from outreach.identity.domain import Organization
from outreach.identity.ports import OrganizationReader
from outreach.identity.repository import IdentityRepository
from outreach.observability import logger
from outreach.sending.checkpoint import Checkpoints, Upcoming
from outreach.sending.daily_cap import Slots
from outreach.sending.dispatch import CampaignWork
from outreach.sending.domain import Candidate, Claim, ContactFields, Outcome, Retry, SentNote
from outreach.sending.ports import SendingStore
from outreach.sending.repository import SendingRepository
from outreach.sending.rules import (
    QuietHours,
    SendWindow,
    campaign_window_allows,
    quiet_hours_allow,
    recipient_zones,
    within_dates,
)
from outreach.sms.providers import (
    AccountSendError,
    OutboundMessage,
    PermanentSendError,
    SmsProvider,
    ThrottledSendError,
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
# No new recipient is taken with less than this left before the function's timeout
# (seconds): one provider call (3 s to connect, 10 s to read) and its outcome's write.
TIME_MARGIN_SECONDS = 20.0


class Step(Enum):
    """How a tick goes on after one recipient (or one page) of the walk."""

    NEXT = "next"  # on to the next recipient
    STOP = "stop"  # the tick ends here; ``SendReport.stopped`` says why


@dataclass
class SendReport:
    """What one campaign's tick did: outcome counts, and why it stopped (``None``: it did not)."""

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

    def stop(self, reason: str) -> Step:
        """End the tick for ``reason`` (``"budget used"``, ``"campaign paused"``...)."""
        self.stopped = reason
        return Step.STOP

    def as_dict(self) -> dict[str, Any]:
        """The counts and flags as the ``campaign tick`` log line carries them."""
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


@dataclass
class _Tick:
    """One campaign's tick: what every recipient's turn is sent under, and its report."""

    campaign: Campaign
    organization: Organization
    sender_number: str
    quiet: QuietHours
    templates: dict[str, Template]
    budget: int  # the most this tick may send
    slots: Slots
    report: SendReport
    time_left: Callable[[], float] | None

    def out_of_time(self) -> bool:
        return self.time_left is not None and self.time_left() < TIME_MARGIN_SECONDS


@dataclass
class _Page:
    """One page of ready candidates, with the numbers texted before and the page's sends."""

    ready: list[Candidate]
    contacts: dict[str, ContactFields]
    # Numbers texted before (no footer) and when first; the page's sends, for their history.
    first_texts: dict[str, datetime] = field(default_factory=dict)
    sent: list[SentNote] = field(default_factory=list)


class CampaignSender:
    """Sends for one organization's campaigns, paced by its sender number's rate."""

    def __init__(
        self,
        *,
        repository: SendingStore,
        organizations: OrganizationReader,
        opt_outs: OptOutList,
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
        self._checkpoints = Checkpoints(repository, opt_outs, clock)

    def run(
        self,
        work: CampaignWork,
        *,
        budget: int | None = None,
        time_left: Callable[[], float] | None = None,
    ) -> SendReport:
        """Send what the rules allow now, at most ``budget`` (default: a minute at the rate).

        ``time_left`` gives the seconds before the invocation's timeout (Lambda's
        ``context.get_remaining_time_in_millis() / 1000``): below
        :data:`TIME_MARGIN_SECONDS` no new recipient is taken, unused cap slots are
        given back, and the rest waits for the next tick (``stopped = "out of time"``).
        """
        report = SendReport(org_id=work.org_id, campaign_id=work.campaign_id)
        campaign = self._repo.campaign(work.org_id, work.campaign_id)
        if campaign is None or campaign.status is not CampaignStatus.ACTIVE:
            report.stop("not active")
            return report
        organization = self._organizations.get_organization(work.org_id)
        now = self._clock.now()
        if campaign.end_at is not None and now >= campaign.end_at:
            self._finish(campaign, now, report, reason="campaign ended")
            return report
        if not organization.sender_number:
            report.stop("no sender number")
            return report
        window = SendWindow.from_hhmm(
            campaign.timezone, campaign.window.start, campaign.window.end, campaign.window.days
        )
        if not (
            within_dates(now, campaign.start_at, campaign.end_at)
            and campaign_window_allows(now, window)
        ):
            report.stop("outside the campaign's window")
            return report
        tick = _Tick(
            campaign=campaign,
            organization=organization,
            sender_number=organization.sender_number,
            quiet=QuietHours.from_hhmm(
                organization.quiet_hours_start, organization.quiet_hours_end
            ),
            templates={v.name: parse_template(v.body) for v in campaign.variants},
            budget=budget if budget is not None else 60 * organization.messages_per_second,
            slots=Slots(self._repo, campaign),
            report=report,
            time_left=time_left,
        )
        try:
            seen = self._send_open_recipients(tick)
        finally:
            tick.slots.give_back()
        closed = report.sent + report.failed + report.skipped + report.unknown
        if (
            not report.cap_reached
            and report.stopped is None
            and closed == seen  # the walk closed every open recipient it found
            and not self._repo.has_open(campaign.org_id, campaign.id)
        ):
            report.completed = self._repo.complete(campaign.org_id, campaign.id, self._clock.now())
        return report

    def _send_open_recipients(self, tick: _Tick) -> int:
        """Walk the open recipients until the tick stops; return how many the walk found."""
        campaign = tick.campaign
        candidates = self._repo.open_recipients(campaign.org_id, campaign.id)
        seen = 0
        while window := list(islice(candidates, WINDOW)):
            seen += len(window)
            # Concurrent workers of one campaign (a duplicated delivery) read the
            # same index page: shuffled, they rarely reach for the same recipient.
            self._random.shuffle(window)
            for start in range(0, len(window), PAGE):
                if self._send_page(tick, window[start : start + PAGE]) is Step.STOP:
                    return seen
        return seen

    def _send_page(self, tick: _Tick, candidates: list[Candidate]) -> Step:
        """Try each candidate of a page whose retry (if any) is due; one batch read of each kind."""
        org_id = tick.campaign.org_id
        now = self._clock.now()
        ready = [c for c in candidates if not (c.retry_at and c.retry_at > now)]
        if not ready:
            return Step.NEXT
        page = _Page(ready, self._repo.contacts(org_id, (c.contact_id for c in ready)))
        page.first_texts.update(self._repo.first_texts(org_id, (c.phone for c in ready)))
        try:
            for position, candidate in enumerate(ready):
                if self._turn(tick, page, candidate, Upcoming(ready, position)) is Step.STOP:
                    return Step.STOP
            return Step.NEXT
        finally:
            if page.sent:
                self._repo.note_sends(org_id, page.sent)

    def _turn(self, tick: _Tick, page: _Page, candidate: Candidate, upcoming: Upcoming) -> Step:
        """One recipient's turn: the tick's limits, the contact, quiet hours, then the send."""
        report = tick.report
        if report.sent >= tick.budget:
            return report.stop("budget used")
        if tick.out_of_time():
            return report.stop("out of time")
        contact = page.contacts.get(candidate.contact_id)
        if contact is None:
            skipped = Outcome(RecipientStatus.SKIPPED, error="contact deleted")
            if self._repo.record(candidate, skipped, claim=None, now=self._clock.now()):
                report.skipped += 1
            return Step.NEXT
        zones = recipient_zones(contact.timezone, candidate.phone, tick.organization.timezone)
        if not quiet_hours_allow(self._clock.now(), tick.quiet, zones):
            report.quiet_hours_deferred += 1
            return Step.NEXT
        body = with_footer(
            render_for_contact(tick.templates[candidate.variant], contact.values),
            tick.organization.opt_out_footer,
            first_text=candidate.phone not in page.first_texts,
        )
        return self._send_one(tick, page, candidate, body=body, upcoming=upcoming)

    def _send_one(
        self, tick: _Tick, page: _Page, candidate: Candidate, *, body: str, upcoming: Upcoming
    ) -> Step:
        """Slot, claim, checkpoint, provider, outcome."""
        campaign, report, slots = tick.campaign, tick.report, tick.slots
        self._pace(tick.organization.messages_per_second)
        now = self._clock.now()
        if not slots.take(now, wanted=tick.budget - report.sent):
            report.cap_reached = True
            return report.stop("daily limit reached")
        claim = self._repo.claim(candidate, token=uuid.uuid4().hex, now=now, lease=CLAIM_LEASE)
        if claim is None:
            slots.put_back()
            self._reap_if_expired(candidate, now, report)
            return Step.NEXT
        if self._hooks.after_claim:
            self._hooks.after_claim(candidate)
        checkpoint = self._checkpoints.for_send(campaign, candidate.phone, upcoming)
        if checkpoint is None:  # could not read in time: give the recipient back, go on
            self._repo.release(candidate, claim, Retry(), now=now)
            slots.put_back()
            return Step.NEXT
        if checkpoint.status is not CampaignStatus.ACTIVE:
            step = self._abandon(
                candidate, claim=claim, status=checkpoint.status, now=now, report=report
            )
            slots.put_back()
            return step
        if candidate.phone in checkpoint.opted_out:
            skipped = Outcome(RecipientStatus.SKIPPED, error="opted out")
            self._repo.record(candidate, skipped, claim=claim, now=now)
            slots.put_back()
            report.skipped += 1
            return Step.NEXT
        message = OutboundMessage(
            org_id=campaign.org_id,
            from_number=tick.sender_number,
            to_number=candidate.phone,
            body=body,
            # Carried back on delivery receipts: they find the recipient by it.
            context={
                "org_id": campaign.org_id,
                "campaign_id": campaign.id,
                "contact_id": candidate.contact_id,
            },
        )
        outcome, step = self._deliver(candidate, message, claim, now=now, report=report)
        if outcome is RecipientStatus.SENT:
            first = page.first_texts.setdefault(candidate.phone, now)
            page.sent.append(SentNote(candidate, now, first))
        elif outcome is not RecipientStatus.UNKNOWN:  # unknown: maybe sent, the slot stays used
            slots.put_back()
        return step

    def _deliver(
        self,
        candidate: Candidate,
        message: OutboundMessage,
        claim: Claim,
        *,
        now: datetime,
        report: SendReport,
    ) -> tuple[RecipientStatus, Step]:
        """Call the provider and record what happened: the outcome (``pending``: a retry)
        and whether the tick goes on (an account refusal or throttling ends it)."""
        try:
            result = self._provider.send(message, sent_at=now)
        except AccountSendError as error:
            # No recipient is at fault and none would go: hold the campaign for an operator.
            self._repo.release(candidate, claim, Retry(refund_attempt=True), now=now)
            reason = f"{error.code}: {error.detail}" if error.detail else error.code
            self._repo.pause_for_account(message.org_id, candidate.campaign_id, reason, now)
            logger.warning(
                "campaign paused: the provider refused the account",
                extra={
                    "org_id": message.org_id,
                    "campaign_id": candidate.campaign_id,
                    "code": error.code,
                },
            )
            return RecipientStatus.PENDING, report.stop(f"paused: {error.code}")
        except ThrottledSendError as error:
            # The provider's rate, not the recipient: no attempt spent; the next tick goes on.
            self._repo.release(candidate, claim, Retry(refund_attempt=True), now=now)
            report.retried += 1
            return RecipientStatus.PENDING, report.stop(f"throttled: {error.code}")
        except PermanentSendError as error:
            failed = Outcome(RecipientStatus.FAILED, error=error.code)
            self._repo.record(candidate, failed, claim=claim, now=now)
            report.failed += 1
            return RecipientStatus.FAILED, Step.NEXT
        except TransientSendError as error:
            state = self._repo.recipient_state(candidate)
            attempts = state.attempts if state else MAX_ATTEMPTS
            if attempts >= MAX_ATTEMPTS:
                failed = Outcome(RecipientStatus.FAILED, error=error.code)
                self._repo.record(candidate, failed, claim=claim, now=now)
                report.failed += 1
                return RecipientStatus.FAILED, Step.NEXT
            retry_at = now + retry_delay(attempts)
            self._repo.release(candidate, claim, Retry(at=retry_at), now=now)
            report.retried += 1
            return RecipientStatus.PENDING, Step.NEXT
        except UnknownOutcomeError as error:
            # It may have been sent: report it, never send it again (its slot stays used).
            unknown = Outcome(RecipientStatus.UNKNOWN, error=error.code)
            self._repo.record(candidate, unknown, claim=claim, now=now)
            report.unknown += 1
            return RecipientStatus.UNKNOWN, Step.NEXT
        if self._hooks.after_provider:
            self._hooks.after_provider(candidate)
        sent = Outcome(RecipientStatus.SENT, message_id=result.message_id)
        self._repo.record(candidate, sent, claim=claim, now=now)
        self._last_send = now
        report.sent += 1
        return RecipientStatus.SENT, Step.NEXT

    def _abandon(
        self,
        candidate: Candidate,
        *,
        claim: Claim,
        status: CampaignStatus | None,
        now: datetime,
        report: SendReport,
    ) -> Step:
        """The campaign stopped after our claim: give the recipient back, or skip it if ended."""
        if status is CampaignStatus.PAUSED:
            self._repo.release(candidate, claim, Retry(), now=now)
        else:
            skipped = Outcome(RecipientStatus.SKIPPED, error=f"campaign {status}")
            self._repo.record(candidate, skipped, claim=claim, now=now)
            report.skipped += 1
        return report.stop(f"campaign {status.value if status else 'gone'}")

    def _reap_if_expired(self, candidate: Candidate, now: datetime, report: SendReport) -> None:
        """A claim we could not take: if its worker died (lease over), it ends ``unknown``.

        Maybe sent, never re-sent blindly. Done on the recipients the tick walks
        anyway; a campaign completes only once none is open, so none is left behind.
        """
        state = self._repo.recipient_state(candidate)
        if state is None:
            return
        if (
            state.status is not RecipientStatus.SENDING
            or state.lease_until is None
            or state.lease_until >= now
        ):
            return
        expired = Outcome(RecipientStatus.UNKNOWN, error="claim expired")
        if self._repo.record(candidate, expired, claim=None, now=now):
            report.unknown += 1

    def _pace(self, per_second: int) -> None:
        """Keep the sender number under its messages per second."""
        if self._last_send is None:
            return
        gap = 1.0 / max(1, per_second)
        elapsed = (self._clock.now() - self._last_send).total_seconds()
        if elapsed < gap:
            self._clock.sleep(gap - elapsed)

    def _finish(
        self, campaign: Campaign, now: datetime, report: SendReport, *, reason: str
    ) -> None:
        """The campaign's end passed: complete it, then skip whoever was not reached."""
        report.completed = self._repo.complete(campaign.org_id, campaign.id, now)
        skipped = Outcome(RecipientStatus.SKIPPED, error=reason)
        for candidate in self._repo.open_recipients(campaign.org_id, campaign.id):
            if self._repo.record(candidate, skipped, claim=None, now=now):
                report.skipped += 1
        report.stop(reason)


@dataclass
class SenderFactory:
    """Builds a sender per unit of work (each paces its own sender number).

    The one place that names the DynamoDB repositories of the sender; it binds
    the models to the configured tables first.
    """

    clock: Clock = field(default_factory=SystemClock)
    provider: SmsProvider | None = None
    hooks: FaultHooks | None = None

    def __call__(self) -> CampaignSender:
        ensure_models_bound()
        return CampaignSender(
            repository=SendingRepository(),
            organizations=IdentityRepository(),
            opt_outs=OptOutRepository(),
            provider=self.provider or get_sms_provider(),
            clock=self.clock,
            hooks=self.hooks,
        )


@lru_cache(maxsize=1)
def get_sender_factory() -> SenderFactory:
    """The process-wide factory (system clock, the configured provider)."""
    return SenderFactory()
