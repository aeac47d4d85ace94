"""The sender: one campaign's sends for one tick, keeping every promise of the sending rules.

Source: ``sending-rules.md``, "When a message may go out", "What is
guaranteed" and "State rules and languages" (rules 7, 8). For each open
recipient, in order: the time rules (campaign window and days, dates, then,
where the recipient is (:class:`~outreach.sending.rules.RecipientPlace`), its
quiet hours in every zone it may be in and the rules of each of its US states;
:mod:`outreach.sending.rules`), where the number may be texted
(:mod:`outreach.destinations`), a first look at its frequency window, a slot of
the campaign's day cap and one of the organization's day
(:mod:`outreach.sending.daily_cap`, :mod:`outreach.spend`), the claim, then the
campaign's status and the opt-out list as read within the send deadline before
the provider call (:mod:`outreach.sending.checkpoint`), then the provider, then
the outcome. See :mod:`outreach.sending.repository` for the claim protocol.

A run holds its organization's sending turn (:class:`~outreach.sending.domain.Turn`)
from its first send to its end: one run at a time per organization, so the
numbers' frequency windows (``contact_daily_limit``) are read consistently once a
page, checked in memory, and written once a page, exactly; the page in flight is
noted on the turn first, so a run that dies cannot let a number be texted again
within the window.

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

from outreach.campaigns.domain import Campaign
from outreach.campaigns.statuses import CampaignStatus, RecipientStatus
from outreach.campaigns.templates import Template, parse_template, render_for_contact
from outreach.clock import Clock, SystemClock
from outreach.contacts.opt_outs import with_footer
from outreach.contacts.ports import OptOutList
from outreach.contacts.repository import OptOutRepository
from outreach.conversations.messages import Direction, Message, MessageKind, MessageStatus
from outreach.data.binding import ensure_models_bound
from outreach.data.counters import DynamoCounters
from outreach.destinations import allowed_regions, not_textable_reason
from outreach.identity.domain import Organization
from outreach.identity.ports import OrganizationReader
from outreach.identity.repository import IdentityRepository
from outreach.ids import new_id
from outreach.observability import logger
from outreach.sending.checkpoint import Checkpoints, Upcoming
from outreach.sending.daily_cap import CampaignDay, Slots
from outreach.sending.dispatch import CampaignWork
from outreach.sending.domain import (
    CLAIM_EXPIRED,
    Candidate,
    Claim,
    ContactFields,
    Outcome,
    PhoneHistory,
    Retry,
    Turn,
    WaitingReason,
)
from outreach.sending.ports import SendingStore, SendingTurns
from outreach.sending.repository import SendingRepository, SendingTurnRepository
from outreach.sending.rules import (
    QuietHours,
    RecipientPlace,
    SendWindow,
    campaign_allows,
    recipient_hold,
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
from outreach.spend import BoundedCounters, OrganizationDay, next_text_allowed

MAX_ATTEMPTS = 3
# A claim not recorded within the lease ends "unknown" (the worker died).
CLAIM_LEASE = timedelta(minutes=5)
# Candidates are read WINDOW at a time and tried PAGE at a time (one batch read each).
WINDOW = 500
PAGE = 50
# No new recipient is taken with less than this left before the function's timeout
# (seconds): one provider call (3 s to connect, 10 s to read) and its outcome's write.
TIME_MARGIN_SECONDS = 20.0
# A run's turn outlasts its invocation by this much (Lambda ends the run at its timeout);
# a run with no known timeout (local, tests) holds it as long as a claim's lease.
TURN_MARGIN = timedelta(seconds=5)


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
    state_rule_deferred: int = 0
    held_back: int = 0  # the number had its contact_daily_limit of campaign texts
    cap_reached: bool = False
    org_cap_reached: bool = False
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
            "state_rule_deferred": self.state_rule_deferred,
            "held_back": self.held_back,
            "cap_reached": self.cap_reached,
            "org_cap_reached": self.org_cap_reached,
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
    turn: Turn
    quiet: QuietHours
    templates: dict[str, Template]
    allowed: frozenset[str]  # the countries the organization may text
    budget: int  # the most this tick may send
    slots: Slots  # of the campaign's daily_limit
    org_slots: Slots  # of the organization's daily_message_limit
    report: SendReport
    time_left: Callable[[], float] | None

    def out_of_time(self) -> bool:
        return self.time_left is not None and self.time_left() < TIME_MARGIN_SECONDS


@dataclass
class _Page:
    """One page of ready candidates, their contacts, and their numbers' histories as read
    (a number texted before gets no footer)."""

    ready: list[Candidate]
    contacts: dict[str, ContactFields]
    histories: dict[str, PhoneHistory]
    messages: list[Message] = field(default_factory=list)  # its texts, for conversations


@dataclass(frozen=True)
class _Held:
    """A recipient whose number this run claimed: the claim, and the number's history as
    it was before (what it goes back to if the text does not go)."""

    candidate: Candidate
    claim: Claim
    earlier: PhoneHistory | None


# A recipient given back (a retry, a paused campaign): no text went.
_PENDING = Outcome(RecipientStatus.PENDING)


def campaign_message(
    candidate: Candidate, message_id: str, body: str, outcome: Outcome, now: datetime
) -> Message:
    """A campaign text the provider took (``sent``, with its id) or may have (``unknown``),
    as a message of the number's conversation."""
    return Message(
        org_id=candidate.org_id,
        phone=candidate.phone,
        id=message_id,
        direction=Direction.OUTBOUND,
        kind=MessageKind.CAMPAIGN,
        body=body,
        status=MessageStatus(outcome.status.value),
        created_at=now,
        updated_at=now,
        campaign_id=candidate.campaign_id,
        variant=candidate.variant,
        contact_id=candidate.contact_id,
        provider_message_id=outcome.message_id,
        error=outcome.error,
    )


class CampaignSender:
    """Sends for one organization's campaigns, paced by its sender number's rate."""

    def __init__(
        self,
        *,
        repository: SendingStore,
        organizations: OrganizationReader,
        opt_outs: OptOutList,
        counters: BoundedCounters,
        turns: SendingTurns,
        provider: SmsProvider,
        clock: Clock,
        hooks: FaultHooks | None = None,
    ) -> None:
        self._repo = repository
        self._counters = counters
        self._turns = turns
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
        ended = campaign.end_at is not None and now >= campaign.end_at
        sender_number = organization.sender_number or ""
        if not ended and not sender_number:
            report.stop("no sender number")
            return report
        if not ended and not campaign_allows(now, campaign, SendWindow.of(campaign)):
            report.stop("outside the campaign's window")
            return report
        turn = self._turns.take(
            organization.id,
            token=uuid.uuid4().hex,
            now=now,
            until=now
            + (timedelta(seconds=time_left()) + TURN_MARGIN if time_left else CLAIM_LEASE),
        )
        if turn is None:
            report.stop("organization busy")  # another run sends for it; the next tick goes on
            return report
        if ended:
            try:
                self._finish(campaign, now, report, reason="campaign ended")
            finally:
                self._turns.give_back(organization.id, token=turn.token, now=self._clock.now())
            return report
        tick = _Tick(
            campaign=campaign,
            organization=organization,
            turn=turn,
            sender_number=sender_number,
            quiet=QuietHours.of(organization),
            templates={v.name: parse_template(v.body) for v in campaign.variants},
            allowed=allowed_regions(organization.allowed_countries, organization.sender_number),
            budget=budget if budget is not None else 60 * organization.messages_per_second,
            slots=Slots(CampaignDay(self._repo, campaign)),
            org_slots=Slots(OrganizationDay(self._counters, organization)),
            report=report,
            time_left=time_left,
        )
        try:
            seen = self._send_open_recipients(tick)
        except Exception:
            # Its page stays noted: the next turn closes what it may have sent unrecorded.
            self._turns.give_back(
                organization.id, token=turn.token, now=self._clock.now(), failed=True
            )
            raise
        finally:
            tick.slots.give_back()
            tick.org_slots.give_back()
        # Given back when the run ends (or fails) here, not when its process dies: then
        # the turn runs out, and its claims show what it may have texted.
        self._turns.give_back(organization.id, token=turn.token, now=self._clock.now())
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
        contact_ids = [c.contact_id for c in ready]
        if not self._turns.mark(
            org_id, token=tick.turn.token, campaign_id=tick.campaign.id, contact_ids=contact_ids
        ):
            return tick.report.stop("turn lost")
        page = _Page(
            ready,
            self._repo.contacts(org_id, contact_ids),
            self._repo.phone_histories(org_id, (c.phone for c in ready)),
        )
        try:
            for position, candidate in enumerate(ready):
                if self._turn(tick, page, candidate, Upcoming(ready, position)) is Step.STOP:
                    return Step.STOP
            return Step.NEXT
        finally:
            if page.messages:
                self._repo.note_texts(page.messages)

    def _turn(self, tick: _Tick, page: _Page, candidate: Candidate, upcoming: Upcoming) -> Step:
        """One recipient's turn: the tick's limits, a claim its campaign holds on the number
        already, the contact, where the number may be texted, quiet hours and its states'
        rules (pure CPU: the contact's zone and state came with the page's one batch
        read), its frequency window as the page read it, then the send."""
        report = tick.report
        if report.sent >= tick.budget:
            return report.stop("budget used")
        if tick.out_of_time():
            return report.stop("out of time")
        history = page.histories.get(candidate.phone)
        claimed = history.claim_of(candidate.campaign_id) if history else None
        if claimed is not None:
            return self._claimed_before(candidate, claimed, report)
        contact = page.contacts.get(candidate.contact_id)
        if contact is None:
            return self._skip(candidate, "contact deleted", report)
        refusal = not_textable_reason(candidate.phone, tick.allowed)
        if refusal is not None:  # the organization's countries changed since the start
            return self._skip(candidate, refusal.value, report)
        place = RecipientPlace.of(
            candidate.phone,
            timezone=contact.timezone,
            state=contact.state,
            fallback_zones=tick.organization.fallback_time_zones,
        )
        hold = recipient_hold(self._clock.now(), tick.quiet, place)
        if hold is WaitingReason.QUIET_HOURS:
            report.quiet_hours_deferred += 1
            return Step.NEXT
        if hold is WaitingReason.STATE_RULE:
            report.state_rule_deferred += 1
            return Step.NEXT
        held_until = next_text_allowed(
            history.recent if history else (),
            self._clock.now(),
            tick.organization.contact_daily_limit,
        )
        if held_until is not None:
            return self._hold_back(candidate, held_until, report)
        body = with_footer(
            render_for_contact(tick.templates[candidate.variant], contact.values),
            tick.organization.opt_out_footer,
            first_text=history is None or not history.texted,
        )
        return self._send_one(tick, page, candidate, body=body, upcoming=upcoming)

    def _send_one(
        self, tick: _Tick, page: _Page, candidate: Candidate, *, body: str, upcoming: Upcoming
    ) -> Step:
        """Slots, claim, checkpoint, provider, outcome."""
        campaign, report = tick.campaign, tick.report
        self._pace(tick.organization.messages_per_second)
        now = self._clock.now()
        wanted = tick.budget - report.sent
        if not tick.slots.take(now, wanted=wanted):
            report.cap_reached = True
            return report.stop("daily limit reached")
        if not tick.org_slots.take(now, wanted=wanted):
            tick.slots.put_back()
            report.org_cap_reached = True
            return report.stop("organization daily limit reached")

        def put_back() -> None:
            tick.slots.put_back()
            tick.org_slots.put_back()

        earlier = page.histories.get(candidate.phone)
        claim = Claim.of(uuid.uuid4().hex, now + CLAIM_LEASE)
        # (A campaign has one recipient per number: no later candidate of the page reads
        # this number's history again, so the page keeps the one it read.)
        if self._repo.claim(candidate, earlier, claim, now=now) is None:
            put_back()  # its campaign claimed the number since the page's read
            return Step.NEXT
        held = _Held(candidate, claim, earlier)
        if self._hooks.after_claim:
            self._hooks.after_claim(candidate)
        checkpoint = self._checkpoints.for_send(campaign, candidate.phone, upcoming)
        if checkpoint is None:  # could not read in time: give the recipient back, go on
            self._not_sent(held, Retry(), attempted=False, now=now)
            put_back()
            return Step.NEXT
        if checkpoint.status is not CampaignStatus.ACTIVE:
            step = self._abandon(held, status=checkpoint.status, now=now, report=report)
            put_back()
            return step
        if candidate.phone in checkpoint.opted_out:
            skipped = Outcome(RecipientStatus.SKIPPED, error="opted out")
            self._not_sent(held, skipped, attempted=False, now=now)
            put_back()
            report.skipped += 1
            return Step.NEXT
        message_id = new_id(now)
        message = OutboundMessage(
            org_id=campaign.org_id,
            from_number=tick.sender_number,
            to_number=candidate.phone,
            body=body,
            # Carried back on delivery receipts: they find the recipient, and the text's
            # message in the conversation, by it.
            context={
                "org_id": campaign.org_id,
                "campaign_id": campaign.id,
                "contact_id": candidate.contact_id,
                "message_id": message_id,
            },
        )
        outcome, step = self._deliver(held, message, now=now, report=report)
        if outcome.status in (RecipientStatus.SENT, RecipientStatus.UNKNOWN):
            # It went (or may have): its slots stay used, and its number's history counts it.
            page.messages.append(campaign_message(candidate, message_id, body, outcome, now))
        else:
            put_back()
        return step

    def _not_sent(
        self,
        held: _Held,
        end: Outcome | Retry,
        *,
        attempted: bool,
        now: datetime,
    ) -> None:
        """The text under ``held`` did not go: the recipient is closed with ``end`` (an
        :class:`Outcome`; the claim stays, closed) or waits for ``end`` (a
        :class:`Retry`; the claim goes), and the number's history is as it was. The
        recipient is written first when closed, last when it waits: a run that dies in
        between leaves the claim, so the text is never counted as not sent when it may
        have been. ``attempted``: the provider was called."""
        candidate = held.candidate
        if isinstance(end, Outcome):
            self._repo.record(candidate, end, attempted=attempted, now=now)
            self._repo.unclaim(candidate, held.claim, held.earlier, closed_at=now)
        else:
            self._repo.unclaim(candidate, held.claim, held.earlier, closed_at=None)
            self._repo.release(candidate, end, attempted=attempted, now=now)

    def _skip(self, candidate: Candidate, reason: str, report: SendReport) -> Step:
        """A pending recipient that will never be texted ends ``skipped`` with ``reason``."""
        skipped = Outcome(RecipientStatus.SKIPPED, error=reason)
        if self._repo.record(candidate, skipped, attempted=False, now=self._clock.now()):
            report.skipped += 1
        return Step.NEXT

    def _claimed_before(self, candidate: Candidate, claim: Claim, report: SendReport) -> Step:
        """A recipient whose number its campaign claimed already: recorded since (the open
        index, eventually consistent, is behind), or claimed by a run that died.

        Never texted again. Once the claim's lease has ended, a recipient still pending
        ends ``unknown`` (maybe sent; the conditional write fails harmlessly when it was
        recorded); before, its run may yet record it.
        """
        now = self._clock.now()
        if claim.until >= now:
            return Step.NEXT
        expired = Outcome(RecipientStatus.UNKNOWN, error=CLAIM_EXPIRED)
        if self._repo.record(candidate, expired, attempted=True, now=now):
            report.unknown += 1
        return Step.NEXT

    def _hold_back(self, candidate: Candidate, until: datetime, report: SendReport) -> Step:
        """The number had its ``contact_daily_limit``: the recipient waits until ``until``
        (not skipped), and its send says why."""
        reason, now = WaitingReason.FREQUENCY_CAP, self._clock.now()
        if self._repo.hold_back(candidate, until=until, reason=reason, now=now):
            report.held_back += 1
        return Step.NEXT

    def _deliver(
        self,
        held: _Held,
        message: OutboundMessage,
        *,
        now: datetime,
        report: SendReport,
    ) -> tuple[Outcome, Step]:
        """Call the provider and record what happened: the outcome (``pending``: a retry)
        and whether the tick goes on (an account refusal or throttling ends it)."""
        candidate = held.candidate
        try:
            result = self._provider.send(message, sent_at=now)
        except AccountSendError as error:
            # No recipient is at fault and none would go: hold the campaign for an operator.
            self._not_sent(held, Retry(), attempted=False, now=now)
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
            return _PENDING, report.stop(f"paused: {error.code}")
        except ThrottledSendError as error:
            # The provider's rate, not the recipient: no attempt spent; the next tick goes on.
            self._not_sent(held, Retry(), attempted=False, now=now)
            report.retried += 1
            return _PENDING, report.stop(f"throttled: {error.code}")
        except PermanentSendError as error:
            failed = Outcome(RecipientStatus.FAILED, error=error.code)
            self._not_sent(held, failed, attempted=True, now=now)
            report.failed += 1
            return failed, Step.NEXT
        except TransientSendError as error:
            state = self._repo.recipient_state(candidate)
            attempts = (state.attempts if state else MAX_ATTEMPTS) + 1  # this one counted
            if attempts >= MAX_ATTEMPTS:
                failed = Outcome(RecipientStatus.FAILED, error=error.code)
                self._not_sent(held, failed, attempted=True, now=now)
                report.failed += 1
                return failed, Step.NEXT
            retry = Retry(at=now + retry_delay(attempts), reason=WaitingReason.RETRY)
            self._not_sent(held, retry, attempted=True, now=now)
            report.retried += 1
            return _PENDING, Step.NEXT
        except UnknownOutcomeError as error:
            # It may have been sent: report it, never send it again (its claim stays).
            unknown = Outcome(RecipientStatus.UNKNOWN, error=error.code)
            self._record_went(held, unknown, now)
            report.unknown += 1
            return unknown, Step.NEXT
        if self._hooks.after_provider:
            self._hooks.after_provider(candidate)
        sent = Outcome(RecipientStatus.SENT, message_id=result.message_id)
        self._record_went(held, sent, now)
        self._last_send = now
        report.sent += 1
        return sent, Step.NEXT

    def _record_went(self, held: _Held, outcome: Outcome, now: datetime) -> None:
        """Record a text that went (or may have); its claim stays on the number."""
        if not self._repo.record(held.candidate, outcome, attempted=True, now=now):
            # Only a cancel or a takeover that found its claim expired closes it.
            logger.warning(
                "a text went to a recipient closed meanwhile",
                extra={
                    "org_id": held.candidate.org_id,
                    "campaign_id": held.candidate.campaign_id,
                    "contact_id": held.candidate.contact_id,
                    "status": outcome.status.value,
                },
            )

    def _abandon(
        self,
        held: _Held,
        *,
        status: CampaignStatus | None,
        now: datetime,
        report: SendReport,
    ) -> Step:
        """The campaign stopped after our claim: give the recipient back, or skip it if ended."""
        if status is CampaignStatus.PAUSED:
            self._not_sent(held, Retry(), attempted=False, now=now)
        else:
            skipped = Outcome(RecipientStatus.SKIPPED, error=f"campaign {status}")
            self._not_sent(held, skipped, attempted=False, now=now)
            report.skipped += 1
        return report.stop(f"campaign {status.value if status else 'gone'}")

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
        """The campaign's end passed: complete it, then close whoever was not reached:
        ``skipped``, or ``unknown`` when its campaign holds a claim on the number (a run
        that died may have texted it; no run of the campaign records it any more)."""
        report.completed = self._repo.complete(campaign.org_id, campaign.id, now)
        skipped = Outcome(RecipientStatus.SKIPPED, error=reason)
        maybe_sent = Outcome(RecipientStatus.UNKNOWN, error=CLAIM_EXPIRED)
        open_recipients = self._repo.open_recipients(campaign.org_id, campaign.id)
        while chunk := list(islice(open_recipients, PAGE)):
            histories = self._repo.phone_histories(campaign.org_id, (c.phone for c in chunk))
            for candidate in chunk:
                history = histories.get(candidate.phone)
                if history and history.claim_of(campaign.id):
                    if self._repo.record(candidate, maybe_sent, attempted=True, now=now):
                        report.unknown += 1
                elif self._repo.record(candidate, skipped, attempted=False, now=now):
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
            counters=DynamoCounters(),
            turns=SendingTurnRepository(),
            provider=self.provider or get_sms_provider(),
            clock=self.clock,
            hooks=self.hooks,
        )


@lru_cache(maxsize=1)
def get_sender_factory() -> SenderFactory:
    """The process-wide factory (system clock, the configured provider)."""
    return SenderFactory()
