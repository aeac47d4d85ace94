"""The sender: one campaign's sends for one tick, keeping every promise of the sending rules.

For each open recipient, in order: the time rules (campaign window and days,
dates, the recipient's quiet hours in every zone the number may be in), a slot
of the day's cap, the claim, then the campaign's status and the opt-out list as
read within the send deadline before the provider call, then the provider,
then the outcome. See :mod:`outreach.sending.repository` for the claim protocol.

The status and the opt-outs are read once per :data:`SEND_DEADLINE_SECONDS`
(a :class:`Checkpoint`), not once per message: every provider call starts
within that deadline of a consistent read that showed the campaign active and
the number not opted out. ``pause`` and ``cancel`` wait the same deadline
after their write, so no message leaves after they return.
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
from outreach.sending.repository import (
    Candidate,
    Claim,
    ContactFields,
    SendingRepository,
    SentNote,
)
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
# Day-cap slots are reserved this many at a time (a crashed run leaks at most these).
SLOT_BLOCK = 10
# Reads of the status and opt-outs tried before a recipient is given back for now.
CHECK_ATTEMPTS = 3
# An opt-out list up to this long is read whole at each checkpoint.
OPT_OUT_LIST_AT_MOST = 200
# No new recipient is taken with less than this left before the function's timeout
# (seconds): one provider call (3 s to connect, 10 s to read) and its outcome's write.
TIME_MARGIN_SECONDS = 20.0


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


class Checkpoint:
    """The campaign's status and the opt-outs, read consistently at one moment.

    Valid for provider calls that start less than the send deadline after the
    read, on the sender's clock and on the real one (simulated clocks move only
    when told to), and only for the numbers it covers.
    """

    def __init__(
        self,
        clock: Clock,
        status: CampaignStatus | None,
        opted_out: set[str],
        covered: set[str] | None,
    ) -> None:
        self._clock = clock
        self._read_at = (clock.monotonic(), time.monotonic())
        self.status = status
        self.opted_out = opted_out
        self._covered = covered  # None: the whole list

    def valid_for(self, phone: str) -> bool:
        elapsed = max(
            self._clock.monotonic() - self._read_at[0], time.monotonic() - self._read_at[1]
        )
        fresh = elapsed < SEND_DEADLINE_SECONDS
        return fresh and (self._covered is None or phone in self._covered)


class Slots:
    """The day's cap slots this run holds: reserved a few at a time, the rest given back."""

    def __init__(self, repository: SendingRepository, campaign: Campaign) -> None:
        self._repo = repository
        self._campaign = campaign
        self._day: str | None = None
        self._free = 0

    def take(self, day: str, *, wanted: int, now: datetime) -> bool:
        """Hold one slot of ``day``; ``False`` when the day's cap is used up."""
        if day != self._day:
            self.give_back()
            self._day = day
        if self._free == 0:
            self._free = self._repo.reserve_slots(
                self._campaign.org_id,
                self._campaign.id,
                day,
                limit=self._campaign.daily_limit,
                wanted=max(1, min(SLOT_BLOCK, wanted)),
                now=now,
            )
            if self._free == 0:
                return False
        self._free -= 1
        return True

    def put_back(self) -> None:
        """A held slot was not used (nothing was sent): keep it for the next message."""
        self._free += 1

    def give_back(self) -> None:
        """Return the unused slots to the day's counter (at the end of the run)."""
        if self._day is not None and self._free:
            self._repo.release_slots(
                self._campaign.org_id, self._campaign.id, self._day, self._free
            )
        self._free = 0


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
        self._checkpoint: Checkpoint | None = None
        self._big_opt_out_list = False
        self._time_left: Callable[[], float] | None = None

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
        self._time_left = time_left
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
        slots = Slots(self._repo, campaign)
        try:
            seen = self._send_open_recipients(campaign, organization, limit, slots, report)
        finally:
            slots.give_back()
        closed = report.sent + report.failed + report.skipped + report.unknown
        if (
            not report.cap_reached
            and report.stopped is None
            and closed == seen  # the walk closed every open recipient it found
            and not self._repo.has_open(campaign.org_id, campaign.id)
        ):
            report.completed = self._repo.complete(campaign.org_id, campaign.id, self._clock.now())
        return report

    def _send_open_recipients(
        self,
        campaign: Campaign,
        organization: Organization,
        limit: int,
        slots: Slots,
        report: SendReport,
    ) -> int:
        """Walk the open recipients; return how many the walk found."""
        quiet = QuietHours.from_hhmm(organization.quiet_hours_start, organization.quiet_hours_end)
        templates = {v.name: parse_template(v.body) for v in campaign.variants}
        candidates = self._repo.open_recipients(campaign.org_id, campaign.id)
        seen = 0
        while window := list(islice(candidates, WINDOW)):
            seen += len(window)
            # Concurrent workers of one campaign (a duplicated delivery) read the
            # same index page: shuffled, they rarely reach for the same recipient.
            self._random.shuffle(window)
            for start in range(0, len(window), PAGE):
                page = _Page(campaign, organization, quiet, templates, window[start : start + PAGE])
                if not self._send_page(page, limit, slots, report):
                    return seen
        return seen

    def _send_page(self, page: _Page, limit: int, slots: Slots, report: SendReport) -> bool:
        """Try each candidate of a page; ``False`` once the tick must stop."""
        campaign = page.campaign
        now = self._clock.now()
        ready = [c for c in page.candidates if not (c.retry_at and c.retry_at > now)]
        if not ready:
            return True
        contacts = self._repo.contacts(campaign.org_id, (c.contact_id for c in ready))
        page.first_texts.update(self._repo.first_texts(campaign.org_id, (c.phone for c in ready)))
        try:
            return self._send_ready(page, ready, contacts, limit, slots, report)
        finally:
            if page.sent:
                self._repo.note_sends(campaign.org_id, page.sent)

    def _send_ready(  # noqa: PLR0917 - one page's state
        self,
        page: _Page,
        ready: list[Candidate],
        contacts: dict[str, ContactFields],
        limit: int,
        slots: Slots,
        report: SendReport,
    ) -> bool:
        for position, candidate in enumerate(ready):
            if report.sent >= limit:
                report.stopped = "budget used"
                return False
            if self._time_left is not None and self._time_left() < TIME_MARGIN_SECONDS:
                report.stopped = "out of time"
                return False
            contact = contacts.get(candidate.contact_id)
            if contact is None:
                if self._repo.record(
                    candidate,
                    outcome=RecipientStatus.SKIPPED,
                    now=self._clock.now(),
                    claim=None,
                    error="contact deleted",
                ):
                    report.skipped += 1
                continue
            zones = recipient_zones(contact.timezone, candidate.phone, page.organization.timezone)
            if not quiet_hours_allow(self._clock.now(), page.quiet, zones):
                report.quiet_hours_deferred += 1
                continue
            body = render_for_contact(page.templates[candidate.variant], contact.values)
            if candidate.phone not in page.first_texts and page.organization.opt_out_footer:
                body = f"{body}\n{page.organization.opt_out_footer}"
            upcoming = _Upcoming(ready, position)
            if not self._send_one(page, candidate, body, upcoming, limit, slots, report):
                return False
        return True

    def _send_one(  # noqa: PLR0917 - one message of one page
        self,
        page: _Page,
        candidate: Candidate,
        body: str,
        upcoming: _Upcoming,
        limit: int,
        slots: Slots,
        report: SendReport,
    ) -> bool:
        """Slot, claim, checks, provider, outcome. ``False`` when the tick must stop."""
        campaign, organization = page.campaign, page.organization
        assert organization.sender_number is not None
        self._pace(organization.messages_per_second)
        now = self._clock.now()
        day = now.astimezone(page.zone).date().isoformat()
        if not slots.take(day, wanted=limit - report.sent, now=now):
            report.cap_reached = True
            report.stopped = "daily limit reached"
            return False
        claim = self._repo.claim(candidate, token=uuid.uuid4().hex, now=now, lease=CLAIM_LEASE)
        if claim is None:
            slots.put_back()
            self._reap_if_expired(candidate, now, report)
            return True
        if self._hooks.after_claim:
            self._hooks.after_claim(candidate)
        checkpoint = self._check(campaign, candidate.phone, upcoming)
        if checkpoint is None:  # could not read in time: give the recipient back, go on
            self._repo.release(candidate, claim=claim, now=now, retry_at=None)
            slots.put_back()
            return True
        if checkpoint.status is not CampaignStatus.ACTIVE:
            self._abandon(candidate, claim=claim, status=checkpoint.status, now=now, report=report)
            slots.put_back()
            return False
        if candidate.phone in checkpoint.opted_out:
            self._repo.record(
                candidate, outcome=RecipientStatus.SKIPPED, now=now, claim=claim, error="opted out"
            )
            slots.put_back()
            report.skipped += 1
            return True
        message = OutboundMessage(
            org_id=campaign.org_id,
            from_number=organization.sender_number,
            to_number=candidate.phone,
            body=body,
            # Carried back on delivery receipts: they find the recipient by it.
            context={
                "org_id": campaign.org_id,
                "campaign_id": campaign.id,
                "contact_id": candidate.contact_id,
            },
        )
        outcome = self._deliver(candidate, message, claim, now=now, report=report)
        if outcome is RecipientStatus.SENT:
            first = page.first_texts.setdefault(candidate.phone, now)
            page.sent.append(SentNote(candidate, now, first))
        elif outcome is not RecipientStatus.UNKNOWN:  # unknown: maybe sent, the slot stays used
            slots.put_back()
        return report.stopped is None  # a pause for the account or throttling ends the run

    def _check(self, campaign: Campaign, phone: str, upcoming: _Upcoming) -> Checkpoint | None:
        """A checkpoint valid for ``phone`` now: the last one, or a fresh read."""
        for _ in range(CHECK_ATTEMPTS):
            if self._checkpoint is not None and self._checkpoint.valid_for(phone):
                return self._checkpoint
            self._checkpoint = self._read_checkpoint(campaign, upcoming)
        if self._checkpoint is not None and self._checkpoint.valid_for(phone):
            return self._checkpoint
        return None

    def _read_checkpoint(self, campaign: Campaign, upcoming: _Upcoming) -> Checkpoint:
        """Read the status, then the opt-outs: the whole list when small, else the page's numbers.

        A list of up to :data:`OPT_OUT_LIST_AT_MOST` numbers costs a read or two
        of a few kilobytes, less than a read per number of a page.
        """
        status = self._repo.campaign_status(campaign.org_id, campaign.id)
        whole = None
        if not self._big_opt_out_list:
            whole = self._repo.opt_out_list(campaign.org_id, at_most=OPT_OUT_LIST_AT_MOST)
            self._big_opt_out_list = whole is None
        if whole is not None:
            return Checkpoint(self._clock, status, whole, None)
        covered = upcoming.phones()
        return Checkpoint(
            self._clock, status, self._repo.opted_out(campaign.org_id, covered), covered
        )

    def _deliver(
        self,
        candidate: Candidate,
        message: OutboundMessage,
        claim: Claim,
        *,
        now: datetime,
        report: SendReport,
    ) -> RecipientStatus:
        """Call the provider and record what happened; the outcome (``pending``: a retry)."""
        try:
            result = self._provider.send(message, sent_at=now)
        except AccountSendError as error:
            # No recipient is at fault and none would go: hold the campaign for an operator.
            self._repo.release(candidate, claim=claim, now=now, retry_at=None, refund_attempt=True)
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
            report.stopped = f"paused: {error.code}"
            return RecipientStatus.PENDING
        except ThrottledSendError as error:
            # The provider's rate, not the recipient: no attempt spent; the next tick goes on.
            self._repo.release(candidate, claim=claim, now=now, retry_at=None, refund_attempt=True)
            report.retried += 1
            report.stopped = f"throttled: {error.code}"
            return RecipientStatus.PENDING
        except PermanentSendError as error:
            self._repo.record(
                candidate, outcome=RecipientStatus.FAILED, now=now, claim=claim, error=error.code
            )
            report.failed += 1
            return RecipientStatus.FAILED
        except TransientSendError as error:
            state = self._repo.recipient_state(candidate)
            attempts = state[2] if state else MAX_ATTEMPTS
            if attempts >= MAX_ATTEMPTS:
                self._repo.record(
                    candidate,
                    outcome=RecipientStatus.FAILED,
                    now=now,
                    claim=claim,
                    error=error.code,
                )
                report.failed += 1
                return RecipientStatus.FAILED
            retry_at = now + retry_delay(attempts)
            self._repo.release(candidate, claim=claim, now=now, retry_at=retry_at)
            report.retried += 1
            return RecipientStatus.PENDING
        except UnknownOutcomeError as error:
            # It may have been sent: report it, never send it again (its slot stays used).
            self._repo.record(
                candidate, outcome=RecipientStatus.UNKNOWN, now=now, claim=claim, error=error.code
            )
            report.unknown += 1
            return RecipientStatus.UNKNOWN
        if self._hooks.after_provider:
            self._hooks.after_provider(candidate)
        self._repo.record(
            candidate,
            outcome=RecipientStatus.SENT,
            now=now,
            message_id=result.message_id,
            claim=claim,
        )
        self._last_send = now
        report.sent += 1
        return RecipientStatus.SENT

    def _abandon(
        self,
        candidate: Candidate,
        *,
        claim: Claim,
        status: CampaignStatus | None,
        now: datetime,
        report: SendReport,
    ) -> None:
        """The campaign stopped after our claim: give the recipient back, or skip it if ended."""
        if status is CampaignStatus.PAUSED:
            self._repo.release(candidate, claim=claim, now=now, retry_at=None)
        else:
            self._repo.record(
                candidate,
                outcome=RecipientStatus.SKIPPED,
                now=now,
                claim=claim,
                error=f"campaign {status}",
            )
            report.skipped += 1
        report.stopped = f"campaign {status.value if status else 'gone'}"

    def _reap_if_expired(self, candidate: Candidate, now: datetime, report: SendReport) -> None:
        """A claim we could not take: if its worker died (lease over), it ends ``unknown``.

        Maybe sent, never re-sent blindly. Done on the recipients the tick walks
        anyway; a campaign completes only once none is open, so none is left behind.
        """
        state = self._repo.recipient_state(candidate)
        if state is None:
            return
        status, lease_until, _attempts = state
        if status is not RecipientStatus.SENDING or lease_until is None or lease_until >= now:
            return
        if self._repo.record(
            candidate, outcome=RecipientStatus.UNKNOWN, now=now, claim=None, error="claim expired"
        ):
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
        for candidate in self._repo.open_recipients(campaign.org_id, campaign.id):
            if self._repo.record(
                candidate, outcome=RecipientStatus.SKIPPED, now=now, claim=None, error=reason
            ):
                report.skipped += 1
        report.stopped = reason


@dataclass(frozen=True)
class _Upcoming:
    """The page's candidates from ``position`` on: whose opt-outs a by-number read covers."""

    ready: list[Candidate]
    position: int

    def phones(self) -> set[str]:
        return {c.phone for c in self.ready[self.position :]}


@dataclass(frozen=True)
class _Page:
    """One page of candidates and the campaign state it is sent under."""

    campaign: Campaign
    organization: Organization
    quiet: QuietHours
    templates: dict[str, Any]
    candidates: list[Candidate]
    # Numbers texted before (no footer) and when first; the page's sends, for their history.
    first_texts: dict[str, datetime] = field(default_factory=dict)
    sent: list[SentNote] = field(default_factory=list)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.campaign.timezone)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


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
